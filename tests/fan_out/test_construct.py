"""FanOut: the properties that matter, the bring-your-own paths, the validation errors."""

import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from serverless_patterns import (
    FanOut,
    FunctionSubscriber,
    QueueSubscriber,
    SubscriberResources,
)

from tests.support.cdk import new_app, only, resources, synth_variants

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")
PLACED = {"event_type": sns.SubscriptionFilter.string_filter(allowlist=["OrderPlaced"])}


@pytest.fixture(scope="module")
def stack(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["FanOut"]


def by_subscriber(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """``{subscriber name: properties}`` of the one resource of a type each subscriber has."""
    found: dict[str, dict[str, Any]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] == resource_type:
            path = resource["Metadata"]["aws:cdk:path"].split("/")
            assert path[2] not in found, f"two {resource_type} for {path[2]}"
            found[path[2]] = resource.get("Properties", {})
    return found


def ref_id(reference: dict[str, Any]) -> str:
    return reference["Fn::GetAtt"][0] if "Fn::GetAtt" in reference else reference["Ref"]


def logical_id(template: dict[str, Any], path: str) -> str:
    [found] = [
        key
        for key, resource in template["Resources"].items()
        if resource.get("Metadata", {}).get("aws:cdk:path") == path
    ]
    return found


def dead_letter_queue_id(template: dict[str, Any], name: str) -> str:
    return logical_id(template, f"FanOut/OrderEvents/{name}/DeadLetterQueue/Resource")


# --- the reference stack: secure defaults -------------------------------------------------


def test_topic_is_encrypted_with_the_aws_managed_key(stack: dict[str, Any]) -> None:
    _, topic = only(stack, "AWS::SNS::Topic")
    assert topic == {"KmsMasterKeyId": "alias/aws/sns"}


def test_topic_policy_denies_plain_http_and_grants_nothing(stack: dict[str, Any]) -> None:
    topic_id, _ = only(stack, "AWS::SNS::Topic")
    _, policy = only(stack, "AWS::SNS::TopicPolicy")
    assert policy["Topics"] == [{"Ref": topic_id}]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_granted_publisher_may_publish_and_needs_no_key_grant(
    stack: dict[str, Any],
) -> None:
    topic_id, _ = only(stack, "AWS::SNS::Topic")
    publishing = [
        (policy_id, statement)
        for policy_id, policy in resources(stack, "AWS::IAM::Policy").items()
        for statement in policy["PolicyDocument"]["Statement"]
        if "sns:" in str(statement["Action"]) or "kms:" in str(statement["Action"])
    ]
    assert len(publishing) == 1
    policy_id, statement = publishing[0]
    assert policy_id.startswith("OrdersServicePublisher")
    assert statement == {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic_id}}


def test_every_queue_is_encrypted_by_sqs_and_tls_only(stack: dict[str, Any]) -> None:
    queues = resources(stack, "AWS::SQS::Queue")
    assert len(queues) == 5  # billing and shipping queues, three dead-letter queues
    for queue in queues.values():
        assert queue["SqsManagedSseEnabled"] is True
        assert "KmsMasterKeyId" not in queue
    policies = resources(stack, "AWS::SQS::QueuePolicy").values()
    protected = {ref_id(queue) for policy in policies for queue in policy["Queues"]}
    assert protected == set(queues)
    for policy in policies:
        [deny] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_topic_may_send_to_the_queues_and_their_dlqs(stack: dict[str, Any]) -> None:
    topic_id, _ = only(stack, "AWS::SNS::Topic")
    for policy in resources(stack, "AWS::SQS::QueuePolicy").values():
        [allow] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
        assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
        assert allow["Action"] == "sqs:SendMessage"
        assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}}


def test_each_subscriber_has_its_own_dead_letter_queue_for_every_failure(
    stack: dict[str, Any],
) -> None:
    subscriptions = by_subscriber(stack, "AWS::SNS::Subscription")
    assert set(subscriptions) == {"billing", "shipping", "analytics"}
    queues = {
        name: props
        for name, props in by_subscriber(
            {
                "Resources": {
                    k: v
                    for k, v in stack["Resources"].items()
                    if v["Metadata"]["aws:cdk:path"].endswith("/Queue/Resource")
                }
            },
            "AWS::SQS::Queue",
        ).items()
    }
    for name, subscription in subscriptions.items():
        dlq = dead_letter_queue_id(stack, name)
        # what SNS cannot deliver
        assert ref_id(subscription["RedrivePolicy"]["deadLetterTargetArn"]) == dlq
        # what the consumer keeps failing
        if name in queues:
            assert ref_id(queues[name]["RedrivePolicy"]["deadLetterTargetArn"]) == dlq
            assert queues[name]["RedrivePolicy"]["maxReceiveCount"] == 5
    # what the analytics function fails after Lambda's retries
    analytics = by_subscriber(stack, "AWS::Lambda::Function")["analytics"]
    assert ref_id(analytics["DeadLetterConfig"]["TargetArn"]) == dead_letter_queue_id(
        stack, "analytics"
    )
    for name in subscriptions:
        dlq = stack["Resources"][dead_letter_queue_id(stack, name)]["Properties"]
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_subscriptions_wait_for_their_dlq_policy(stack: dict[str, Any]) -> None:
    for key, resource in stack["Resources"].items():
        if resource["Type"] == "AWS::SNS::Subscription":
            name = resource["Metadata"]["aws:cdk:path"].split("/")[2]
            dlq_policy = logical_id(
                stack, f"FanOut/OrderEvents/{name}/DeadLetterQueue/Policy/Resource"
            )
            assert dlq_policy in resource["DependsOn"], key


def test_filter_policies_and_delivery_are_as_declared(stack: dict[str, Any]) -> None:
    subscriptions = by_subscriber(stack, "AWS::SNS::Subscription")
    billing, shipping, analytics = (subscriptions[n] for n in ("billing", "shipping", "analytics"))
    assert billing["FilterPolicy"] == {"event_type": ["OrderPlaced", "OrderCancelled"]}
    assert "FilterPolicyScope" not in billing  # attributes, SNS's default scope
    assert billing["RawMessageDelivery"] is False
    assert shipping["FilterPolicyScope"] == "MessageBody"
    assert shipping["FilterPolicy"] == {
        "event_type": ["OrderPlaced", "OrderCancelled"],
        "order": {"delivery": ["standard", "express"]},
    }
    assert shipping["RawMessageDelivery"] is True
    assert analytics["Protocol"] == "lambda"
    assert analytics["FilterPolicyScope"] == "MessageBody"
    assert analytics["FilterPolicy"] == {
        "event_type": ["OrderPlaced"],
        "order": {"total": [{"numeric": [">=", 1000]}]},
    }
    assert "RawMessageDelivery" not in analytics


def test_only_the_topic_may_invoke_the_function_subscriber(stack: dict[str, Any]) -> None:
    topic_id, _ = only(stack, "AWS::SNS::Topic")
    _, permission = only(stack, "AWS::Lambda::Permission")
    assert permission["Principal"] == "sns.amazonaws.com"
    assert permission["SourceArn"] == {"Ref": topic_id}


def test_consumers_report_partial_failures_and_outlast_their_visibility(
    stack: dict[str, Any],
) -> None:
    mappings = by_subscriber(stack, "AWS::Lambda::EventSourceMapping")
    assert set(mappings) == {"billing", "shipping"}
    functions = by_subscriber(stack, "AWS::Lambda::Function")
    for name, mapping in mappings.items():
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == 10
        queue_id = ref_id(mapping["EventSourceArn"])
        assert queue_id == logical_id(stack, f"FanOut/OrderEvents/{name}/Queue/Resource")
        visibility = stack["Resources"][queue_id]["Properties"]["VisibilityTimeout"]
        assert visibility == 6 * functions[name]["Timeout"]
        assert functions[name]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == name


def test_consumer_roles_reach_only_their_own_queue(stack: dict[str, Any]) -> None:
    for name in ("billing", "shipping"):
        role = logical_id(stack, f"FanOut/OrderEvents/{name}/ConsumerRole/Resource")
        queue = logical_id(stack, f"FanOut/OrderEvents/{name}/Queue/Resource")
        [policy] = [
            p
            for p in resources(stack, "AWS::IAM::Policy").values()
            if p["Roles"] == [{"Ref": role}]
        ]
        sqs_statements = [
            s for s in policy["PolicyDocument"]["Statement"] if "sqs:" in str(s["Action"])
        ]
        [statement] = sqs_statements
        assert statement["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert "sqs:SendMessage" not in statement["Action"]


def test_alarms_on_lost_messages_every_dlq_and_every_function(stack: dict[str, Any]) -> None:
    alarms = list(resources(stack, "AWS::CloudWatch::Alarm").values())
    assert len(alarms) == 1 + 3 + 3 * 2
    assert sorted(a["MetricName"] for a in alarms) == sorted(
        ["NumberOfNotificationsFailedToRedriveToDlq"]
        + ["ApproximateNumberOfMessagesVisible"] * 3
        + ["Errors", "Throttles"] * 3
    )
    watched = {
        ref_id(a["Dimensions"][0]["Value"])
        for a in alarms
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched == {dead_letter_queue_id(stack, n) for n in ("billing", "shipping", "analytics")}
    for alarm in alarms:
        assert alarm["Threshold"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"


# --- bring your own, overrides, FIFO --------------------------------------------------------

BUILT: dict[str, FanOut] = {}


def build_existing_topic(stack: Stack) -> None:
    topic = sns.Topic(stack, "Mine", enforce_ssl=True)
    function = lambda_.Function(
        stack, "Audit", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=CODE
    )
    BUILT["ExistingTopic"] = FanOut(
        stack,
        "Events",
        existing_topic=topic,
        subscribers=[
            QueueSubscriber("billing", filter_policy=PLACED),
            FunctionSubscriber("audit", existing_function=function),
        ],
    )


def build_customer_key(stack: Stack) -> None:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    fan_out = FanOut(
        stack,
        "Events",
        topic_props=sns.TopicProps(master_key=key),
        subscribers=[QueueSubscriber("billing", code=CODE)],
    )
    fan_out.grant_publish(iam.Role(stack, "Publisher", assumed_by=iam.AccountRootPrincipal()))


def build_fifo(stack: Stack) -> None:
    BUILT["Fifo"] = FanOut(
        stack,
        "Events",
        topic_props=sns.TopicProps(fifo=True, content_based_deduplication=True),
        subscribers=[
            QueueSubscriber("ledger", code=CODE, raw_message_delivery=True),
            QueueSubscriber("archive", filter_policy=PLACED),
        ],
    )


def build_existing_queue(stack: Stack) -> None:
    dlq = sqs.Queue(stack, "MineDlq", enforce_ssl=True)
    queue = sqs.Queue(
        stack,
        "Mine",
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(120),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5),
    )
    consumer = lambda_.Function(
        stack,
        "Consumer",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=CODE,
        timeout=Duration.seconds(20),
    )
    BUILT["ExistingQueue"] = FanOut(
        stack,
        "Events",
        subscribers=[QueueSubscriber("billing", existing_queue=queue, existing_function=consumer)],
    )


def build_existing_consumer(stack: Stack) -> None:
    consumer = lambda_.Function(
        stack,
        "Consumer",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=CODE,
        timeout=Duration.seconds(25),
    )
    FanOut(stack, "Events", subscribers=[QueueSubscriber("billing", existing_function=consumer)])


def build_overrides(stack: Stack) -> None:
    alerts = sns.Topic(stack, "Alerts", enforce_ssl=True)
    FanOut(
        stack,
        "Events",
        alarm_topic=alerts,
        subscribers=[
            QueueSubscriber(
                "billing",
                code=CODE,
                handler="index.handler",
                function_options=lambda_.FunctionOptions(timeout=Duration.seconds(30)),
                batch_size=100,
                max_batching_window=Duration.seconds(10),
                max_concurrency=5,
                max_receive_count=5,
                queue_props=sqs.QueueProps(retention_period=Duration.days(7)),
            ),
            FunctionSubscriber(
                "audit",
                code=CODE,
                handler="index.handler",
                function_options=lambda_.FunctionOptions(memory_size=512),
            ),
        ],
    )


@pytest.fixture(scope="module")
def variants() -> dict[str, Template]:
    return synth_variants(
        {
            "ExistingTopic": build_existing_topic,
            "CustomerKey": build_customer_key,
            "Fifo": build_fifo,
            "ExistingQueue": build_existing_queue,
            "ExistingConsumer": build_existing_consumer,
            "Overrides": build_overrides,
        }
    )


def test_existing_topic_is_subscribed_not_replaced(variants: dict[str, Template]) -> None:
    template = variants["ExistingTopic"]
    template.resource_count_is("AWS::SNS::Topic", 1)
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    assert topic_id.startswith("Mine")
    template.all_resources_properties(
        "AWS::SNS::Subscription",
        {"TopicArn": {"Ref": topic_id}, "RedrivePolicy": Match.any_value()},
    )
    template.resource_count_is("AWS::SNS::Subscription", 2)
    # a queue without consumer: the queue and its DLQ, no event source mapping
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 0)


def test_an_existing_function_keeps_its_own_async_settings(variants: dict[str, Template]) -> None:
    template = variants["ExistingTopic"]
    [function] = template.find_resources("AWS::Lambda::Function").values()
    assert "DeadLetterConfig" not in function["Properties"]
    audit = BUILT["ExistingTopic"].subscribers["audit"]
    assert audit.queue is None
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "lambda",
            "RedrivePolicy": {
                "deadLetterTargetArn": {
                    "Fn::GetAtt": [Match.string_like_regexp("EventsauditDeadLetterQueue"), "Arn"]
                }
            },
        },
    )


def test_subscribers_are_exposed_by_name_read_only(variants: dict[str, Template]) -> None:
    fan_out = BUILT["ExistingTopic"]
    assert list(fan_out.subscribers) == ["billing", "audit"]
    billing = fan_out.subscribers["billing"]
    assert isinstance(billing, SubscriberResources)
    assert billing.name == "billing"
    assert isinstance(billing.queue, sqs.Queue) and isinstance(
        billing.subscription, sns.Subscription
    )
    assert billing.function is None
    assert billing.dead_letter_queue is not billing.queue
    with pytest.raises(TypeError):
        fan_out.subscribers["other"] = billing  # type: ignore[index]
    assert len(fan_out.alarms) == 1 + 1 + (1 + 2)  # lost messages; billing DLQ; audit DLQ, fn


def test_a_customer_managed_key_encrypts_and_publishers_get_it(
    variants: dict[str, Template],
) -> None:
    template = variants["CustomerKey"]
    [key_id] = template.find_resources("AWS::KMS::Key")
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                                "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_a_fifo_topic_fans_out_to_fifo_queues_and_fifo_dlqs(variants: dict[str, Template]) -> None:
    template = variants["Fifo"]
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {
            "FifoTopic": True,
            "ContentBasedDeduplication": True,
            "KmsMasterKeyId": "alias/aws/sns",
            "TopicName": Match.string_like_regexp(r"\.fifo$"),
        },
    )
    template.resource_count_is("AWS::SQS::Queue", 4)
    template.all_resources_properties("AWS::SQS::Queue", {"FifoQueue": True})
    fifo = BUILT["Fifo"]
    assert set(fifo.subscribers) == {"ledger", "archive"}
    template.has_resource_properties("AWS::SNS::Subscription", {"RawMessageDelivery": True})
    mapping = template.find_resources("AWS::Lambda::EventSourceMapping")
    [properties] = [m["Properties"] for m in mapping.values()]
    assert "MaximumBatchingWindowInSeconds" not in properties


def test_an_existing_queue_is_subscribed_and_consumed_as_it_is(
    variants: dict[str, Template],
) -> None:
    template = variants["ExistingQueue"]
    queues = template.find_resources("AWS::SQS::Queue")
    assert len(queues) == 3  # yours, your DLQ, the subscription's DLQ
    mine = next(k for k in queues if k.startswith("Mine") and "Dlq" not in k)
    assert queues[mine]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert queues[mine]["Properties"]["VisibilityTimeout"] == 120
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Endpoint": {"Fn::GetAtt": [mine, "Arn"]}}
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [mine, "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    billing = BUILT["ExistingQueue"].subscribers["billing"]
    assert billing.function is not None and billing.queue is not None
    # the subscription's DLQ is alarmed, and so is your consumer
    assert len(template.find_resources("AWS::CloudWatch::Alarm")) == 1 + 1 + 2


def test_an_existing_consumer_sets_the_queues_visibility_timeout(
    variants: dict[str, Template],
) -> None:
    template = variants["ExistingConsumer"]
    [function_id] = template.find_resources("AWS::Lambda::Function")
    template.has_resource_properties(
        "AWS::SQS::Queue", {"VisibilityTimeout": 150, "RedrivePolicy": Match.any_value()}
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": function_id},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_overrides_change_only_what_they_name(variants: dict[str, Template]) -> None:
    template = variants["Overrides"]
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "VisibilityTimeout": 180,  # 6 x the consumer's 30 s
            "MessageRetentionPeriod": 7 * 24 * 3600,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": Match.object_like({"maxReceiveCount": 5}),
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 10,
            "ScalingConfig": {"MaximumConcurrency": 5},
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"MemorySize": 512, "DeadLetterConfig": Match.any_value(), "Architectures": ["arm64"]},
    )


def test_alarm_topic_receives_every_alarm_and_recovery(variants: dict[str, Template]) -> None:
    template = variants["Overrides"]
    [alerts] = [k for k in template.find_resources("AWS::SNS::Topic") if k.startswith("Alerts")]
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 1 + 3 + 3
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": alerts}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": alerts}]


# --- validation -----------------------------------------------------------------------------


@pytest.fixture
def scope() -> Stack:
    return Stack(new_app(), "Validation")


def imported_queue(fifo: bool = False) -> sqs.IQueue:
    name = "theirs.fifo" if fifo else "theirs"
    return sqs.Queue.from_queue_arn(Stack(), "Q", f"arn:aws:sqs:us-east-1:123456789012:{name}")


FIFO = {"topic_props": sns.TopicProps(fifo=True)}
TOO_MANY_KEYS = {f"k{i}": sns.SubscriptionFilter.string_filter(allowlist=["x"]) for i in range(6)}
TOO_MANY_COMBINATIONS = {
    f"k{i}": sns.SubscriptionFilter.string_filter(allowlist=["a", "b", "c", "d"]) for i in range(4)
}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"subscribers": []}, "subscribers=[]: give at least one QueueSubscriber"),
        ({"subscribers": "billing"}, "subscribers='billing': give a list"),
        ({"subscribers": [object()]}, "each must be a QueueSubscriber or FunctionSubscriber"),
        (
            {"subscribers": [QueueSubscriber("a"), FunctionSubscriber("a", code=CODE)]},
            "subscribers='a': names must be unique",
        ),
        (
            {"subscribers": [QueueSubscriber("bill ing")]},
            "subscribers['bill ing'].name='bill ing': use 1-64 letters",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a",
                        filter_policy=PLACED,
                        filter_policy_with_message_body={
                            "x": sns.FilterOrPolicy.filter(
                                sns.SubscriptionFilter.string_filter(allowlist=["y"])
                            )
                        },
                    )
                ]
            },
            "filters on attributes or on the body, not both",
        ),
        (
            {"subscribers": [QueueSubscriber("a", filter_policy={})]},
            "subscribers['a'].filter_policy={}: give a non-empty",
        ),
        (
            {"subscribers": [QueueSubscriber("a", filter_policy={"event_type": ["x"]})]},
            "subscribers['a'].filter_policy['event_type']=['x']: use sns.SubscriptionFilter",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a", filter_policy={"t": sns.SubscriptionFilter.string_filter()}
                    )
                ]
            },
            "filter_policy['t']='no conditions': give at least one condition",
        ),
        (
            {"subscribers": [QueueSubscriber("a", filter_policy=TOO_MANY_KEYS)]},
            "filter_policy='6 keys': SNS allows at most 5",
        ),
        (
            {"subscribers": [QueueSubscriber("a", filter_policy=TOO_MANY_COMBINATIONS)]},
            "filter_policy='256 combinations': SNS allows at most 150",
        ),
        (
            {"subscribers": [QueueSubscriber("a", filter_policy_with_message_body={})]},
            "filter_policy_with_message_body={}: give a non-empty",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber("a", filter_policy_with_message_body={"order": {"x": ["y"]}})
                ]
            },
            "filter_policy_with_message_body['order']={'x': ['y']}: use sns.FilterOrPolicy",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a",
                        filter_policy_with_message_body={"order": sns.FilterOrPolicy.policy({})},
                    )
                ]
            },
            "filter_policy_with_message_body['order']='empty policy'",
        ),
        (
            {**FIFO, "subscribers": [FunctionSubscriber("a", code=CODE)]},
            "SNS FIFO topics deliver only to SQS FIFO queues",
        ),
        (
            {**FIFO, "subscribers": [QueueSubscriber("a", queue_props=sqs.QueueProps(fifo=False))]},
            "subscribers['a'].queue_props.fifo=False: a FIFO topic fans out to FIFO queues only",
        ),
        (
            {"subscribers": [QueueSubscriber("a", queue_props=sqs.QueueProps(fifo=True))]},
            "queue_props.fifo=True: a standard topic cannot deliver to a FIFO queue",
        ),
        (
            {"subscribers": [QueueSubscriber("a", existing_queue=imported_queue(fifo=True))]},
            "existing_queue='FIFO': a standard topic cannot deliver to a FIFO queue",
        ),
        (
            {**FIFO, "subscribers": [QueueSubscriber("a", existing_queue=imported_queue())]},
            "existing_queue='standard': a FIFO topic fans out to FIFO queues only",
        ),
        (
            {
                "topic_props": sns.TopicProps(content_based_deduplication=True),
                "subscribers": [QueueSubscriber("a")],
            },
            "topic_props.content_based_deduplication=True: only FIFO accepts it",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a", queue_props=sqs.QueueProps(content_based_deduplication=True)
                    )
                ]
            },
            "queue_props.content_based_deduplication=True: only FIFO accepts it",
        ),
        (
            {
                **FIFO,
                "subscribers": [
                    QueueSubscriber("a", code=CODE, max_batching_window=Duration.seconds(5))
                ],
            },
            "no batching window on FIFO queues",
        ),
        (
            {"subscribers": [QueueSubscriber("a", code=CODE, batch_size=11)]},
            "subscribers['a'].batch_size=11: must be between 1 and 10",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a",
                        code=CODE,
                        batch_size=20_000,
                        max_batching_window=Duration.seconds(5),
                    )
                ]
            },
            "batch_size=20000: must be between 1 and 10000",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber("a", code=CODE, max_batching_window=Duration.minutes(6))
                ]
            },
            "max_batching_window='6 minutes': must be 300 seconds or less",
        ),
        (
            {"subscribers": [QueueSubscriber("a", batch_size=5)]},
            "subscribers['a'].batch_size=5: only applies with code=",
        ),
        (
            {"subscribers": [QueueSubscriber("a", code=CODE, max_concurrency=1)]},
            "max_concurrency=1: must be between 2 and 1000",
        ),
        (
            {"subscribers": [QueueSubscriber("a", max_receive_count=0)]},
            "max_receive_count=0: must be between 1 and 1000",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a",
                        code=CODE,
                        existing_function=lambda_.Function.from_function_name(Stack(), "F", "f"),
                    )
                ]
            },
            "subscribers['a'].code='and existing_function': give only one of the two",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber("a", function_options=lambda_.FunctionOptions(memory_size=512))
                ]
            },
            "function_options='without code'",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a", existing_queue=imported_queue(), queue_props=sqs.QueueProps()
                    )
                ]
            },
            "existing_queue='and queue_props': give only one of the two",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber("a", existing_queue=imported_queue(), max_receive_count=7)
                ]
            },
            "max_receive_count=7: only applies to the queue FanOut creates",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a",
                        queue_props=sqs.QueueProps(encryption=sqs.QueueEncryption.KMS_MANAGED),
                    )
                ]
            },
            "SNS cannot deliver to a queue encrypted with alias/aws/sqs",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a",
                        queue_props=sqs.QueueProps(
                            dead_letter_queue=sqs.DeadLetterQueue(
                                queue=imported_queue(), max_receive_count=2
                            )
                        ),
                    )
                ]
            },
            "queue_props.dead_letter_queue='given': the subscriber's dead-letter queue is built",
        ),
        (
            {
                "subscribers": [
                    QueueSubscriber(
                        "a",
                        code=CODE,
                        queue_props=sqs.QueueProps(visibility_timeout=Duration.seconds(30)),
                    )
                ]
            },
            "queue_props.visibility_timeout='30s': must be at least 6 x the consumer's timeout",
        ),
        (
            {"subscribers": [FunctionSubscriber("a")]},
            "subscribers['a'].code=None: give exactly one of code= or existing_function=",
        ),
        (
            {
                "subscribers": [
                    FunctionSubscriber(
                        "a",
                        existing_function=lambda_.Function.from_function_name(Stack(), "F", "f"),
                        function_options=lambda_.FunctionOptions(memory_size=512),
                    )
                ]
            },
            "function_options='with existing_function'",
        ),
        (
            {
                "existing_topic": sns.Topic.from_topic_arn(
                    Stack(), "T", "arn:aws:sns:us-east-1:123456789012:t"
                ),
                "topic_props": sns.TopicProps(),
                "subscribers": [QueueSubscriber("a")],
            },
            "existing_topic and topic_props",
        ),
    ],
)
def test_invalid_options_raise_naming_the_option_and_fix(
    scope: Stack, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FanOut(scope, "Events", **options)


def test_an_existing_fifo_topic_is_recognised_by_its_name(scope: Stack) -> None:
    topic = sns.Topic.from_topic_arn(scope, "T", "arn:aws:sns:us-east-1:123456789012:t.fifo")
    with pytest.raises(ValueError, match="SNS FIFO topics deliver only to SQS FIFO queues"):
        FanOut(
            scope, "Events", existing_topic=topic, subscribers=[FunctionSubscriber("a", code=CODE)]
        )


def test_every_problem_is_reported_at_once(scope: Stack) -> None:
    with pytest.raises(ValueError) as error:
        FanOut(
            scope,
            "Events",
            topic_props=sns.TopicProps(fifo=True),
            subscribers=[
                FunctionSubscriber("a"),
                QueueSubscriber("a", batch_size=11, filter_policy={}),
            ],
        )
    lines = str(error.value).splitlines()
    assert lines[0] == "Invalid FanOut options:"
    # FIFO function, no code, empty filter, batch size without consumer, batch size range,
    # duplicate name
    assert len(lines) == 7, lines


def test_subscribers_are_keyword_only_after_the_name() -> None:
    with pytest.raises(TypeError):
        QueueSubscriber("a", PLACED)  # type: ignore[misc]
