"""The DeviceTelemetry reference stack in moto: readings in, aggregates and a raw copy out.

The consumer runs as its execution role, fed by the emulated Kinesis event source mapping
(tests/support/emulation/streams.py); the raw copy goes through the emulated Firehose
(tests/support/emulation/kinesis.py).
"""

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.support.emulation import Emulation, receive_all
from tests.support.events import kinesis_stream_event

CONSUMER = "Telemetry/Function"


@pytest.fixture
def emulation(emulate: Callable[[str], Emulation]) -> Emulation:
    return emulate("DeviceTelemetry")


def put(emulation: Emulation, *records: tuple[str, Any]) -> list[str]:
    """Put ``(device id, data)`` records as a device fleet does; their sequence numbers."""
    answer = boto3.client("kinesis").put_records(
        StreamName=emulation.ref("Telemetry/Stream"),
        Records=[
            {
                "PartitionKey": device,
                "Data": data if isinstance(data, bytes) else json.dumps(data).encode(),
            }
            for device, data in records
        ],
    )
    assert answer["FailedRecordCount"] == 0
    return [entry["SequenceNumber"] for entry in answer["Records"]]


def aggregates(emulation: Emulation) -> dict[str, dict[str, Any]]:
    """``{device: aggregate}`` of the current minute's items (markers left out)."""
    return {
        item["pk"].removeprefix("device#"): {
            name: item[name] for name in ("count", "sum", "min", "max")
        }
        for item in emulation.items("Aggregates")
        if item["pk"].startswith("device#")
    }


def reading(device: str, value: float) -> tuple[str, dict[str, Any]]:
    return device, {"device_id": device, "reading": value}


def test_readings_are_aggregated_per_device(emulation: Emulation) -> None:
    put(
        emulation,
        reading("thermostat-1", 20.5),
        reading("thermostat-1", 22),
        reading("thermostat-2", -3),
        reading("thermostat-1", 21),
    )

    emulation.stream(CONSUMER).run()

    assert aggregates(emulation) == {
        "thermostat-1": {"count": 3, "sum": 63.5, "min": 20.5, "max": 22},
        "thermostat-2": {"count": 1, "sum": -3, "min": -3, "max": -3},
    }


def test_a_poison_record_goes_to_the_dead_letter_queue_and_the_rest_is_counted_once(
    emulation: Emulation,
) -> None:
    """ "Configuring partial batch response with Kinesis Data Streams and Lambda" (lambda/latest/
    dg/services-kinesis-batchfailurereporting.html): Lambda retries from the lowest failed
    sequence number, so the good record after the poison is delivered again on each retry;
    after ``MaximumRetryAttempts`` (3) the batch from the poison on is described on the
    on-failure destination ("Retaining discarded batch records for a Kinesis Data Streams
    event source", lambda/latest/dg/kinesis-on-failure-destination.html)."""
    before, poison, after = put(
        emulation,
        reading("thermostat-1", 20),
        ("thermostat-1", b"not json"),
        reading("thermostat-1", 22),
    )

    invocations = emulation.stream(CONSUMER).run()

    assert invocations == 4  # the first try and 3 retries from the poison
    assert aggregates(emulation) == {"thermostat-1": {"count": 2, "sum": 42, "min": 20, "max": 22}}
    [discarded] = [
        json.loads(m["Body"]) for m in receive_all(emulation.ref("Telemetry/DeadLetterQueue"))
    ]
    assert discarded["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert discarded["requestContext"]["approximateInvokeCount"] == 4
    batch = discarded["KinesisBatchInfo"]
    assert (batch["startSequenceNumber"], batch["endSequenceNumber"]) == (poison, after)
    assert batch["batchSize"] == 2
    assert batch["streamArn"] == emulation.arn("Telemetry/Stream")
    assert before not in (batch["startSequenceNumber"], batch["endSequenceNumber"])


def delivered(emulation: Emulation) -> dict[str, Any]:
    """The event Lambda delivers for the records of the one shard that holds any."""
    kinesis = boto3.client("kinesis")
    stream = emulation.arn("Telemetry/Stream")
    held = {}
    for shard in kinesis.list_shards(StreamARN=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamARN=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, StreamARN=stream)["Records"]
        if records:
            held[shard["ShardId"]] = records
    [(shard_id, records)] = held.items()
    return kinesis_stream_event(records, stream, shard_id)


def test_a_record_delivered_twice_is_counted_once(emulation: Emulation) -> None:
    """At-least-once delivery: the same records (same shard, same sequence numbers) given to
    the consumer twice add to the aggregate once."""
    put(emulation, reading("thermostat-1", 20), reading("thermostat-1", 25))
    event = delivered(emulation)
    consumer = emulation.function(CONSUMER)

    first = consumer.invoke(event)
    second = consumer.invoke(event)

    assert first == second == {"batchItemFailures": []}
    assert aggregates(emulation) == {"thermostat-1": {"count": 2, "sum": 45, "min": 20, "max": 25}}


def test_each_malformed_reading_fails_on_its_own(emulation: Emulation) -> None:
    """Every record that is not a reading is reported in ``batchItemFailures`` (by sequence
    number, services-kinesis-batchfailurereporting.html); the valid one is counted."""
    device = "thermostat-1"
    numbers = put(
        emulation,
        reading(device, 19),
        (device, [device, 20]),
        (device, {"device_id": "", "reading": 20}),
        (device, {"device_id": device, "reading": "hot"}),
        (device, {"device_id": device, "reading": True}),
        (device, b'{"device_id": "thermostat-1", "reading": NaN}'),
    )

    answer = emulation.function(CONSUMER).invoke(delivered(emulation))

    assert answer == {"batchItemFailures": [{"itemIdentifier": n} for n in numbers[1:]]}
    assert aggregates(emulation) == {device: {"count": 1, "sum": 19, "min": 19, "max": 19}}


def test_the_raw_copy_lands_gzipped_under_the_date_partitions(emulation: Emulation) -> None:
    """ "Custom prefixes for Amazon S3 objects" (firehose/latest/dev/s3-prefixes.html): the
    timestamp expressions take the arrival time (UTC) of the oldest record in the object.
    Firehose concatenates records without delimiters unless asked ("Understand data delivery
    in Amazon Data Firehose", firehose/latest/dev/basic-deliver.html); the archive asks for a
    newline after each (API reference, "Processor": AppendDelimiterToRecord)."""
    first = reading("thermostat-1", 20)[1]
    second = reading("thermostat-2", 21)[1]
    put(emulation, ("thermostat-1", first), ("thermostat-2", second))

    assert emulation.firehose.flush("TelemetryArchive") == 2

    bucket = emulation.ref("Telemetry/ArchiveBucket")
    [key] = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    now = datetime.now(UTC)
    assert key.startswith(
        f"data/year={now:%Y}/month={now:%m}/day={now:%d}/hour={now:%H}/"
        f"{emulation.ref('Telemetry/Archive')}-1-{now:%Y-%m-%d-%H}-"
    )
    assert key.endswith(".gz")
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    lines = gzip.decompress(body).decode().split("\n")
    assert lines[-1] == ""  # every record ends with a newline, the last one too
    assert sorted(lines[:-1]) == sorted([json.dumps(first), json.dumps(second)])
