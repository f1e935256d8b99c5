"""An EventBridge ``InputTransformer`` applied to an event, as EventBridge documents it.

"Amazon EventBridge input transformation" (eventbridge/latest/userguide/
eb-transform-target-input.html) and the ``InputTransformer`` API reference
(eventbridge/latest/APIReference/API_InputTransformer.html):

- ``InputPathsMap`` names values of the event by JSON path (dot notation, dashes,
  underscores, array indices). A path that matches nothing creates no variable: its
  placeholder "won't appear in the output".
- ``InputTemplate`` is either a JSON object ("surrounded by curly braces") or a string. In a
  JSON template, a placeholder outside a string literal is the variable's JSON value: objects,
  arrays and numbers as they are, and strings with quotes added "to ensure the transformation
  output is valid JSON". A placeholder inside a string literal, or anywhere in a string
  template, is the value's text, not escaped ("EventBridge doesn't escape values extracted by
  Input Path"); an object or array there loses its internal quotes. Everything else of the
  template is passed as written (``\\"`` stays ``\\"``).
- The predefined variables ``aws.events.rule-arn``, ``aws.events.rule-name``,
  ``aws.events.event.ingestion-time``, ``aws.events.event`` (the event without ``detail``)
  and ``aws.events.event.json`` (the whole event).
- "The JSON that is passed to the target is minified."

Not modelled (fails): JSON path wildcards; the CloudWatch Logs target's own timestamp form.
"""

import json
import re
from typing import Any

_MISSING = object()
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def extract(event: Any, path: str) -> Any:
    """The value at a JSON path like ``$.detail.items[0].sku``, or ``_MISSING``."""
    assert path.startswith("$") and "*" not in path, f"JSON path not modelled: {path}"
    value = event
    rest = path[1:]
    while rest:
        step = _STEP.match(rest)
        assert step, f"JSON path not modelled: {path}"
        key, index = step.groups()
        if key is not None and isinstance(value, dict) and key in value:
            value = value[key]
        elif index is not None and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
        rest = rest[step.end() :]
    return value


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _as_json_value(value: Any) -> str:
    return "" if value is _MISSING else _compact(value)


def _as_text(value: Any) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return _compact(value).replace('"', "")
    return _compact(value)


def variables(
    transformer: dict[str, Any], event: dict[str, Any], rule_arn: str, ingestion_time: str
) -> dict[str, Any]:
    """The template's variables for ``event`` (missing paths included, as ``_MISSING``)."""
    found = {
        name: extract(event, path) for name, path in transformer.get("InputPathsMap", {}).items()
    }
    return found | {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_arn.rpartition("/")[2],
        "aws.events.event.ingestion-time": ingestion_time,
        "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
        "aws.events.event.json": event,
    }


def render(
    transformer: dict[str, Any],
    event: dict[str, Any],
    *,
    rule_arn: str = "arn:aws:events:us-east-1:123456789012:rule/example",
    ingestion_time: str = "2015-11-11T21:29:55Z",
) -> str:
    """What the target receives for ``event``."""
    template = transformer["InputTemplate"]
    values = variables(transformer, event, rule_arn, ingestion_time)
    is_json = template.lstrip().startswith("{")
    out: list[str] = []
    in_string = False
    index = 0
    while index < len(template):
        char = template[index]
        placeholder = _PLACEHOLDER.match(template, index)
        if placeholder and placeholder.group(1) in values:
            value = values[placeholder.group(1)]
            out.append(_as_json_value(value) if is_json and not in_string else _as_text(value))
            index = placeholder.end()
            continue
        if char == "\\":
            out.append(template[index : index + 2])
            index += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(char)
        index += 1
    rendered = "".join(out)
    if is_json:
        try:
            return _compact(json.loads(rendered))
        except json.JSONDecodeError:
            return rendered
    return rendered
