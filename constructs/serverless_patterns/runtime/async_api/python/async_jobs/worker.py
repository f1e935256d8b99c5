"""The AsyncApi worker: runs your ``process(job)`` at most once to success per job.

Your code is one function, ``process(job: dict) -> dict`` (optionally with a ``job_id``
keyword parameter, e.g. for a downstream idempotency key). This module does the rest for each
SQS message of a batch:

1. **Claim** the job with a conditional write on its item in the jobs table: status
   ``running``, a lease until this invocation times out. A job that already ``succeeded`` is
   a duplicate delivery: it is acknowledged without running ``process`` again. A job another
   invocation is running (lease not expired) is left for a later receive.
2. **Run** ``process`` with the message body (the request the API validated).
3. **Record** the outcome, conditional on still holding the lease: ``succeeded`` with the
   result, or the error with status ``pending`` (SQS will deliver it again) or — on the last
   receive the queue allows (``ApproximateReceiveCount`` ≥ ``MAX_RECEIVE_COUNT``) — ``failed``.
   A failed message is still reported in ``batchItemFailures``, so SQS moves it on (through
   the recorder) to the dead-letter queue, where it is kept for redrive. A redriven job runs
   again.

A processor that cannot be imported fails each job with that reason (recorded like any
error), not the whole batch. A job whose worker times out, runs out of memory or crashes on
the last receive records nothing here: ``async_jobs.recorder`` marks it failed when SQS moves
its message towards the dead-letter queue. Every write sets the record's expiry
(``JOB_RETENTION_SECONDS`` after it).

Environment: ``TABLE_NAME``, ``MAX_RECEIVE_COUNT`` (the queue's redrive ``maxReceiveCount``),
``PROCESSOR`` (``module.function`` of your code, for :func:`handler`), ``QUEUE_FIFO``,
``JOB_RETENTION_SECONDS``.

Use :func:`handler` as the Lambda handler (the construct does), or call :func:`handle` from
your own handler: ``return handle(event, context, process)``.
"""

import importlib
import inspect
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from async_jobs import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    job_expires_at,
    job_id_of,
    job_key,
    now,
    table,
    to_item,
    to_json,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

#: A result larger than this is not stored (a DynamoDB item holds at most 400 KB).
MAX_RESULT_BYTES = 300_000
MAX_ERROR_CHARS = 1_000

logger = Logger()
jobs = table()
MAX_RECEIVE_COUNT = int(os.environ["MAX_RECEIVE_COUNT"])
FIFO = os.environ.get("QUEUE_FIFO") == "true"

Process = Callable[..., Any]


class JobInProgress(Exception):
    """Another invocation holds this job's lease; SQS delivers the message again later."""


class ProcessorUnavailable(Exception):
    """The processor could not be imported: each job fails with the reason."""


def handle(
    event: dict[str, Any], context: LambdaContext, process: Process
) -> "PartialItemFailureResponse":
    """Run ``process`` for each message of an SQS batch; answer ``batchItemFailures``."""
    if FIFO:
        # Keep order: after a failure, the rest of that message group waits for a retry.
        processor: BatchProcessor = SqsFifoPartialProcessor(skip_group_on_error=True)
        processor.raise_on_entire_batch_failure = False
    else:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    passes_job_id = "job_id" in inspect.signature(process).parameters
    remaining_ms = getattr(context, "get_remaining_time_in_millis", lambda: 60_000)

    def run(record: SQSRecord) -> Any:
        return run_job(record, process, passes_job_id, lease_seconds=remaining_ms() / 1000)

    return process_partial_response(
        event=event, record_handler=run, processor=processor, context=context
    )


@cache
def load(processor: str) -> Process:
    """``module.function`` → the function (``app.process``)."""
    module, _, name = processor.rpartition(".")
    return getattr(importlib.import_module(module), name)


def load_or_fail(processor: str) -> Process:
    """The processor, or — if it cannot be imported — a process that fails with the reason."""
    try:
        return load(processor)
    except Exception as error:
        logger.exception("the processor could not be loaded", processor=processor)
        reason = f"{processor} could not be loaded: {type(error).__name__}: {error}"

        def unavailable(job: dict[str, Any]) -> Any:
            raise ProcessorUnavailable(reason)

        return unavailable


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    return handle(event, context, load_or_fail(os.environ["PROCESSOR"]))


def run_job(record: SQSRecord, process: Process, passes_job_id: bool, lease_seconds: float) -> Any:
    job_id = job_id_of(record.raw_event.get("messageAttributes"), record.message_id)
    receive_count = int(record.attributes.approximate_receive_count)
    owner = f"{record.message_id}:{receive_count}"
    logger.append_keys(job_id=job_id, receive_count=receive_count)
    try:
        if not claim(job_id, owner, receive_count, record, lease_seconds):
            return None  # a duplicate delivery of a job that already succeeded
        try:
            job = json.loads(record.body)
            if not isinstance(job, dict):
                raise ValueError("the message body is not a JSON object")
            result = process(job, job_id=job_id) if passes_job_id else process(job)
        except Exception as error:
            final = receive_count >= MAX_RECEIVE_COUNT
            record_failure(job_id, owner, error, final=final)
            logger.exception("job failed" + (" for good" if final else ", will be retried"))
            raise
        record_success(job_id, owner, result)
        logger.info("job succeeded")
        return result
    finally:
        logger.remove_keys(["job_id", "receive_count"])


def claim(
    job_id: str, owner: str, receive_count: int, record: SQSRecord, lease_seconds: float
) -> bool:
    """Mark the job running for ``owner``; False when it already succeeded."""
    sent = datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, UTC)
    epoch = time.time()
    try:
        jobs.update_item(
            Key=job_key(job_id),
            UpdateExpression=(
                "SET #status = :running, #owner = :owner, lease_expires_at = :lease, "
                "attempts = :attempts, updated_at = :now, expires_at = :expires, "
                "started_at = if_not_exists(started_at, :now), "
                "submitted_at = if_not_exists(submitted_at, :sent)"
            ),
            ConditionExpression=(
                "attribute_not_exists(pk) OR #status IN (:pending, :failed) "
                "OR (#status = :running AND lease_expires_at < :epoch)"
            ),
            ExpressionAttributeNames={"#status": "status", "#owner": "owner"},
            ExpressionAttributeValues=to_item(
                {
                    ":running": RUNNING,
                    ":pending": PENDING,
                    ":failed": FAILED,
                    ":owner": owner,
                    ":lease": int(epoch + lease_seconds) + 1,
                    ":epoch": int(epoch),
                    ":attempts": receive_count,
                    ":now": now(),
                    ":sent": sent.isoformat(timespec="milliseconds"),
                    ":expires": job_expires_at(),
                }
            ),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        status = error.response.get("Item", {}).get("status", {}).get("S")
        if status == SUCCEEDED:
            logger.info("duplicate delivery of a job that already succeeded: skipped")
            return False
        raise JobInProgress(f"job {job_id} is being processed by another invocation") from None
    return True


def record_success(job_id: str, owner: str, result: Any) -> None:
    values: dict[str, Any] = {":succeeded": SUCCEEDED, ":owner": owner, ":now": now()}
    update = (
        "SET #status = :succeeded, finished_at = :now, updated_at = :now, expires_at = :expires"
    )
    try:
        stored = to_item(result)
        size = len(to_json(result).encode())
    except (TypeError, ValueError) as error:
        stored, size = None, 0
        values[":note"] = f"the result was not stored: it is not JSON ({error})"
    if size > MAX_RESULT_BYTES:
        stored = None
        values[":note"] = (
            f"the result was not stored: {size} bytes is more than {MAX_RESULT_BYTES}; "
            "store large results elsewhere (e.g. S3) and return a reference"
        )
    if stored is not None:
        values[":result"] = stored
        update += ", #result = :result"
    if ":note" in values:
        update += ", #error = :note REMOVE #owner, lease_expires_at"
        logger.warning(values[":note"])
    else:
        update += " REMOVE #owner, lease_expires_at, #error"
    _finish(job_id, update, values)


def record_failure(job_id: str, owner: str, error: Exception, *, final: bool) -> None:
    message = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    values = {":status": FAILED if final else PENDING, ":error": message, ":owner": owner}
    update = "SET #status = :status, #error = :error, updated_at = :now, expires_at = :expires"
    values[":now"] = now()
    if final:
        update += ", finished_at = :now"
    _finish(job_id, update + " REMOVE #owner, lease_expires_at", values)


def _finish(job_id: str, update: str, values: dict[str, Any]) -> None:
    values[":expires"] = job_expires_at()
    names = {"#status": "status", "#owner": "owner", "#error": "error"}
    if ":result" in values:
        names["#result"] = "result"
    try:
        jobs.update_item(
            Key=job_key(job_id),
            UpdateExpression=update,
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        # The lease ran out and another invocation took the job over: it records the outcome.
        logger.warning("lost the job's lease before recording its outcome")
