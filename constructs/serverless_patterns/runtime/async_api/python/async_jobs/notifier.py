"""Tells a job's WebSocket subscribers its outcome when it succeeds or fails for good.

Invoked by the jobs table's stream (filtered to finished jobs). Each subscriber receives
``{"job_id": ..., "status": "succeeded" | "failed", "result" | "error": ...}``. A WebSocket
message holds at most 128 KB: a larger result is left out (``"result_omitted": true`` and
``"status_path"``, where ``GET`` answers it). A connection that is gone (API Gateway answers
410 ``GoneException``) is forgotten, never retried; a message API Gateway still finds too
large (413) is logged, never retried. Any other error fails the record once every subscriber
has been tried; the stream retries it and finally sends it to the notifier's dead-letter
queue. A retried record may tell a subscriber twice: messages carry the job id and status, so
clients can ignore repeats.

Environment: ``TABLE_NAME``, ``CONNECTIONS_ENDPOINT`` (the WebSocket stage's callback URL),
``JOBS_PATH`` (the REST path jobs are posted to).
"""

import os
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from async_jobs import (
    FINISHED,
    JOB,
    forget_connection,
    public_view,
    subscribers_of_job,
    table,
    websocket_json,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

logger = Logger()
jobs = table()


@cache
def connections() -> Any:
    """The WebSocket stage's management API (made on first use)."""
    return boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CONNECTIONS_ENDPOINT"])


processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


def notify(record: DynamoDBRecord) -> int:
    """Post a finished job's outcome to its subscribers; answer how many were told."""
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image or image.get("sk") != JOB or image.get("status") not in FINISHED:
        return 0  # the event source filter lets only finished jobs through; be safe anyway
    job_id = image["pk"]
    message = websocket_json([public_view(image)], lambda views: views[0]).encode()
    told, failure = 0, None
    for connection_id in subscribers_of_job(jobs, job_id):
        try:
            connections().post_to_connection(ConnectionId=connection_id, Data=message)
            told += 1
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "GoneException":
                forgotten = forget_connection(jobs, connection_id)
                logger.info(
                    "subscriber is gone: forgotten",
                    job_id=job_id,
                    connection_id=connection_id,
                    subscriptions=forgotten,
                )
            elif code == "PayloadTooLargeException":
                logger.error("message too large for API Gateway: not retried", bytes=len(message))
            else:
                failure = failure or error  # tell the others first; the retry repeats all
    logger.info("job outcome posted", job_id=job_id, status=image["status"], subscribers=told)
    if failure is not None:
        raise failure
    return told


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    return process_partial_response(
        event=event, record_handler=notify, processor=processor, context=context
    )
