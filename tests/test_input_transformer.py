"""tests/support/input_transformer.py against the examples of the EventBridge documentation.

"Amazon EventBridge input transformation" (eventbridge/latest/userguide/
eb-transform-target-input.html, "Input transform examples" and "Common issues with
transforming input") and the ``InputTransformer`` API reference
(eventbridge/latest/APIReference/API_InputTransformer.html).
"""

import json
from typing import Any

import pytest

from tests.support.input_transformer import render

#: The page's example Amazon EC2 event.
EC2_EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
#: The page's Input Path.
PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}
RULE = "arn:aws:events:us-east-2:123456789012:rule/example"


def transform(template: str, event: dict[str, Any] = EC2_EVENT, **paths: str) -> str:
    return render(
        {"InputPathsMap": paths or PATHS, "InputTemplate": template}, event, rule_arn=RULE
    )


@pytest.mark.parametrize(
    ("template", "output"),
    [
        # Simple string
        ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
        # String with escaped quotes (the console's behaviour, the page notes)
        (
            '"instance \\"<instance>\\" is in <state>"',
            '"instance \\"i-0123456789\\" is in RUNNING"',
        ),
        # Including reserved variables in a string
        ('"<aws.events.rule-name> triggered"', '"example triggered"'),
        # The API reference's plain text template
        ("<instance> is in state <state>", "i-0123456789 is in state RUNNING"),
    ],
)
def test_string_templates_as_the_page_shows_them(template: str, output: str) -> None:
    assert transform(template) == output


@pytest.mark.parametrize(
    ("template", "output"),
    [
        # Simple JSON: a string variable outside quotes gets them
        (
            '{\n  "instance" : <instance>,\n  "state": <state>\n}',
            {"instance": "i-0123456789", "state": "RUNNING"},
        ),
        # JSON with strings and variables
        (
            '{\n "instance" : <instance>,\n "state": "<state>",\n'
            ' "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
            {
                "instance": "i-0123456789",
                "state": "RUNNING",
                "instanceStatus": 'instance "i-0123456789" is in RUNNING',
            },
        ),
        # JSON with a mix of variables and static information
        (
            '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n'
            '  "Transformed" : "Yes"\n}',
            {"instance": "i-0123456789", "state": [9, "RUNNING", True], "Transformed": "Yes"},
        ),
        # Including reserved variables in JSON
        (
            '{\n  "instance" : <instance>,\n  "state": <state>,\n'
            '  "ruleArn" : <aws.events.rule-arn>,\n  "ruleName" : <aws.events.rule-name>,\n'
            '  "originalEvent" : <aws.events.event>\n}',
            {
                "instance": "i-0123456789",
                "state": "RUNNING",
                "ruleArn": RULE,
                "ruleName": "example",
                "originalEvent": {k: v for k, v in EC2_EVENT.items() if k != "detail"},
            },
        ),
        # The API reference: "valid JSON with variables in quotes or out"
        (
            '{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<state>\\""}',
            {"myInstance": "i-0123456789", "myStatus": 'i-0123456789 is in state "RUNNING"'},
        ),
    ],
)
def test_json_templates_as_the_page_shows_them(template: str, output: dict[str, Any]) -> None:
    rendered = transform(template)
    assert json.loads(rendered) == output
    assert "\n" not in rendered and ", " not in rendered  # "minified"


def test_a_path_that_matches_nothing_does_not_appear() -> None:
    """ "If you specify a variable to match a JSON path that doesn't exist in the event, that
    variable isn't created and won't appear in the output"."""
    assert transform('"state: <state>!"', state="$.detail.no-such-field") == '"state: !"'


def test_values_are_not_escaped_inside_strings_and_objects_lose_their_quotes() -> None:
    """ "EventBridge doesn't escape values extracted by Input Path"; an object referenced in a
    string has its internal quotes removed ("Common issues with transforming input")."""
    event = {**EC2_EVENT, "detail": {"state": 'say "hi"', "tags": {"a": 1}}}
    assert transform('"<state>"', event, state="$.detail.state") == '"say "hi""'
    assert transform('"Detail is <d>"', event, d="$.detail.tags") == '"Detail is {a:1}"'
    assert json.loads(transform('{"d": <d>}', event, d="$.detail")) == {"d": event["detail"]}


def test_array_indices_numbers_and_wildcards() -> None:
    event = {**EC2_EVENT, "detail": {"items": [{"sku": "a", "quantity": 2}]}}
    rendered = transform(
        '{"sku": <s>, "n": <n>}', event, s="$.detail.items[0].sku", n="$.detail.items[0].quantity"
    )
    assert json.loads(rendered) == {"sku": "a", "n": 2}
    with pytest.raises(AssertionError, match="not modelled"):
        transform('"<s>"', event, s="$.detail.items[*].sku")
