"""Lambda's stream event source mappings (DynamoDB and Kinesis), emulated as the template
configures them.

The rules, from the Lambda developer guide, for DynamoDB streams:

- "Lambda parameters for Amazon DynamoDB event source mappings" (lambda/latest/dg/
  services-ddb-params.html): ``BatchSize`` (default 100), ``StartingPosition``
  (``TRIM_HORIZON`` or ``LATEST``), ``MaximumRetryAttempts`` and ``MaximumRecordAgeInSeconds``
  (default -1: until the record expires), ``BisectBatchOnFunctionError`` (default false).
- "Control which events Lambda sends to your function" (lambda/latest/dg/
  invocation-eventfiltering.html): a record that matches no filter is not sent, and counts
  as processed.
- "Configuring partial batch response with DynamoDB and Lambda" (lambda/latest/dg/
  services-ddb-batchfailurereporting.html): ``batchItemFailures`` counts only with
  ``ReportBatchItemFailures``; an empty or absent list (or no response) is a success; an
  empty, null or unknown ``itemIdentifier`` fails the whole batch; otherwise Lambda
  checkpoints before the lowest failed sequence number and retries from there. A function
  error with bisect on splits the batch in two, whatever the response type.
- "Retain discarded records for a DynamoDB event source in Lambda" (lambda/latest/dg/
  services-dynamodb-errors.html): splitting does not use up the retry quota; records past
  their retries (``RetryAttemptsExhausted``) or their age (``RecordAgeExceeded``) are
  discarded and a record of the batch (``DDBStreamBatchInfo``) goes to the ``OnFailure``
  destination; processing goes on with the next records.

Kinesis follows the same rules, from "Lambda parameters for Amazon Kinesis Data Streams event
source mappings" (lambda/latest/dg/services-kinesis-parameters.html), "Configuring partial
batch response with Kinesis Data Streams and Lambda" (lambda/latest/dg/
services-kinesis-batchfailurereporting.html) and "Retaining discarded batch records for a
Kinesis Data Streams event source in Lambda" (lambda/latest/dg/kinesis-on-failure-
destination.html): each shard is read in order on its own, a batch holds the records of one
shard, the event is the one of "Using Lambda with Kinesis Data Streams" (lambda/latest/dg/
with-kinesis.html), and the on-failure record describes the batch as ``KinesisBatchInfo``.
Not emulated (a mapping using them is refused): Kinesis event filters and tumbling windows.
``ParallelizationFactor`` and ``MaximumBatchingWindowInSeconds`` change timing only: a run
reads every record already in the stream.

A DynamoDB stream has one shard in moto; an on-demand Kinesis stream four. Time: a record's
age is measured on the emulation's clock (:attr:`StreamPoller.clock`), which a test moves on
instead of sleeping.
"""

import json
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from tests.support.emulation.functions import Function
from tests.support.emulation.intrinsics import REGION
from tests.support.events import dynamodb_stream_event, kinesis_stream_event
from tests.support.iam import as_platform

#: moto answers DescribeStream etc. only on the regional endpoint.
STREAMS_ENDPOINT = f"https://streams.dynamodb.{REGION}.amazonaws.com"
#: Bound on invocations per run: "retry until the record expires" would block the shard.
MAX_INVOCATIONS = 200


def matches(pattern: Any, value: Any) -> bool:
    """An event filter pattern: nested objects, lists of allowed values (exact match)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and matches(part, value[key]) for key, part in pattern.items()
        )
    return value in pattern


@dataclass
class Batch:
    shard_id: str
    records: list[dict[str, Any]]
    #: Invocations that held these records (splits included), and retries (splits excluded).
    invocations: int = 0
    retries: int = 0


class DynamoDBStream:
    """A DynamoDB stream as the poller reads it: its shard, its records and their event."""

    batch_info = "DDBStreamBatchInfo"
    arn_parameter = "StreamArn"
    #: moto's Kinesis GetRecords finds the stream by the ARN given with the iterator.
    arn_on_read = False

    def __init__(self, arn: str, starting_position: str) -> None:
        self.arn = arn
        self.client = self.connect()
        self.iterators = {
            shard_id: self.client.get_shard_iterator(
                **{self.arn_parameter: arn},
                ShardId=shard_id,
                ShardIteratorType=starting_position,
            )["ShardIterator"]
            for shard_id in self.shard_ids()
        }

    def connect(self) -> Any:
        return boto3.client("dynamodbstreams", endpoint_url=STREAMS_ENDPOINT)

    def shard_ids(self) -> list[str]:
        description = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def read(self, shard_id: str) -> list[dict[str, Any]]:
        stream = {self.arn_parameter: self.arn} if self.arn_on_read else {}
        page = self.client.get_records(ShardIterator=self.iterators[shard_id], **stream)
        self.iterators[shard_id] = page["NextShardIterator"]
        return list(page["Records"])

    def event(self, records: list[dict[str, Any]], shard_id: str) -> dict[str, Any]:
        return dynamodb_stream_event(records, self.arn)

    @staticmethod
    def sequence_number(record: dict[str, Any]) -> str:
        return str(record["dynamodb"]["SequenceNumber"])

    @staticmethod
    def created(record: dict[str, Any]) -> float:
        value = record["dynamodb"]["ApproximateCreationDateTime"]
        return value if isinstance(value, int | float) else value.timestamp()


class KinesisStream(DynamoDBStream):
    """A Kinesis data stream as the poller reads it: every shard, each in order."""

    batch_info = "KinesisBatchInfo"
    arn_parameter = "StreamARN"
    arn_on_read = True

    def connect(self) -> Any:
        return boto3.client("kinesis")

    def shard_ids(self) -> list[str]:
        return [shard["ShardId"] for shard in self.client.list_shards(StreamARN=self.arn)["Shards"]]

    def event(self, records: list[dict[str, Any]], shard_id: str) -> dict[str, Any]:
        return kinesis_stream_event(records, self.arn, shard_id)

    @staticmethod
    def sequence_number(record: dict[str, Any]) -> str:
        return str(record["SequenceNumber"])

    @staticmethod
    def created(record: dict[str, Any]) -> float:
        return float(record["ApproximateArrivalTimestamp"].timestamp())


@dataclass
class StreamPoller:
    """One stream event source mapping of the template (DynamoDB or Kinesis)."""

    function: Function
    stream_arn: str
    mapping: dict[str, Any]
    deliver: Callable[[str, dict[str, Any], dict[str, str]], None]
    #: Seconds added to the wall clock when records' ages are measured.
    clock: float = 0.0

    def __post_init__(self) -> None:
        kinesis = self.stream_arn.split(":")[2] == "kinesis"
        self.stream = (KinesisStream if kinesis else DynamoDBStream)(
            self.stream_arn, self.mapping["StartingPosition"]
        )
        self.filters = [
            json.loads(f["Pattern"])
            for f in self.mapping.get("FilterCriteria", {}).get("Filters", [])
        ]
        unsupported = {"TumblingWindowInSeconds", *(["FilterCriteria"] if kinesis else [])}
        assert not unsupported & set(self.mapping), f"not emulated: {unsupported}"

    def read(self, shard_id: str) -> list[dict[str, Any]]:
        """New records of the shard since the last read that pass the mapping's filters."""
        return [r for r in self.stream.read(shard_id) if not self.filters or self._selected(r)]

    def _selected(self, record: dict[str, Any]) -> bool:
        return any(matches(f, record) for f in self.filters)

    @as_platform()
    def run(self) -> int:
        """Invoke the function for every new record, as the mapping would; the invocations."""
        size = self.mapping.get("BatchSize", 100)
        pending: deque[Batch] = deque()
        for shard_id in self.stream.iterators:
            records = self.read(shard_id)
            pending.extend(
                Batch(shard_id, records[i : i + size]) for i in range(0, len(records), size)
            )
        invocations = 0
        while pending:
            batch = pending.popleft()
            batch.records = self._drop_expired(batch)
            if not batch.records:
                continue
            assert invocations < MAX_INVOCATIONS, "the shard never got past a batch"
            invocations += 1
            batch.invocations += 1
            retry_from = self._invoke(batch)
            if retry_from is None:
                continue
            if retry_from == "bisect" and len(batch.records) > 1:
                half = len(batch.records) // 2
                for part in (batch.records[half:], batch.records[:half]):
                    pending.appendleft(
                        Batch(batch.shard_id, part, batch.invocations, batch.retries)
                    )
                continue
            if isinstance(retry_from, int):
                batch.records = batch.records[retry_from:]
            batch.retries += 1
            retries = self.mapping.get("MaximumRetryAttempts", -1)
            if retries != -1 and batch.retries > retries:
                self._discard(batch, "RetryAttemptsExhausted")
            else:
                pending.appendleft(batch)
        return invocations

    def _invoke(self, batch: Batch) -> int | str | None:
        """None: the batch succeeded; an index: retry from that record; "bisect": it failed."""
        try:
            response = self.function.invoke(self.stream.event(batch.records, batch.shard_id))
        except Exception:
            return "bisect" if self.mapping.get("BisectBatchOnFunctionError") else 0
        if "ReportBatchItemFailures" not in self.mapping.get("FunctionResponseTypes", []):
            return None
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            return None
        numbers = [self.stream.sequence_number(r) for r in batch.records]
        failed = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if any(identifier not in numbers for identifier in failed):
            return 0  # an empty, null or unknown itemIdentifier: the whole batch failed
        return min(numbers.index(identifier) for identifier in failed)

    def _drop_expired(self, batch: Batch) -> list[dict[str, Any]]:
        max_age = self.mapping.get("MaximumRecordAgeInSeconds", -1)
        if max_age == -1:
            return batch.records
        now = datetime.now(UTC).timestamp() + self.clock
        expired = [r for r in batch.records if now - self.stream.created(r) > max_age]
        if expired:
            self._discard(
                Batch(batch.shard_id, expired, batch.invocations, batch.retries),
                "RecordAgeExceeded",
            )
        return [r for r in batch.records if r not in expired]

    def _discard(self, batch: Batch, condition: str) -> None:
        first, last = batch.records[0], batch.records[-1]
        created = self.stream.created
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function.arn,
                "condition": condition,
                "approximateInvokeCount": batch.invocations,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            self.stream.batch_info: {
                "shardId": batch.shard_id,
                "startSequenceNumber": self.stream.sequence_number(first),
                "endSequenceNumber": self.stream.sequence_number(last),
                "approximateArrivalOfFirstRecord": iso(created(first)),
                "approximateArrivalOfLastRecord": iso(created(last)),
                "batchSize": len(batch.records),
                "streamArn": self.stream_arn,
            },
        }
        destination = self.mapping.get("DestinationConfig", {}).get("OnFailure", {})
        if destination.get("Destination"):
            self.deliver(destination["Destination"], record, {})


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
