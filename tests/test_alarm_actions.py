"""Every alarm of every reference stack tells someone: its stack's operations topic.

AWS documents what CloudWatch needs to publish to an encrypted topic in "Enable compatibility
between event sources from AWS services and encrypted topics"
(sns/latest/dg/sns-key-management.html#compatibility-with-aws-services): a customer-managed key
whose policy lets ``cloudwatch.amazonaws.com`` use ``kms:Decrypt`` and ``kms:GenerateDataKey*``.
"""

import re
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from serverless_patterns import SyncApi
from serverless_patterns.core.alarms import operations_topic

from examples.app import REFERENCE_STACKS
from tests.support.cdk import resources, synth_variants

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")

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


def scaling_trigger(template: dict[str, Any], alarm: dict[str, Any]) -> bool:
    """An alarm that drives a step scaling policy: it changes state with every burst of work,
    so it is not an alert and notifies nobody."""
    return any(
        template["Resources"].get(action.get("Ref", ""), {}).get("Type")
        == "AWS::ApplicationAutoScaling::ScalingPolicy"
        for action in alarm.get("AlarmActions", [])
        if isinstance(action, dict)
    )


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_every_alarm_and_its_recovery_notify_the_operations_topic(
    stack_id: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[stack_id]
    topic_id, _ = operations(template, "OperationsTopic")
    alarms = {
        logical_id: alarm
        for logical_id, alarm in resources(template, "AWS::CloudWatch::Alarm").items()
        if not scaling_trigger(template, alarm)
    }
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


def test_a_pattern_accepts_the_operations_topic_and_a_set_option_is_not_suppressed() -> None:
    """The operations topic passes ``alarm_topic`` validation (it is not ``alias/aws/sns``),
    and a function given reserved concurrency carries no suppression of the check it meets."""

    def build(stack: Stack) -> None:
        SyncApi(
            stack,
            "P",
            code=CODE,
            alarm_topic=operations_topic(stack),
            function_options=lambda_.FunctionOptions(reserved_concurrent_executions=5),
        )

    template = synth_variants({"Reserved": build})["Reserved"].to_json()
    topic_id, _ = operations(template, "OperationsTopic")
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    [function] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    skipped = {skip["id"] for skip in function["Metadata"]["checkov"]["skip"]}
    assert "CKV_AWS_115" not in skipped
    assert "CKV_AWS_117" in skipped
