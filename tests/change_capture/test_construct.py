"""ChangeCapture: the properties that matter, the bring-your-own paths, the validation errors.

The pipe's settings are AWS's documented ones ("PipeSourceDynamoDBStreamParameters",
eventbridge/latest/pipes-reference/API_PipeSourceDynamoDBStreamParameters.html; "Amazon
EventBridge Pipes targets", eb-pipes-event-target.html, for the dynamic ``DetailType``).
"""

import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match, Template
from serverless_patterns import ChangeCapture

from tests.support.cdk import logical_id_at, new_app, resources, synth_variants

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")
PK = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)


@pytest.fixture(scope="module")
def lake(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["OrdersDataLake"]


def at(template: dict[str, Any], path: str) -> str:
    return logical_id_at(template, path)


def pipe_of(template: dict[str, Any]) -> dict[str, Any]:
    [pipe] = resources(template, "AWS::Pipes::Pipe").values()
    return pipe


# --- the reference stack --------------------------------------------------------------------


def test_the_pipe_reads_the_orders_stream_with_bounded_retries_and_a_dead_letter_queue(
    lake: dict[str, Any],
) -> None:
    pipe = pipe_of(lake)
    table = at(lake, "OrderChanges/Table")
    assert pipe["Source"] == {"Fn::GetAtt": [table, "StreamArn"]}
    assert pipe["SourceParameters"] == {
        "DynamoDBStreamParameters": {
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 10,
            "MaximumRetryAttempts": 10,
            "MaximumRecordAgeInSeconds": 21600,
            "OnPartialBatchItemFailure": "AUTOMATIC_BISECT",
            "DeadLetterConfig": {
                "Arn": {"Fn::GetAtt": [at(lake, "OrderChanges/DeadLetterQueue"), "Arn"]}
            },
        },
        "FilterCriteria": {
            "Filters": [
                {"Pattern": '{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "ORDER#"}]}}}}'}
            ]
        },
    }
    [stream] = resources(lake, "AWS::DynamoDB::GlobalTable")[table]["StreamSpecification"].values()
    assert stream == "NEW_AND_OLD_IMAGES"


def test_each_change_becomes_one_event_named_after_the_table_and_the_change(
    lake: dict[str, Any],
) -> None:
    pipe = pipe_of(lake)
    assert pipe["Enrichment"] == {"Fn::GetAtt": [at(lake, "OrderChanges/Enrichment"), "Arn"]}
    assert pipe["Target"] == {"Fn::GetAtt": [at(lake, "OrderEvents/Bus"), "Arn"]}
    assert pipe["TargetParameters"] == {
        "EventBridgeEventBusParameters": {"Source": "shop.orders", "DetailType": "$.eventName"},
        "InputTemplate": '{"eventId": "<$.eventID>", "eventName": "<$.eventName>", '
        '"eventSourceArn": "<$.eventSourceARN>", "dynamodb": <$.dynamodb>, '
        '"enrichment": <$.enrichment>}',
    }
    assert pipe["LogConfiguration"] == {
        "CloudwatchLogsLogDestination": {
            "LogGroupArn": {"Fn::GetAtt": [at(lake, "OrderChanges/PipeLogs"), "Arn"]}
        },
        "Level": "ERROR",
    }
    [logs] = [
        properties
        for key, properties in resources(lake, "AWS::Logs::LogGroup").items()
        if key == at(lake, "OrderChanges/PipeLogs")
    ]
    assert logs == {"RetentionInDays": 30}


def test_the_pipe_role_may_do_exactly_what_the_pipe_needs(lake: dict[str, Any]) -> None:
    role = at(lake, "OrderChanges/Role")
    assert resources(lake, "AWS::IAM::Role")[role]["AssumeRolePolicyDocument"] == {
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                "Effect": "Allow",
                "Principal": {"Service": "pipes.amazonaws.com"},
            }
        ],
        "Version": "2012-10-17",
    }
    [policy] = [
        p for p in resources(lake, "AWS::IAM::Policy").values() if p["Roles"] == [{"Ref": role}]
    ]
    granted = {
        (
            tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],),
            str(s["Resource"]),
        )
        for s in policy["PolicyDocument"]["Statement"]
    }
    assert all(s["Effect"] == "Allow" for s in policy["PolicyDocument"]["Statement"])
    arn = lambda path, attribute="Arn": str({"Fn::GetAtt": [at(lake, path), attribute]})  # noqa: E731
    assert granted == {
        (
            ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
            arn("OrderChanges/Table", "StreamArn"),
        ),
        (("dynamodb:ListStreams",), "*"),
        (("sqs:SendMessage",), arn("OrderChanges/DeadLetterQueue")),
        (("events:PutEvents",), arn("OrderEvents/Bus")),
        (("logs:CreateLogStream", "logs:PutLogEvents"), arn("OrderChanges/PipeLogs")),
        (("lambda:InvokeFunction",), arn("OrderChanges/Enrichment")),
    }


def test_the_dead_letter_queue_is_encrypted_and_alarmed(lake: dict[str, Any]) -> None:
    queue = at(lake, "OrderChanges/DeadLetterQueue")
    assert resources(lake, "AWS::SQS::Queue")[queue] == {
        "MessageRetentionPeriod": 1209600,
        "SqsManagedSseEnabled": True,
    }
    alarm = resources(lake, "AWS::CloudWatch::Alarm")[at(lake, "OrderChanges/DeadLetterQueueAlarm")]
    assert {key: alarm[key] for key in alarm if key != "AlarmDescription"} == {
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
        "Statistic": "Maximum",
        "Period": 300,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1,
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": at(lake, "OperationsTopic")}],
        "OKActions": [{"Ref": at(lake, "OperationsTopic")}],
    }


def test_the_order_history_rule_takes_every_order_change(lake: dict[str, Any]) -> None:
    rule = resources(lake, "AWS::Events::Rule")[at(lake, "OrderEvents/OrderHistory/Rule")]
    assert rule["EventPattern"] == {
        "source": ["shop.orders"],
        "detail-type": ["INSERT", "MODIFY", "REMOVE"],
    }
    assert rule["EventBusName"] == {"Ref": at(lake, "OrderEvents/Bus")}
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [at(lake, "OrderHistory"), "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 21600}


def test_the_data_lake_rule_puts_every_order_change_on_the_firehose_stream(
    lake: dict[str, Any],
) -> None:
    """A Firehose delivery stream is an EventRouter target kind (core/buses.py): the rule's
    own role may only put records on that stream, and delivery retries, then dead-letters."""
    rule = resources(lake, "AWS::Events::Rule")[at(lake, "OrderEvents/DataLake/Rule")]
    assert rule["EventPattern"] == {
        "source": ["shop.orders"],
        "detail-type": ["INSERT", "MODIFY", "REMOVE"],
    }
    role = at(lake, "DataLake/EventsRole")
    assert rule["Targets"] == [
        {
            "Id": "Target0",
            "Arn": {"Fn::GetAtt": [at(lake, "DataLake"), "Arn"]},
            "RoleArn": {"Fn::GetAtt": [role, "Arn"]},
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 21600},
            "DeadLetterConfig": {
                "Arn": {
                    "Fn::GetAtt": [at(lake, "OrderEvents/DataLake/DataLakeDeadLetterQueue"), "Arn"]
                }
            },
        }
    ]
    [policy] = [
        p for p in resources(lake, "AWS::IAM::Policy").values() if p["Roles"] == [{"Ref": role}]
    ]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [at(lake, "DataLake"), "Arn"]},
        }
    ]
    alarm = resources(lake, "AWS::CloudWatch::Alarm")[
        at(lake, "OrderEvents/DataLake/DataLakeDeadLetterQueueAlarm")
    ]
    assert (alarm["MetricName"], alarm["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 1)


# --- the smallest use, and bring your own ---------------------------------------------------

BUILT: dict[str, ChangeCapture] = {}


def build_smallest(stack: Stack) -> None:
    BUILT["Smallest"] = ChangeCapture(stack, "Orders")


def build_existing(stack: Stack) -> None:
    table = dynamodb.TableV2(
        stack, "Mine", partition_key=PK, dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES
    )
    bus = events.EventBus(stack, "Shared")
    BUILT["Existing"] = ChangeCapture(
        stack,
        "Orders",
        existing_table=table,
        existing_bus=bus,
        source="shop.orders",
        event_names=["INSERT", "REMOVE"],
        batch_size=1,
        retry_attempts=0,
        max_record_age=Duration.minutes(1),
        starting_position=lambda_.StartingPosition.LATEST,
        log_level="OFF",
    )


def build_imported(stack: Stack) -> None:
    table = dynamodb.Table.from_table_attributes(
        stack,
        "Imported",
        table_name="orders",
        table_stream_arn="arn:aws:dynamodb:us-east-1:111122223333:table/orders/stream/2026",
    )
    BUILT["Imported"] = ChangeCapture(stack, "Orders", existing_table=table)


@pytest.fixture(scope="module")
def variants() -> dict[str, Template]:
    return synth_variants(
        {"Smallest": build_smallest, "Existing": build_existing, "Imported": build_imported}
    )


def test_the_smallest_use_builds_a_streamed_table_a_bus_and_an_unenriched_pipe(
    variants: dict[str, Template],
) -> None:
    template = variants["Smallest"].to_json()
    [table] = resources(template, "AWS::DynamoDB::GlobalTable").values()
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert len(resources(template, "AWS::Events::EventBus")) == 1
    assert resources(template, "AWS::Lambda::Function") == {}
    pipe = pipe_of(template)
    assert "Enrichment" not in pipe and "FilterCriteria" not in pipe["SourceParameters"]
    assert pipe["TargetParameters"]["EventBridgeEventBusParameters"]["Source"] == "orders"
    assert "enrichment" not in pipe["TargetParameters"]["InputTemplate"]
    capture = BUILT["Smallest"]
    assert (capture.source, capture.function) == ("orders", None)
    assert capture.pattern("INSERT")._values == {"source": ["orders"], "detail_type": ["INSERT"]}


def test_your_table_and_bus_and_every_reading_option(variants: dict[str, Template]) -> None:
    template = variants["Existing"].to_json()
    assert len(resources(template, "AWS::DynamoDB::GlobalTable")) == 1
    assert len(resources(template, "AWS::Events::EventBus")) == 1
    pipe = pipe_of(template)
    reading = pipe["SourceParameters"]["DynamoDBStreamParameters"]
    assert {k: v for k, v in reading.items() if k != "DeadLetterConfig"} == {
        "StartingPosition": "LATEST",
        "BatchSize": 1,
        "MaximumRetryAttempts": 0,
        "MaximumRecordAgeInSeconds": 60,
        "OnPartialBatchItemFailure": "AUTOMATIC_BISECT",
    }
    assert pipe["SourceParameters"]["FilterCriteria"] == {
        "Filters": [{"Pattern": '{"eventName": ["INSERT", "REMOVE"]}'}]
    }
    assert pipe["LogConfiguration"]["Level"] == "OFF"
    capture = BUILT["Existing"]
    assert capture.table.node.id == "Mine" and capture.event_bus.node.id == "Shared"


# --- validation -----------------------------------------------------------------------------


@pytest.fixture
def scope() -> Stack:
    return Stack(new_app(), "Validation")


def test_every_problem_is_reported_at_once(scope: Stack) -> None:
    table = dynamodb.TableV2(scope, "Mine", partition_key=PK)
    with pytest.raises(ValueError) as raised:
        ChangeCapture(
            scope,
            "Orders",
            existing_table=table,
            table_props=dynamodb.TablePropsV2(partition_key=PK),
            existing_bus=events.EventBus(scope, "Bus"),
            event_bus_props=events.EventBusProps(),
            source="aws.orders",
            event_names=["INSERT", "UPSERT"],
            filter_pattern={"eventName": ["INSERT"]},
            handler="app.handler",
            batch_size=0,
            retry_attempts=-1,
            max_record_age=Duration.days(8),
            starting_position=lambda_.StartingPosition.AT_TIMESTAMP,
            log_level="DEBUG",
        )
    assert str(raised.value).splitlines() == [
        "Invalid ChangeCapture options:",
        "  - existing_table and table_props='both given': give only one of existing_table or "
        "table_props",
        "  - existing_bus and event_bus_props='both given': give only one of existing_bus or "
        "event_bus_props",
        "  - handler='app.handler': configures the enrichment: give code= too",
        "  - existing_table='Validation/Mine': has no stream: the events carry both images: "
        "enable one with NEW_AND_OLD_IMAGES (an imported table needs table_stream_arn= in "
        "from_table_attributes)",
        "  - source='aws.orders': sources starting with 'aws.' are reserved for AWS",
        "  - event_names=['INSERT', 'UPSERT']: give one or more of INSERT, MODIFY, REMOVE",
        "  - filter_pattern='eventName': choose the changes with event_names=",
        "  - batch_size=0: must be between 1 and 10000",
        "  - retry_attempts=-1: must be between 0 and 10000",
        "  - max_record_age='691200s': must be from 1 minute to 7 days (60 to 604800 seconds)",
        "  - starting_position='AT_TIMESTAMP': give StartingPosition.TRIM_HORIZON or LATEST",
        "  - log_level='DEBUG': give one of OFF, ERROR, INFO, TRACE",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"code": "handlers/x"}, "code='handlers/x': expected lambda_.Code.from_asset"),
        ({"function_options": {"timeout": 3}}, "function_options={'timeout': 3}: expected"),
        ({"table_props": {"partition_key": "pk"}}, "table_props={'partition_key': 'pk'}: expected"),
        (
            {
                "table_props": dynamodb.TablePropsV2(
                    partition_key=PK, dynamo_stream=dynamodb.StreamViewType.KEYS_ONLY
                )
            },
            "table_props.dynamo_stream='KEYS_ONLY': the events carry both images: use "
            "StreamViewType.NEW_AND_OLD_IMAGES, or omit it",
        ),
        ({"code": CODE, "existing_function": "own"}, "code and existing_function='both given'"),
        (
            {"function_options": lambda_.FunctionOptions()},
            "function_options=FunctionOptions(): configures the enrichment: give code= too",
        ),
        ({"source": ""}, "source='': give a string of 1 to 256 characters"),
        ({"event_names": "INSERT"}, "event_names='INSERT': give a list, e.g. ['INSERT', 'MODIFY']"),
        ({"event_names": []}, "event_names=[]: give one or more of INSERT, MODIFY, REMOVE"),
        ({"event_names": ["INSERT", "INSERT"]}, "event_names='INSERT': names must be unique"),
        ({"filter_pattern": {}}, "filter_pattern={}: give a non-empty event pattern (a dict)"),
        ({"batch_size": 2.5}, "batch_size=2.5: give a whole number from 1 to 10000"),
        ({"retry_attempts": True}, "retry_attempts=True: give a whole number"),
        (
            {"max_record_age": 60},
            "max_record_age=60: give a Duration, e.g. Duration.hours(6)",
        ),
    ],
)
def test_each_problem_names_the_option_and_the_fix(
    scope: Stack, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ChangeCapture(scope, "Orders", **options)


def test_a_table_with_another_stream_view_type_is_refused(scope: Stack) -> None:
    table = dynamodb.TableV2(
        scope, "Mine", partition_key=PK, dynamo_stream=dynamodb.StreamViewType.NEW_IMAGE
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "existing_table='a NEW_IMAGE stream': the events carry both images: set the "
            "table's stream to NEW_AND_OLD_IMAGES"
        ),
    ):
        ChangeCapture(scope, "Orders", existing_table=table)


def test_an_imported_table_with_a_stream_gets_a_warning_about_its_view_type(
    variants: dict[str, Template],
) -> None:
    stack = Stack.of(BUILT["Imported"])
    [warning] = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("existing_table is imported")
    )
    assert warning.entry.data == (
        "existing_table is imported: make sure its stream's view type is NEW_AND_OLD_IMAGES; "
        "the events carry both images. [ack: serverless-patterns:imported-table-stream]"
    )
