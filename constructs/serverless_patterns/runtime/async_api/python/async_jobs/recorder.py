"""The AsyncApi dead-letter recorder: a job whose message leaves the queue is ``failed``.

SQS moves a job's message on after ``maxReceiveCount`` receives whatever the worker did: it
may have timed out, run out of memory or crashed before recording anything. The job queue
therefore redrives into the recorder's queue, and this function, for each message:

1. marks the job ``failed`` — unless it already ``succeeded`` or was marked ``failed`` by the
   worker (a conditional write) — with the reason, so the status API, the stream and the
   WebSocket subscribers learn the outcome;
2. forwards the message unchanged (body and message attributes) to the dead-letter queue,
   where it is kept for redrive.

A message this function cannot handle returns to the recorder's queue and, after its
``maxReceiveCount``, SQS moves it to the same dead-letter queue: nothing is lost.

Environment: ``TABLE_NAME``, ``DEAD_LETTER_QUEUE_URL``, ``QUEUE_FIFO``,
``JOB_RETENTION_SECONDS``.
"""

import base64
import os
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from async_jobs import (
    FAILED,
    PENDING,
    RUNNING,
    job_expires_at,
    job_id_of,
    job_key,
    now,
    table,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

#: Why a job failed when the worker recorded no outcome on its last receive.
NO_OUTCOME = (
    "the worker recorded no outcome on the last allowed receive (it timed out, ran out of "
    "memory or crashed); the message is kept in the dead-letter queue for redrive"
)

logger = Logger()
jobs = table()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def sqs() -> Any:
    return boto3.client("sqs")


def record_failed(job_id: str, record: SQSRecord) -> bool:
    """Mark the job failed unless it succeeded or is already failed; answer whether it was."""
    sent = datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, UTC)
    moment = now()
    try:
        jobs.update_item(
            Key=job_key(job_id),
            UpdateExpression=(
                "SET #status = :failed, #error = :why, finished_at = :now, updated_at = :now, "
                "expires_at = :expires, "
                "submitted_at = if_not_exists(submitted_at, :sent) "
                "REMOVE #owner, lease_expires_at"
            ),
            ConditionExpression="attribute_not_exists(pk) OR #status IN (:pending, :running)",
            ExpressionAttributeNames={"#status": "status", "#error": "error", "#owner": "owner"},
            ExpressionAttributeValues={
                ":failed": FAILED,
                ":pending": PENDING,
                ":running": RUNNING,
                ":why": NO_OUTCOME,
                ":now": moment,
                ":expires": job_expires_at(),
                ":sent": sent.isoformat(timespec="milliseconds"),
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False  # the worker recorded the outcome (succeeded, or failed with its error)
    return True


def message_attributes(record: SQSRecord) -> dict[str, Any]:
    """The record's message attributes as ``SendMessage`` takes them."""
    attributes = {}
    for name, value in (record.raw_event.get("messageAttributes") or {}).items():
        attribute: dict[str, Any] = {"DataType": value["dataType"]}
        if value.get("stringValue") is not None:
            attribute["StringValue"] = value["stringValue"]
        if value.get("binaryValue") is not None:
            attribute["BinaryValue"] = base64.b64decode(value["binaryValue"])
        attributes[name] = attribute
    return attributes


def forward(record: SQSRecord) -> None:
    """Send the message, as it was, to the dead-letter queue."""
    request: dict[str, Any] = {
        "QueueUrl": os.environ["DEAD_LETTER_QUEUE_URL"],
        "MessageBody": record.body,
        "MessageAttributes": message_attributes(record),
    }
    if os.environ.get("QUEUE_FIFO") == "true":
        request["MessageGroupId"] = record.attributes.message_group_id
        request["MessageDeduplicationId"] = record.message_id  # a retried forward is a no-op
    sqs().send_message(**request)


def keep(record: SQSRecord) -> None:
    job_id = job_id_of(record.raw_event.get("messageAttributes"), record.message_id)
    marked = record_failed(job_id, record)
    forward(record)
    logger.info("dead letter kept", job_id=job_id, marked_failed=marked)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    return process_partial_response(
        event=event, record_handler=keep, processor=processor, context=context
    )
