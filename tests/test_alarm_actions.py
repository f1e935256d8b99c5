"""Every alarm of every reference stack tells someone: its stack's operations topic.

AWS documents what CloudWatch needs to publish to an encrypted topic in "Enable compatibility
between event sources from AWS services and encrypted topics"
(sns/latest/dg/sns-key-management.html#compatibility-with-aws-services): a customer-managed key
whose policy lets ``cloudwatch.amazonaws.com`` use ``kms:Decrypt`` and ``kms:GenerateDataKey*``.
"""

import re
from typing import Any

import pytest

from examples.app import REFERENCE_STACKS
from tests.support.cdk import resources

CLOUDWATCH = {"Service": "cloudwatch.amazonaws.com"}


def operations(template: dict[str, Any], construct_id: str) -> tuple[str, dict[str, Any]]:
    """The resource of construct ``construct_id`` (at the stack's root): id, properties."""
    pattern = re.compile(construct_id + "[0-9A-F]{8}")
    found = {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if pattern.fullmatch(logical_id)
    }
    assert len(found) == 1, f"{construct_id}: {sorted(found)}"
    return next(iter(found.items()))


def statements_for(policy: dict[str, Any], principal: dict[str, str]) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if s.get("Principal") == principal]


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_every_alarm_and_its_recovery_notify_the_operations_topic(
    stack_id: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[stack_id]
    topic_id, _ = operations(template, "OperationsTopic")
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert alarms
    silent = [
        logical_id
        for logical_id, alarm in alarms.items()
        if {"Ref": topic_id} not in alarm.get("AlarmActions", [])
        or {"Ref": topic_id} not in alarm.get("OKActions", [])
    ]
    assert silent == []


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_cloudwatch_may_publish_to_the_operations_topic_through_its_key(
    stack_id: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[stack_id]
    key_id, key = operations(template, "OperationsTopicKey")
    _, topic = operations(template, "OperationsTopic")
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["EnableKeyRotation"] is True
    [grant] = statements_for(key["KeyPolicy"], CLOUDWATCH)
    assert grant["Effect"] == "Allow"
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    # Only alarms of this account (confused-deputy protection).
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "aws:SourceArn" in grant["Condition"]["ArnLike"]


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_operations_topic_policy_allows_cloudwatch_and_refuses_plain_http(
    stack_id: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[stack_id]
    topic_id, _ = operations(template, "OperationsTopic")
    _, policy = operations(template, "OperationsTopicPolicy")
    assert policy["Topics"] == [{"Ref": topic_id}]
    [publish] = statements_for(policy["PolicyDocument"], CLOUDWATCH)
    assert (publish["Effect"], publish["Action"]) == ("Allow", "sns:Publish")
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["PolicyDocument"]["Statement"]
    )
