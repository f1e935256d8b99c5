"""Lambda's SQS event source mapping, emulated as the template configures it.

One poller for every pattern's tests. It reads the function's ``AWS::Lambda::EventSourceMapping``
from the synthesized template and follows the Lambda developer guide:

- "Using Lambda with Amazon SQS" (lambda/latest/dg/with-sqs.html): an invocation gets at most
  ``BatchSize`` messages. ``MaximumBatchingWindowInSeconds`` only delays an invocation while
  the batch fills; the tests drain a queue at once, so it is ignored here.
- "Handling errors for an SQS event source in Lambda" (lambda/latest/dg/
  services-sqs-errorhandling.html): an invocation that raises returns the whole batch to the
  queue; its messages reappear once their visibility timeout passes (here: at once).
- Same page, "Implementing partial batch responses": a returned ``batchItemFailures`` counts
  only when ``FunctionResponseTypes`` holds ``ReportBatchItemFailures``; an empty or absent list
  (or no response at all) means the whole batch succeeded; an ``itemIdentifier`` that is
  missing, empty or not a message of the batch fails the whole batch.
- A message received ``maxReceiveCount`` times moves to the dead-letter queue: SQS does that
  (moto's redrive), not the poller.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from tests.support.cdk import resources
from tests.support.events import sqs_event

#: Bound on invocations per drain; a queue with a redrive policy always empties before.
MAX_INVOCATIONS = 200


@dataclass(frozen=True)
class EventSourceMapping:
    """What the poller reads from a template's event source mapping."""

    batch_size: int = 10
    report_batch_item_failures: bool = False

    @classmethod
    def of_queue(cls, template: dict[str, Any], queue_logical_id: str) -> "EventSourceMapping":
        """The mapping whose event source is the queue ``queue_logical_id``."""
        [mapping] = [
            m
            for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
            if m["EventSourceArn"] == {"Fn::GetAtt": [queue_logical_id, "Arn"]}
        ]
        return cls(
            batch_size=mapping.get("BatchSize", 10),
            report_batch_item_failures="ReportBatchItemFailures"
            in mapping.get("FunctionResponseTypes", []),
        )


@dataclass
class Drained:
    """What the poller made of a queue: messages processed (deleted) and invocations."""

    processed: list[dict[str, Any]] = field(default_factory=list)
    invocations: int = 0
    failed_invocations: int = 0


def failed_ids(mapping: EventSourceMapping, response: Any, batch: list[str]) -> set[str]:
    """The messages of ``batch`` (ids) that return to the queue after ``response``."""
    if not mapping.report_batch_item_failures or not response:
        return set()  # the response is ignored / no response: the whole batch succeeded
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not isinstance(response, dict) or not isinstance(failures, list | None):
        return set(batch)  # not a batch response: the whole batch failed
    failed = set()
    for failure in failures or []:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in batch:
            return set(batch)  # missing, empty or unknown itemIdentifier: the whole batch
        failed.add(identifier)
    return failed


def drain(
    queue_url: str,
    invoke: Callable[[dict[str, Any]], Any],
    mapping: EventSourceMapping,
) -> Drained:
    """Feed the queue to ``invoke`` (the function: event in, response out) until it is empty."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    queue_arn = arn["Attributes"]["QueueArn"]
    drained = Drained()
    for _ in range(MAX_INVOCATIONS):
        batch = receive(sqs, queue_url, mapping.batch_size)
        if not batch:
            return drained
        drained.invocations += 1
        ids = [message["MessageId"] for message in batch]
        try:
            response = invoke(sqs_event(batch, queue_arn))
        except Exception:  # the invocation failed: every message returns to the queue
            drained.failed_invocations += 1
            failed = set(ids)
        else:
            failed = failed_ids(mapping, response, ids)
        for message in batch:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                drained.processed.append(message)
    raise AssertionError(f"{queue_url} never emptied in {MAX_INVOCATIONS} invocations")


def receive(sqs: Any, queue_url: str, batch_size: int) -> list[dict[str, Any]]:
    """Up to ``batch_size`` messages (ReceiveMessage returns at most 10 a call)."""
    batch: list[dict[str, Any]] = []
    while len(batch) < batch_size:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, batch_size - len(batch)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        batch += messages
    return batch
