"""Device telemetry: per-device, per-minute aggregates of the readings devices put on the stream.

Each Kinesis record is one reading, ``{"device_id": "thermostat-42", "reading": 21.5}``, put
with the device id as partition key (so a device's readings stay in order on one shard). The
reading is added to the aggregate of its device and minute (the record's arrival time, UTC):
``count``, ``sum``, ``min`` and ``max``, from which a dashboard derives the mean.

Exactly-once counting over at-least-once delivery: Lambda delivers a record again when it
retries a batch ("Configuring partial batch response with Kinesis Data Streams and Lambda":
every record from the lowest failed one on). ``count`` and ``sum`` are added in **one
transaction with a marker** ``record#<shard>:<sequence number>`` that may only be written once:
a redelivered record's marker exists, the transaction is cancelled, nothing is added twice.
``min`` and ``max`` are conditional writes that give the same result however often they run.
Markers expire after 8 days: longer than Lambda redelivers a record (at most the mapping's
maximum record age, which Lambda caps at 7 days; 1 hour here).

A record that is not a valid reading fails on its own (``batchItemFailures``); Lambda retries
from it, then hands its batch's description to the on-failure dead-letter queue, and the
shard moves on. Valid records are never counted twice on the way.
"""

import json
import math
import os
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

MARKER_TTL_SECONDS = 8 * 24 * 60 * 60
MAX_DEVICE_ID_LENGTH = 128

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
aggregates = boto3.resource("dynamodb").Table(os.environ["AGGREGATES_TABLE"])


class InvalidReading(ValueError):
    """The record is not a reading a device sends; retrying will not help."""


def reading_of(data: str) -> tuple[str, float]:
    """The device id and the reading of a record's data."""
    try:
        reading = json.loads(data)
    except json.JSONDecodeError:
        raise InvalidReading("the record is not JSON") from None
    if not isinstance(reading, dict):
        raise InvalidReading("the record is not a JSON object")
    device_id, value = reading.get("device_id"), reading.get("reading")
    if not isinstance(device_id, str) or not 0 < len(device_id) <= MAX_DEVICE_ID_LENGTH:
        raise InvalidReading("device_id must be a string of 1 to 128 characters")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidReading("reading must be a finite number")
    return device_id, value


def minute_of(arrival: float) -> str:
    return datetime.fromtimestamp(arrival, UTC).strftime("%Y-%m-%dT%H:%MZ")


def add_once(marker: str, key: dict[str, str], value: Decimal) -> bool:
    """Add one reading to ``count`` and ``sum`` with ``marker``; False if already added."""
    table = aggregates.table_name
    try:
        aggregates.meta.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            "pk": marker,
                            "sk": "record",
                            "expires_at": int(time.time()) + MARKER_TTL_SECONDS,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": "ADD #count :one, #sum :value",
                        "ExpressionAttributeNames": {"#count": "count", "#sum": "sum"},
                        "ExpressionAttributeValues": {":one": 1, ":value": value},
                    }
                },
            ]
        )
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or [{}]
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True


def keep_extreme(key: dict[str, str], name: str, value: Decimal, replaces: str) -> None:
    """Set ``name`` to ``value`` if unset or if ``value`` ``replaces`` (``<``/``>``) it."""
    try:
        aggregates.update_item(
            Key=key,
            UpdateExpression="SET #extreme = :value",
            ConditionExpression=f"attribute_not_exists(#extreme) OR :value {replaces} #extreme",
            ExpressionAttributeNames={"#extreme": name},
            ExpressionAttributeValues={":value": value},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


@tracer.capture_method
def aggregate(record: KinesisStreamRecord) -> dict[str, Any]:
    device_id, reading = reading_of(record.kinesis.data_as_text())
    value = Decimal(str(reading))  # DynamoDB numbers: exact decimals, no float rounding
    minute = minute_of(record.kinesis.approximate_arrival_timestamp)
    key = {"pk": f"device#{device_id}", "sk": f"minute#{minute}"}
    added = add_once(f"record#{record.event_id}", key, value)
    keep_extreme(key, "min", value, "<")
    keep_extreme(key, "max", value, ">")
    if not added:
        logger.info("duplicate delivery: already counted", extra={"event_id": record.event_id})
    return {"device_id": device_id, "minute": minute, "added": added}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    return process_partial_response(
        event=event, record_handler=aggregate, processor=processor, context=context
    )
