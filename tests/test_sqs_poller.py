"""The emulated SQS event source mapping (tests/support/sqs_poller.py) follows the Lambda
developer guide: "Handling errors for an SQS event source in Lambda" and its section
"Implementing partial batch responses" (lambda/latest/dg/services-sqs-errorhandling.html)."""

import json
from typing import Any

import boto3
import pytest

from tests.support.sqs_poller import Drained, EventSourceMapping, drain

REPORTING = EventSourceMapping(batch_size=10, report_batch_item_failures=True)
NOT_REPORTING = EventSourceMapping(batch_size=10, report_batch_item_failures=False)


@pytest.fixture
def queue(aws: None) -> tuple[str, str]:
    """A queue whose messages move to a dead-letter queue on their third receive: (url, dlq)."""
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 2}
    url = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": json.dumps(redrive)})[
        "QueueUrl"
    ]
    for number in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": number}))
    return url, dlq


def bodies(drained: Drained) -> list[int]:
    return sorted(json.loads(m["Body"])["n"] for m in drained.processed)


def dead_letters(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def fail_number(n: int) -> Any:
    """A function that reports the message with body ``{"n": n}`` failed."""

    def function(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]}
                for r in event["Records"]
                if json.loads(r["body"])["n"] == n
            ]
        }

    return function


def test_reported_failures_return_to_the_queue_and_the_rest_is_deleted(
    queue: tuple[str, str],
) -> None:
    url, dlq = queue

    drained = drain(url, fail_number(1), REPORTING)

    assert bodies(drained) == [0, 2]
    assert drained.invocations == 2  # the failure once more, then SQS moved it
    assert dead_letters(dlq) == 1


@pytest.mark.parametrize(
    "response",
    [{"batchItemFailures": []}, {"batchItemFailures": None}, {}, None],
    ids=["empty list", "null list", "empty response", "no response"],
)
def test_an_empty_or_absent_failure_list_means_the_whole_batch_succeeded(
    queue: tuple[str, str], response: Any
) -> None:
    url, dlq = queue

    drained = drain(url, lambda event: response, REPORTING)

    assert bodies(drained) == [0, 1, 2] and drained.invocations == 1
    assert dead_letters(dlq) == 0


@pytest.mark.parametrize(
    "failure",
    [{"itemIdentifier": "not-a-message-of-this-batch"}, {"itemIdentifier": ""}, {"id": "x"}],
    ids=["unknown id", "empty id", "no itemIdentifier key"],
)
def test_an_invalid_item_identifier_fails_the_whole_batch(
    queue: tuple[str, str], failure: dict[str, str]
) -> None:
    url, dlq = queue

    drained = drain(url, lambda event: {"batchItemFailures": [failure]}, REPORTING)

    assert drained.processed == [] and drained.invocations == 2
    assert dead_letters(dlq) == 3


def test_without_report_batch_item_failures_a_returned_list_is_ignored(
    queue: tuple[str, str],
) -> None:
    url, dlq = queue

    drained = drain(url, fail_number(1), NOT_REPORTING)

    assert bodies(drained) == [0, 1, 2] and drained.invocations == 1
    assert dead_letters(dlq) == 0


@pytest.mark.parametrize("mapping", [REPORTING, NOT_REPORTING])
def test_a_raised_error_returns_the_whole_batch(
    queue: tuple[str, str], mapping: EventSourceMapping
) -> None:
    url, dlq = queue

    def function(event: dict[str, Any]) -> None:
        raise RuntimeError("the function failed")

    drained = drain(url, function, mapping)

    assert drained.processed == [] and drained.failed_invocations == 2
    assert dead_letters(dlq) == 3


def test_an_invocation_gets_at_most_the_batch_size(queue: tuple[str, str]) -> None:
    url, _ = queue
    sizes: list[int] = []

    def function(event: dict[str, Any]) -> None:
        sizes.append(len(event["Records"]))

    drain(url, function, EventSourceMapping(batch_size=2, report_batch_item_failures=True))

    assert sizes == [2, 1]


def test_the_mapping_is_read_from_the_template(templates: dict[str, dict[str, Any]]) -> None:
    template = templates["FanOut"]
    [queue_id] = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Metadata"]["aws:cdk:path"] == "FanOut/OrderEvents/billing/Queue/Resource"
    ]

    mapping = EventSourceMapping.of_queue(template, queue_id)

    assert mapping == EventSourceMapping(batch_size=10, report_batch_item_failures=True)
