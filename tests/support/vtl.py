"""API Gateway's mapping-template variables, for rendering a template with ``airspeed``.

What API Gateway gives a request template (`$input`, `$util`, `$context`), as its
"Variables for data transformations" reference describes them
(docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html).
The template itself is rendered by airspeed, the Velocity engine the AWS emulators use.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import airspeed
import requests

#: Java ``String`` methods the templates call that airspeed does not provide itself.
airspeed.__additional_methods__[str].update(
    {"toString": lambda self: self, "equals": lambda self, other: self == other}
)

#: What Apache Commons Lang's ``escapeJavaScript`` (Java Velocity's, hence API Gateway's)
#: writes for the characters it escapes by name; others below 32 become ``\\u00XX``.
_NAMED_ESCAPES = {
    "'": "\\'",
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\n": "\\n",
    "\t": "\\t",
    "\f": "\\f",
    "\r": "\\r",
}


def escape_javascript(text: str) -> str:
    """``$util.escapeJavaScript``: "escapes the characters in a string using JavaScript string
    rules" and turns every ``'`` into ``\\'`` (the reference's own note).

    Java strings are UTF-16, so a character outside the ASCII range becomes one ``\\uXXXX``
    per UTF-16 code unit (two for an emoji), hex in upper case.
    """
    out = []
    units = text.encode("utf-16-be")
    for index in range(0, len(units), 2):
        unit = int.from_bytes(units[index : index + 2], "big")
        char = chr(unit)
        if char in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[char])
        elif unit < 32 or unit > 0x7F:
            out.append(f"\\u{unit:04X}")
        else:
            out.append(char)
    return "".join(out)


class Input:
    """``$input`` of a request whose body is ``body`` (text)."""

    def __init__(self, body: str) -> None:
        self.body = body

    def json(self, expression: str) -> str:
        """``$input.json('$.a')``: the value at a simple dotted path, as JSON text."""
        return json.dumps(self.path(expression), ensure_ascii=False, separators=(",", ":"))

    def path(self, expression: str) -> Any:
        """``$input.path('$.a.b')``: the value at a simple dotted path of the JSON body."""
        value: Any = json.loads(self.body)
        for part in expression.removeprefix("$").strip(".").split("."):
            value = value[part] if part else value
        return value


class Util:
    """``$util``: the functions the templates under test call."""

    def escapeJavaScript(self, text: str) -> str:  # API Gateway's names for them
        return escape_javascript(text)

    def urlEncode(self, value: str) -> str:
        """Java's ``URLEncoder.encode(value, "UTF-8")``: form encoding, space as ``+``."""
        return quote_plus(value, safe="*")


def render(template: str, body: str, context: dict[str, Any] | None = None) -> str:
    """``template`` rendered for a request with ``body``, as API Gateway sends it on."""
    namespace = {"input": Input(body), "util": Util(), "context": context or {}}
    return str(airspeed.Template(template).merge(namespace))


def integration_response(responses: list[dict[str, Any]], status: int) -> dict[str, Any]:
    """The integration response API Gateway picks for an AWS integration's HTTP ``status``:
    the one whose ``SelectionPattern`` (a regular expression) matches the status code, else the
    one without a pattern ("Set up an integration response in API Gateway",
    apigateway/latest/developerguide/api-gateway-integration-settings-integration-response.html).
    """
    matching = [
        r
        for r in responses
        if "SelectionPattern" in r and re.fullmatch(r["SelectionPattern"], str(status))
    ]
    [chosen] = matching or [r for r in responses if "SelectionPattern" not in r]
    return chosen


@dataclass
class Answer:
    """What API Gateway answers the caller: the status and the parsed JSON body."""

    status: int
    body: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)


def send_to_sqs(integration: dict[str, Any], queue_url: str, body: str, request_id: str) -> Answer:
    """An AWS integration with SQS as API Gateway runs it for a request with ``body``: the
    request template rendered and sent to the (moto) queue in SQS's query protocol, the
    integration response chosen by SQS's HTTP status and its template rendered."""
    context: dict[str, Any] = {"requestId": request_id, "responseOverride": {}}
    form = render(integration["RequestTemplates"]["application/json"], body, context)
    response = requests.post(
        queue_url,
        data=form.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        timeout=10,
    )
    chosen = integration_response(integration["IntegrationResponses"], response.status_code)
    text = render(chosen["ResponseTemplates"]["application/json"], response.text, context)
    status = int(context["responseOverride"].get("status", chosen["StatusCode"]))
    return Answer(status, json.loads(text), context)
