"""The Standard workflow API's StartExecution request, rendered as API Gateway renders it.

The mapping template is rendered by a Velocity engine (airspeed) with API Gateway's
``$input`` and ``$util`` (tests/workflow/vtl.py), and the result is read as StartExecution
reads it: the request is JSON, and its ``input`` a string that must itself be JSON
(StartExecution, Step Functions API reference: docs.aws.amazon.com/step-functions/latest/
apireference/API_StartExecution.html, "input": "The string that contains the JSON input data
for the execution"). ``$util.escapeJavaScript`` turns ``'`` into ``\\'``, which JSON does not
allow: API Gateway's reference, "Variables for data transformations for API Gateway"
(docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html,
``$util.escapeJavaScript``), says to turn it back into ``'`` when the result goes into JSON.
"""

import json
from typing import Any

import pytest

from tests.support.cdk import only
from tests.support.emulation.intrinsics import Resolver
from tests.support.vtl import escape_javascript, integration_response, render

BODIES = {
    "double quotes": {"note": 'say "hello"'},
    "apostrophes": {"customer": "O'Brien", "note": "it's 'quoted'"},
    "backslashes": {"path": "C:\\orders\\new", "regex": "\\d+\\'"},
    "newlines and tabs": {"address": "1 Main St\nSpringfield\tUSA\r\n"},
    "control characters": {"raw": "bell\u0007 nul\u0000 esc\u001b"},
    "non-ASCII": {"name": "Zoë Ñúñez", "city": "Zürich", "greeting": "こんにちは 👋"},
    "slashes and HTML": {"url": "https://example.com/a/b?c=1", "html": "</script>"},
    "nested": {"order": {"items": [{"sku": "book-42", "qty": 2}], "gift": True, "n": None}},
    "array": [1, "two", {"three": 3.5}],
    "empty object": {},
}


@pytest.fixture(scope="module")
def start_execution(variants: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """The (resolved) request template of the Standard API, and its state machine's name."""
    template = variants["Triggers"]
    machine_id, _ = only(template, "AWS::StepFunctions::StateMachine")
    _, method = only(template, "AWS::ApiGateway::Method")
    request = Resolver(template)(method["Integration"]["RequestTemplates"]["application/json"])
    return request, machine_id


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_execution_input_is_the_request_body_whatever_it_holds(
    start_execution: tuple[str, str], body: Any
) -> None:
    template, machine_id = start_execution
    request = json.loads(render(template, json.dumps(body)))
    assert request["stateMachineArn"] == machine_id
    assert json.loads(request["input"]) == {"body": body}


@pytest.mark.parametrize(
    ("status", "answered"), [(200, "200"), (400, "400"), (413, "400"), (500, "500"), (503, "500")]
)
def test_step_functions_refusals_reach_the_caller_as_4xx_or_5xx(
    variants: dict[str, dict[str, Any]], status: int, answered: str
) -> None:
    """StartExecution refuses a bad request with HTTP 400 (``InvalidExecutionInput``,
    ``ExecutionAlreadyExists`` ..., the "Errors" of StartExecution in the Step Functions API
    reference): the caller is told it was refused, never 200 for an execution that did not
    start; a service error stays a 500."""
    _, method = only(variants["Triggers"], "AWS::ApiGateway::Method")

    chosen = integration_response(method["Integration"]["IntegrationResponses"], status)

    assert chosen["StatusCode"] == answered


def test_escape_javascript_alone_breaks_on_an_apostrophe() -> None:
    """What the template must undo: the bare function's output is no JSON string."""
    assert escape_javascript("O'Brien") == "O\\'Brien"
    with pytest.raises(json.JSONDecodeError, match="Invalid \\\\escape"):
        json.loads('"' + escape_javascript("O'Brien") + '"')
    template = '{"input": "{\\"body\\": $util.escapeJavaScript($input.json(\'$\'))}"}'
    request = json.loads(render(template, json.dumps({"note": 'say "hi"'})))
    assert json.loads(request["input"]) == {"body": {"note": 'say "hi"'}}
    with pytest.raises(json.JSONDecodeError):
        json.loads(render(template, json.dumps({"customer": "O'Brien"})))


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("it's", "it\\'s"),
        ('"', '\\"'),
        ("a\\b", "a\\\\b"),
        ("a/b", "a\\/b"),
        ("\n\t\r\b\f", "\\n\\t\\r\\b\\f"),
        ("\u0001", "\\u0001"),
        ("é", "\\u00E9"),
        ("€", "\\u20AC"),
        ("👋", "\\uD83D\\uDC4B"),
    ],
)
def test_the_emulated_escape_javascript_escapes_as_java_does(text: str, escaped: str) -> None:
    """JavaScript string rules on Java's UTF-16 strings, as Velocity's escapeJavaScript does."""
    assert escape_javascript(text) == escaped
