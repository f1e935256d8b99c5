"""Template-wide rules CloudFormation and API Gateway enforce at create time, on every stack."""

from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template
from serverless_patterns import (
    AsyncApi,
    EventRoute,
    EventRouter,
    FanOut,
    QueueSubscriber,
    SyncApi,
    Workflow,
)
from serverless_patterns.core.apis import MANAGE_ACCOUNT_CONTEXT
from serverless_patterns.core.topics import topic

from examples.app import REFERENCE_STACKS
from tests.support.cdk import new_app, resources

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")
ACCOUNT = "AWS::ApiGateway::Account"


def logging_stages(template: dict[str, Any]) -> list[str]:
    """REST and WebSocket stages that write access or execution logs."""
    found = []
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::ApiGateway::Stage":
            levels = [s.get("LoggingLevel", "OFF") for s in properties.get("MethodSettings", [])]
            if "AccessLogSetting" in properties or set(levels) - {"OFF"}:
                found.append(logical_id)
        elif resource["Type"] == "AWS::ApiGatewayV2::Stage":
            level = properties.get("DefaultRouteSettings", {}).get("LoggingLevel", "OFF")
            if "AccessLogSettings" in properties or level != "OFF":
                found.append(logical_id)
    return found


def created_after(template: dict[str, Any], logical_id: str) -> set[str]:
    """Every resource CloudFormation must finish before ``logical_id`` (DependsOn, Ref, GetAtt)."""
    resources_ = template["Resources"]
    seen: set[str] = set()
    pending = [logical_id]
    while pending:
        resource = resources_[pending.pop()]
        depends = resource.get("DependsOn", [])
        found = [depends] if isinstance(depends, str) else list(depends)
        found += _references(resource.get("Properties", {}))
        for other in found:
            if other in resources_ and other not in seen:
                seen.add(other)
                pending.append(other)
    return seen


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        if "Ref" in value:
            return [value["Ref"]]
        if "Fn::GetAtt" in value:
            return [value["Fn::GetAtt"][0]]
        return [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


def assert_logging_stages_wait_for_the_one_account(template: dict[str, Any]) -> None:
    accounts = list(resources(template, ACCOUNT))
    assert len(accounts) <= 1, f"several owners of one account-wide setting: {accounts}"
    stages = logging_stages(template)
    if stages:
        assert accounts, "stages write logs but nothing sets the account's logging role"
    for stage in stages:
        assert accounts[0] in created_after(template, stage), f"{stage} may be created first"


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_logging_stages_are_created_after_the_stacks_one_api_gateway_account(
    stack_id: str, templates: dict[str, dict[str, Any]]
) -> None:
    """A stage that logs needs the account's CloudWatch role first; one Account per stack.

    API Gateway developer guide, "Set up CloudWatch logging for REST APIs in API Gateway" and
    "Configure logging for WebSocket APIs": logging needs the CloudWatch role ARN in the
    account settings, otherwise stage creation fails with "CloudWatch Logs role ARN must be
    set in account settings to enable logging". CloudFormation reference,
    AWS::ApiGateway::Account: "you should only have one AWS::ApiGateway::Account resource per
    region per account" — two would point at different roles, the last writer winning.
    """
    assert_logging_stages_wait_for_the_one_account(templates[stack_id])


def test_two_rest_apis_and_a_websocket_api_share_one_account() -> None:
    """A user's stack with several APIs, env-agnostic and env-pinned: still one Account."""
    app = new_app()
    for name, env in {
        "Agnostic": None,
        "Pinned": Environment(account="111111111111", region="eu-west-1"),
    }.items():
        stack = Stack(app, name, env=env)
        SyncApi(stack, "Orders", code=CODE)
        AsyncApi(stack, "Jobs", code=CODE)
        Workflow(stack, "Flow", definition=sfn.Pass(stack, "Noop"), api=True)
    app.synth()
    for name in ("Agnostic", "Pinned"):
        template = Template.from_stack(app.node.find_child(name)).to_json()
        assert len(resources(template, ACCOUNT)) == 1
        assert len(logging_stages(template)) == 4  # three REST stages, one WebSocket stage
        assert_logging_stages_wait_for_the_one_account(template)


def test_a_team_that_manages_the_setting_elsewhere_turns_it_off() -> None:
    app = App(context={MANAGE_ACCOUNT_CONTEXT: False})
    stack = Stack(app, "Managed")
    SyncApi(stack, "Orders", code=CODE)
    AsyncApi(stack, "Jobs", code=CODE)
    template = Template.from_stack(stack).to_json()
    assert resources(template, ACCOUNT) == {}
    assert resources(template, "AWS::IAM::Role").keys().isdisjoint({"ApiGatewayCloudWatchRole"})


def test_a_second_account_owner_is_refused_with_the_fix() -> None:
    stack = Stack(new_app(), "Twice")
    with pytest.raises(ValueError, match=f"cloud_watch_role=True.*{MANAGE_ACCOUNT_CONTEXT}"):
        SyncApi(
            stack, "Orders", code=CODE, rest_api_props=apigw.RestApiProps(cloud_watch_role=True)
        )


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_no_kms_key_identifier_is_an_empty_string(
    stack_id: str, templates: dict[str, dict[str, Any]]
) -> None:
    """CloudFormation reference, AWS::Events::Archive: KmsKeyIdentifier is a key ARN, id,
    alias or alias ARN; omitted, the archive uses an AWS-owned key. An empty string is none of
    these and some regions reject it (aws/aws-cdk#37847)."""
    empty = [
        logical_id
        for logical_id, resource in templates[stack_id]["Resources"].items()
        if resource.get("Properties", {}).get("KmsKeyIdentifier") == ""
    ]
    assert empty == []


# --- deliveries AWS services must be able to make ------------------------------------------


def _aws_managed_topic(stack: Stack, name: str) -> sns.ITopic:
    return sns.Topic(
        stack, name, master_key=kms.Alias.from_alias_name(stack, f"{name}Key", "alias/aws/sns")
    )


ALARM_TOPICS = {
    "imported alias/aws/sns": _aws_managed_topic,
    "the library's default topic": lambda stack, name: topic(stack, name),
}
PATTERNS_WITH_ALARMS = {
    "SyncApi": lambda stack, alarms: SyncApi(stack, "P", code=CODE, alarm_topic=alarms),
    "AsyncApi": lambda stack, alarms: AsyncApi(stack, "P", code=CODE, alarm_topic=alarms),
    "FanOut": lambda stack, alarms: FanOut(
        stack, "P", subscribers=[QueueSubscriber("q")], alarm_topic=alarms
    ),
    "EventRouter": lambda stack, alarms: EventRouter(stack, "P", alarm_topic=alarms),
    "Workflow": lambda stack, alarms: Workflow(
        stack, "P", definition=sfn.Pass(stack, "Noop"), alarm_topic=alarms
    ),
}


@pytest.mark.parametrize("key", ALARM_TOPICS)
@pytest.mark.parametrize("pattern", PATTERNS_WITH_ALARMS)
def test_an_alarm_topic_cloudwatch_cannot_publish_to_is_refused(pattern: str, key: str) -> None:
    """Amazon SNS developer guide, "Configure AWS KMS permissions for AWS services" (SNS
    encryption at rest): AWS services such as CloudWatch can publish to an encrypted topic only
    through a customer managed key whose policy grants them kms:Decrypt and
    kms:GenerateDataKey*; the AWS managed key's policy (alias/aws/sns) cannot be changed, so
    the alarm action fails silently."""
    stack = Stack(new_app(), "Alarms")
    with pytest.raises(ValueError, match=r"alarm_topic='encrypted with alias/aws/sns'"):
        PATTERNS_WITH_ALARMS[pattern](stack, ALARM_TOPICS[key](stack, "Ops"))


def test_an_alarm_topic_with_a_customer_managed_key_is_accepted() -> None:
    stack = Stack(new_app(), "Alarms")
    key = kms.Key(stack, "OpsKey", enable_key_rotation=True)
    api = SyncApi(stack, "P", code=CODE, alarm_topic=sns.Topic(stack, "Ops", master_key=key))
    assert all(alarm.alarm_arn for alarm in api.alarms)


@pytest.mark.parametrize(
    ("target", "alias"),
    [
        (lambda s: sqs.Queue(s, "T", encryption=sqs.QueueEncryption.KMS_MANAGED), "sqs"),
        (lambda s: _aws_managed_topic(s, "T"), "sns"),
    ],
)
def test_an_event_target_eventbridge_cannot_deliver_to_is_refused(target: Any, alias: str) -> None:
    """Amazon EventBridge user guide, "Amazon EventBridge targets" / "Encrypting events":
    EventBridge delivers to an encrypted SQS queue or SNS topic only through a customer managed
    key whose policy allows events.amazonaws.com; AWS managed keys cannot be granted that."""
    stack = Stack(new_app(), "Targets")
    with pytest.raises(ValueError, match=rf"targets\[0\]='a \w+ encrypted with alias/aws/{alias}'"):
        EventRouter(
            stack,
            "P",
            routes=[
                EventRoute("r", pattern=events.EventPattern(source=["x"]), targets=[target(stack)])
            ],
        )


def test_queues_lambda_consumes_allow_five_receives_by_default_and_no_fewer() -> None:
    """AWS Lambda developer guide, "Using Lambda with Amazon SQS" (configuring a dead-letter
    queue / handling throttling): set the source queue's maxReceiveCount to at least 5, so
    that messages Lambda throttles are retried rather than sent to the dead-letter queue."""
    stack = Stack(new_app(), "Receives")
    FanOut(stack, "P", subscribers=[QueueSubscriber("q", code=CODE)])
    (redrive,) = [
        queue["RedrivePolicy"]
        for queue in resources(Template.from_stack(stack).to_json(), "AWS::SQS::Queue").values()
        if "RedrivePolicy" in queue
    ]
    assert redrive["maxReceiveCount"] == 5
    with pytest.raises(ValueError, match=r"max_receive_count=3: give 5 to 1000"):
        FanOut(
            Stack(new_app(), "Few"),
            "P",
            subscribers=[QueueSubscriber("q", code=CODE, max_receive_count=3)],
        )
    with pytest.raises(ValueError, match=r"max_receive_count=4: give 5 to 1000"):
        AsyncApi(Stack(new_app(), "Fewer"), "P", code=CODE, max_receive_count=4)
    few = Stack(new_app(), "Wired")
    wired = sqs.DeadLetterQueue(queue=sqs.Queue(few, "Dlq"), max_receive_count=2)
    with pytest.raises(ValueError, match=r"queue_props.dead_letter_queue.max_receive_count=2"):
        AsyncApi(few, "P", code=CODE, queue_props=sqs.QueueProps(dead_letter_queue=wired))
