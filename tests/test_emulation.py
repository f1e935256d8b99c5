"""The shared emulation (tests/support/emulation) against the AWS rules it implements.

Each test deploys a small hand-written template whose one function is written here, so that
the rule under test is the only thing that varies. Each docstring names the page the rule
comes from.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.emulation import Emulation, Failure, receive_all
from tests.support.emulation.streams import StreamPoller

HANDLER = """
import json


def handler(event, context):
    records = event.get("Records", [])
    if records and records[0].get("eventSource") == "aws:dynamodb":
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
        mode = __import__("os").environ.get("MODE", "raise")
        if mode == "report":
            return {"batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r, key in zip(records, keys) if key.startswith("poison")
            ]}
        if mode == "unknown" and any(key.startswith("poison") for key in keys):
            return {"batchItemFailures": [{"itemIdentifier": "no-such-sequence-number"}]}
        if any(key.startswith("poison") for key in keys):
            raise ValueError("poison in the batch")
        return None
    if records and records[0].get("EventSource") == "aws:sns":
        return {"received": records[0]["Sns"]["Message"]}
    if isinstance(event, dict) and event.get("fail"):
        raise RuntimeError("told to fail")
    return {"ok": True}
"""

FUNCTION = "Fn"
ROLE = "FnRole"  # the execution role, with no policy: the handler calls no AWS API
TABLE = "Table"
FAILURES = "Failures"


def function(environment: dict[str, str] | None = None, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Metadata": {"aws:asset:path": "code"},
        "Properties": {
            "Handler": "app.handler",
            "Runtime": "python3.13",
            "Timeout": 10,
            "Role": {"Fn::GetAtt": [ROLE, "Arn"]},
            "Environment": {"Variables": environment or {}},
            **properties,
        },
    }


def queue(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


@pytest.fixture
def deploy(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, Any]], Emulation]:
    """``deploy(resources)``: a template of ``resources`` in moto, its function's code here."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(HANDLER)
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        },
    }
    return lambda found: Emulation({"Resources": {ROLE: role, **found}}, monkeypatch, tmp_path)


# --- DynamoDB stream event source mappings ------------------------------------------------------


def stream_template(mode: str = "raise", **mapping: Any) -> dict[str, Any]:
    return {
        TABLE: {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            },
        },
        FUNCTION: function({"MODE": mode}),
        FAILURES: queue(),
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": FUNCTION},
                "EventSourceArn": {"Fn::GetAtt": [TABLE, "StreamArn"]},
                "StartingPosition": "TRIM_HORIZON",
                "DestinationConfig": {
                    "OnFailure": {"Destination": {"Fn::GetAtt": [FAILURES, "Arn"]}}
                },
                **mapping,
            },
        },
    }


def write(emulation: Emulation, *keys: str) -> None:
    """Put one item per key, in order."""
    table = emulation.table(TABLE)
    for key in keys:
        table.put_item(Item={"pk": key})


def batches(emulation: Emulation) -> list[list[str]]:
    """The keys of each batch the function was invoked with, in order."""
    return [
        [r["dynamodb"]["Keys"]["pk"]["S"] for r in invocation.event["Records"]]
        for invocation in emulation.invocations
    ]


def discarded(emulation: Emulation) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in receive_all(emulation.ref(FAILURES))]


def test_a_failing_batch_is_bisected_until_the_poison_record_is_alone_then_discarded(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Retain discarded records for a DynamoDB event source in Lambda" (lambda/latest/dg/
    services-dynamodb-errors.html): ``BisectBatchOnFunctionError`` splits a failed batch in
    two, splitting does not use up ``MaximumRetryAttempts``, and the discarded records'
    batch goes to the ``OnFailure`` destination as ``DDBStreamBatchInfo`` with the condition
    ``RetryAttemptsExhausted``; processing goes on past them."""
    emulation = deploy(
        stream_template(BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=2)
    )
    write(emulation, "a", "b", "poison", "c")

    emulation.stream(FUNCTION).run()

    assert batches(emulation) == [
        ["a", "b", "poison", "c"],
        ["a", "b"],
        ["poison", "c"],
        ["poison"],
        ["poison"],  # retry 1
        ["poison"],  # retry 2, the last
        ["c"],
    ]
    [record] = discarded(emulation)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["functionArn"].endswith(f":function:{FUNCTION}")
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["streamArn"] == emulation.resolve.get_att(TABLE, "StreamArn")
    poison_sequence = emulation.invocations[3].event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert info["startSequenceNumber"] == poison_sequence


def test_without_bisect_the_whole_batch_is_retried_then_discarded(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """services-dynamodb-errors.html: a function error retries the batch until
    ``MaximumRetryAttempts``; then the whole batch is discarded to the destination."""
    emulation = deploy(stream_template(BatchSize=10, MaximumRetryAttempts=1))
    write(emulation, "a", "poison", "b")

    emulation.stream(FUNCTION).run()

    assert batches(emulation) == [["a", "poison", "b"]] * 2
    [record] = discarded(emulation)
    assert record["DDBStreamBatchInfo"]["batchSize"] == 3
    assert record["requestContext"]["approximateInvokeCount"] == 2


def test_a_reported_item_failure_checkpoints_before_the_lowest_failed_record(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Configuring partial batch response with DynamoDB and Lambda" (lambda/latest/dg/
    services-ddb-batchfailurereporting.html): Lambda checkpoints at the lowest reported
    sequence number and retries from there, not the records before it."""
    emulation = deploy(
        stream_template(
            "report",
            BatchSize=10,
            MaximumRetryAttempts=1,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
    )
    write(emulation, "a", "poison", "b")

    emulation.stream(FUNCTION).run()

    assert batches(emulation) == [["a", "poison", "b"], ["poison", "b"]]
    [record] = discarded(emulation)
    assert record["DDBStreamBatchInfo"]["batchSize"] == 2


def test_an_unknown_item_identifier_fails_the_whole_batch(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """services-ddb-batchfailurereporting.html: an ``itemIdentifier`` that names no record of
    the batch makes Lambda treat the batch as a complete failure."""
    emulation = deploy(
        stream_template(
            "unknown",
            BatchSize=10,
            MaximumRetryAttempts=1,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
    )
    write(emulation, "a", "poison")

    emulation.stream(FUNCTION).run()

    assert batches(emulation) == [["a", "poison"]] * 2


def test_an_empty_list_of_item_failures_is_a_success(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From services-ddb-batchfailurereporting.html: an empty ``batchItemFailures`` list
    means the whole batch succeeded: no retry, nothing discarded."""
    emulation = deploy(
        stream_template(
            "report",
            BatchSize=10,
            MaximumRetryAttempts=1,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
    )
    write(emulation, "a", "b")

    emulation.stream(FUNCTION).run()

    assert batches(emulation) == [["a", "b"]]
    assert emulation.invocations[0].result == {"batchItemFailures": []}
    assert discarded(emulation) == []


def test_the_response_is_ignored_without_report_batch_item_failures(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """services-ddb-batchfailurereporting.html: Lambda does not read a partial batch response
    unless ``FunctionResponseTypes`` holds ``ReportBatchItemFailures``."""
    emulation = deploy(stream_template("report", BatchSize=10, MaximumRetryAttempts=1))
    write(emulation, "a", "poison")

    emulation.stream(FUNCTION).run()

    assert batches(emulation) == [["a", "poison"]]
    assert discarded(emulation) == []


def test_records_older_than_the_maximum_age_are_discarded_without_an_invocation(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """services-dynamodb-errors.html: records past ``MaximumRecordAgeInSeconds`` are
    discarded, and their batch sent to the destination with ``RecordAgeExceeded``."""
    emulation = deploy(stream_template(MaximumRecordAgeInSeconds=60))
    write(emulation, "a", "b")
    emulation.stream(FUNCTION).clock = 61

    emulation.stream(FUNCTION).run()

    assert emulation.invocations == []
    [record] = discarded(emulation)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["DDBStreamBatchInfo"]["batchSize"] == 2


def test_batches_hold_at_most_batch_size_records_and_filtered_records_are_not_sent(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """services-ddb-params.html (``BatchSize``) and "Control which events Lambda sends to
    your function" (lambda/latest/dg/invocation-eventfiltering.html): a record no filter
    matches is not sent to the function."""
    pattern = {"dynamodb": {"NewImage": {"pk": {"S": ["a", "b", "c"]}}}}
    emulation = deploy(
        stream_template(BatchSize=2, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    )
    write(emulation, "a", "skipped", "b", "c")

    emulation.stream(FUNCTION).run()

    assert batches(emulation) == [["a", "b"], ["c"]]


def test_latest_starts_after_the_records_already_in_the_stream(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """services-ddb-params.html: ``StartingPosition`` ``LATEST`` reads only the records
    written after the mapping starts; ``TRIM_HORIZON`` all the stream holds."""
    emulation = deploy(stream_template(StartingPosition="LATEST"))
    write(emulation, "old")
    poller = emulation.stream(FUNCTION)
    latest = StreamPoller(poller.function, poller.stream_arn, poller.mapping, poller.deliver)
    horizon = StreamPoller(
        poller.function,
        poller.stream_arn,
        poller.mapping | {"StartingPosition": "TRIM_HORIZON"},
        poller.deliver,
    )
    write(emulation, "new")

    latest.run()
    assert batches(emulation) == [["new"]]
    horizon.run()
    assert batches(emulation)[1:] == [["old", "new"]]


# --- SNS subscriptions ---------------------------------------------------------------------


def topic_template(**subscriptions: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}
    found[FUNCTION] = function()
    for name, properties in subscriptions.items():
        endpoint = (
            {"Fn::GetAtt": [FUNCTION, "Arn"]}
            if properties.get("Protocol") == "lambda"
            else {"Fn::GetAtt": [name, "Arn"]}
        )
        if properties.get("Protocol", "sqs") == "sqs":
            found[name] = queue()
        found[f"{name}Subscription"] = {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "Protocol": "sqs",
                "TopicArn": {"Ref": "Topic"},
                "Endpoint": endpoint,
                **properties,
            },
        }
    return found


def test_filter_policy_scope_chooses_attributes_or_body(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Amazon SNS subscription filter policy scope" (sns/latest/dg/
    sns-message-filtering-scope.html): ``MessageAttributes`` (the default) matches the
    message attributes, ``MessageBody`` the JSON body's properties."""
    emulation = deploy(
        topic_template(
            ByAttribute={"FilterPolicy": {"kind": ["placed"]}},
            ByBody={"FilterPolicy": {"kind": ["placed"]}, "FilterPolicyScope": "MessageBody"},
        )
    )
    sns = boto3.client("sns")
    attribute = {"kind": {"DataType": "String", "StringValue": "placed"}}
    sns.publish(
        TopicArn=emulation.ref("Topic"), Message='{"kind": "other"}', MessageAttributes=attribute
    )
    sns.publish(TopicArn=emulation.ref("Topic"), Message='{"kind": "placed"}')

    by_attribute = [
        json.loads(m["Body"])["Message"] for m in receive_all(emulation.ref("ByAttribute"))
    ]
    by_body = [json.loads(m["Body"])["Message"] for m in receive_all(emulation.ref("ByBody"))]
    assert by_attribute == ['{"kind": "other"}']
    assert by_body == ['{"kind": "placed"}']


def test_raw_delivery_sends_the_message_itself_with_its_attributes(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Amazon SNS raw message delivery" (sns/latest/dg/sns-large-payload-raw-message-
    delivery.html): the queue receives the message body as published, without the JSON
    envelope, and the message attributes as SQS message attributes."""
    emulation = deploy(topic_template(Raw={"RawMessageDelivery": True}, Wrapped={}))
    boto3.client("sns").publish(
        TopicArn=emulation.ref("Topic"),
        Message="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    [raw] = receive_all(emulation.ref("Raw"))
    [wrapped] = receive_all(emulation.ref("Wrapped"))
    assert raw["Body"] == "hello"
    assert raw["MessageAttributes"]["kind"]["StringValue"] == "greeting"
    envelope = json.loads(wrapped["Body"])
    assert envelope["Type"] == "Notification" and envelope["Message"] == "hello"
    assert envelope["MessageAttributes"]["kind"] == {"Type": "String", "Value": "greeting"}


def test_a_lambda_subscription_gets_the_documented_sns_event(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Invoking Lambda functions with Amazon SNS notifications" (lambda/latest/dg/
    with-sns.html): one record with ``EventSource`` ``aws:sns`` and the message under
    ``Sns``; only messages the filter policy admits invoke the function."""
    emulation = deploy(
        topic_template(Handler={"Protocol": "lambda", "FilterPolicy": {"kind": ["placed"]}})
    )
    sns = boto3.client("sns")
    for kind in ("placed", "other"):
        sns.publish(
            TopicArn=emulation.ref("Topic"),
            Message=f"a {kind} order",
            Subject="Order",
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )
    [invocation] = emulation.invocations
    [record] = invocation.event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == emulation.ref("HandlerSubscription")
    assert record["Sns"]["Message"] == "a placed order"
    assert record["Sns"]["Subject"] == "Order"
    assert record["Sns"]["TopicArn"] == emulation.ref("Topic")
    assert record["Sns"]["MessageAttributes"]["kind"] == {"Type": "String", "Value": "placed"}


# --- EventBridge targets ------------------------------------------------------------------------


def rule_template(target: dict[str, Any], retries: int = 3) -> dict[str, Any]:
    return {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus"}},
        FUNCTION: function(),
        "Inbox": queue(),
        "RuleDlq": queue(),
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Ref": "Bus"},
                "EventPattern": {"source": ["test"]},
                "Targets": [
                    {
                        "Id": "Target0",
                        "RetryPolicy": {
                            "MaximumRetryAttempts": retries,
                            "MaximumEventAgeInSeconds": 3600,
                        },
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["RuleDlq", "Arn"]}},
                        **target,
                    }
                ],
            },
        },
    }


def put(emulation: Emulation, detail: dict[str, Any]) -> None:
    answer = boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": "bus",
                "Source": "test",
                "DetailType": "Test",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0


def attributes(message: dict[str, Any]) -> dict[str, str]:
    return {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}


def test_a_target_that_keeps_failing_ends_in_its_dlq_once_retries_are_exhausted(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Event retry policy and using dead-letter queues" (eventbridge/latest/userguide/
    eb-rule-dlq.html): a retriable failure is retried ``MaximumRetryAttempts`` times, then
    the event goes to the target's DLQ with ``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``,
    ``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION`` and ``RETRY_ATTEMPTS``."""
    emulation = deploy(rule_template({"Arn": {"Fn::GetAtt": [FUNCTION, "Arn"]}}, retries=3))
    emulation.failing_targets[emulation.arn(FUNCTION)] = Failure("THROTTLING", "Rate exceeded")

    put(emulation, {"n": 1})

    assert emulation.invocations == []
    [message] = receive_all(emulation.ref("RuleDlq"))
    assert json.loads(message["Body"])["detail"] == {"n": 1}
    assert attributes(message) == {
        "RULE_ARN": emulation.arn("Rule"),
        "TARGET_ARN": emulation.arn(FUNCTION),
        "ERROR_CODE": "THROTTLING",
        "ERROR_MESSAGE": "Rate exceeded",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
        "RETRY_ATTEMPTS": "3",
    }


def test_a_target_that_no_longer_exists_goes_to_the_dlq_without_retries(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """eb-rule-dlq.html: "errors that result from missing permissions to a target, or a
    target resource that no longer exists" are not retried: the event goes to the DLQ."""
    emulation = deploy(rule_template({"Arn": {"Fn::GetAtt": ["Inbox", "Arn"]}}))
    boto3.client("sqs").delete_queue(QueueUrl=emulation.ref("Inbox"))

    put(emulation, {"n": 2})

    [message] = receive_all(emulation.ref("RuleDlq"))
    found = attributes(message)
    assert found["ERROR_CODE"] == "NO_RESOURCE" and found["RETRY_ATTEMPTS"] == "0"
    assert "EXHAUSTED_RETRY_CONDITION" not in found


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ({"Input": '{"fixed": true}'}, {"fixed": True}),
        ({"InputPath": "$.detail"}, {"n": 3}),
        (
            {
                "InputTransformer": {
                    "InputPathsMap": {"n": "$.detail.n"},
                    "InputTemplate": '{"number": <n>}',
                }
            },
            {"number": 3},
        ),
    ],
)
def test_a_lambda_target_gets_the_input_the_target_configures(
    deploy: Callable[[dict[str, Any]], Emulation], option: dict[str, Any], expected: Any
) -> None:
    """From "Transforming target input" (eventbridge/latest/userguide/eb-transform-target-
    input.html): ``Input`` replaces the event, ``InputPath`` selects part of it, an
    ``InputTransformer`` fills its template from the event."""
    emulation = deploy(rule_template({"Arn": {"Fn::GetAtt": [FUNCTION, "Arn"]}, **option}))
    put(emulation, {"n": 3})
    [invocation] = emulation.invocations
    assert invocation.event == expected


# --- Lambda asynchronous invocation ------------------------------------------------------------


def async_template(**config: Any) -> dict[str, Any]:
    return {
        FUNCTION: function(DeadLetterConfig={"TargetArn": {"Fn::GetAtt": ["FunctionDlq", "Arn"]}}),
        FAILURES: queue(),
        "Successes": queue(),
        "FunctionDlq": queue(),
        "Config": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {"FunctionName": {"Ref": FUNCTION}, "Qualifier": "$LATEST", **config},
        },
    }


def destinations(on_failure: bool = True) -> dict[str, Any]:
    config = {"OnSuccess": {"Destination": {"Fn::GetAtt": ["Successes", "Arn"]}}}
    if on_failure:
        config["OnFailure"] = {"Destination": {"Fn::GetAtt": [FAILURES, "Arn"]}}
    return {"DestinationConfig": config}


def test_an_asynchronous_invocation_is_retried_then_recorded_at_the_on_failure_destination(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "How Lambda handles errors and retries with asynchronous invocation" (lambda/latest/
    dg/invocation-async-error-handling.html): a function error is retried
    ``MaximumRetryAttempts`` times; "Capturing records of Lambda asynchronous invocations"
    (lambda/latest/dg/invocation-async-retain-records.html): then the invocation record
    (request and response context, request and response payload) goes to ``OnFailure``."""
    emulation = deploy(async_template(MaximumRetryAttempts=1, **destinations()))

    attempts = emulation.function(FUNCTION).invoke_async({"fail": True})

    assert attempts == 2
    [message] = receive_all(emulation.ref(FAILURES))
    record = json.loads(message["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"] == f"{emulation.arn(FUNCTION)}:$LATEST"
    assert record["requestPayload"] == {"fail": True}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "told to fail"
    assert receive_all(emulation.ref("FunctionDlq")) == []  # the destination took it


def test_an_event_older_than_its_maximum_age_is_not_retried(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """invocation-async-error-handling.html: the second retry comes two minutes after the
    first, 3 minutes after the event: past a ``MaximumEventAgeInSeconds`` of 90, the event
    is discarded (``EventAgeExceeded``) after two attempts."""
    emulation = deploy(async_template(MaximumEventAgeInSeconds=90, **destinations()))
    assert emulation.function(FUNCTION).invoke_async({"fail": True}) == 2
    [message] = receive_all(emulation.ref(FAILURES))
    assert json.loads(message["Body"])["requestContext"]["condition"] == "EventAgeExceeded"


def test_a_success_is_recorded_at_the_on_success_destination(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """invocation-async-retain-records.html: a success sends the record, with the function's
    answer as the response payload, to ``OnSuccess``."""
    emulation = deploy(async_template(**destinations()))
    assert emulation.function(FUNCTION).invoke_async({"n": 1}) == 1
    [message] = receive_all(emulation.ref("Successes"))
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"ok": True}
    assert "functionError" not in record["responseContext"]


def test_without_a_destination_the_event_goes_to_the_functions_dead_letter_queue(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """invocation-async-error-handling.html: by default two retries; invocation-async-retain-
    records.html: a dead-letter queue receives only the event, with the ``RequestID``,
    ``ErrorCode`` and ``ErrorMessage`` attributes."""
    emulation = deploy(async_template(**destinations(on_failure=False)))

    assert emulation.function(FUNCTION).invoke_async({"fail": True}) == 3

    [message] = receive_all(emulation.ref("FunctionDlq"))
    assert json.loads(message["Body"]) == {"fail": True}
    found = attributes(message)
    assert found["ErrorMessage"] == "told to fail" and found["RequestID"]
    assert set(found) == {"RequestID", "ErrorCode", "ErrorMessage"}


# --- the resolver -------------------------------------------------------------------------------


def test_intrinsics_resolve_to_the_moto_resources(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Intrinsic function reference" (AWSCloudFormation/latest/UserGuide/
    intrinsic-function-reference.html): each function as CloudFormation evaluates it."""
    emulation = deploy({"Inbox": queue()})
    resolve = emulation.resolve
    url, arn = emulation.ref("Inbox"), emulation.arn("Inbox")
    assert resolve({"Fn::Join": ["/", [{"Ref": "AWS::Region"}, {"Ref": "Inbox"}]]}) == (
        f"us-east-1/{url}"
    )
    assert resolve({"Fn::Sub": "${AWS::AccountId}:${Inbox.Arn}:${!Literal}"}) == (
        f"123456789012:{arn}:${{Literal}}"
    )
    assert resolve({"Fn::Select": [5, {"Fn::Split": [":", {"Fn::GetAtt": ["Inbox", "Arn"]}]}]}) == (
        "Inbox"
    )
    assert resolve({"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "AWS::Partition"}}]}) == "aws-x"


def test_a_schedule_rule_delivers_the_scheduled_event_when_fired(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Creating a rule that runs on a schedule" (eventbridge/latest/userguide/
    eb-create-rule-schedule.html): the target gets an event of source ``aws.events`` and
    detail-type ``Scheduled Event``, the rule's ARN in ``resources``, an empty detail."""
    emulation = deploy(
        {
            FUNCTION: function(),
            "Nightly": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "cron(0 2 * * ? *)",
                    "Targets": [{"Id": "Target0", "Arn": {"Fn::GetAtt": [FUNCTION, "Arn"]}}],
                },
            },
        }
    )
    emulation.fire("Nightly")
    [invocation] = emulation.invocations
    assert invocation.event["source"] == "aws.events"
    assert invocation.event["detail-type"] == "Scheduled Event"
    assert invocation.event["resources"] == [emulation.arn("Nightly")]
    assert invocation.event["detail"] == {}


def test_a_message_sns_cannot_deliver_to_a_deleted_function_goes_to_the_subscription_dlq(
    deploy: Callable[[dict[str, Any]], Emulation],
) -> None:
    """From "Amazon SNS dead-letter queues (DLQs)" (sns/latest/dg/sns-dead-letter-queues.html):
    a client-side error (the endpoint was deleted) is not retried; with a redrive policy the
    message moves to the subscription's dead-letter queue."""
    emulation = deploy(
        {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "SubscriptionDlq": queue(),
            "Subscription": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "Protocol": "lambda",
                    "TopicArn": {"Ref": "Topic"},
                    "Endpoint": "arn:aws:lambda:us-east-1:123456789012:function:deleted",
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["SubscriptionDlq", "Arn"]}
                    },
                },
            },
        }
    )
    boto3.client("sns").publish(TopicArn=emulation.ref("Topic"), Message="for nobody")
    [message] = receive_all(emulation.ref("SubscriptionDlq"))
    assert json.loads(message["Body"])["Message"] == "for nobody"
