"""Kinesis data streams, S3 buckets and Firehose delivery streams of a template, in moto.

moto creates the three, and writes direct-put Firehose records to S3 itself, but names the
object ``<prefix>YYYY/MM/DD/HH/...`` with the prefix's expressions left as written, and never
compresses; nor does it read a delivery stream's Kinesis source. Here, as the Firehose
developer guide says:

- "Custom prefixes for Amazon S3 objects" (firehose/latest/dev/s3-prefixes.html):
  ``!{timestamp:<Java DateTimeFormatter pattern>}`` is the approximate arrival time (UTC) of
  the oldest record in the object; every occurrence in a prefix is the same instant; a prefix
  with no ``timestamp`` expression gets ``!{timestamp:yyyy/MM/dd/HH/}`` appended;
  ``!{firehose:random-string}`` is 11 random characters and ``!{firehose:error-output-type}``
  the kind of failure, in the error prefix only.
- "Configure Amazon S3 object name format" (firehose/latest/dev/s3-object-name.html): the key
  is ``<evaluated prefix><stream name>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>``;
  GZIP compression adds ``.gz``.
- A stream whose source is a Kinesis data stream reads every shard
  ("Source, destination, and name", firehose/latest/dev/create-name.html): :meth:`Firehose.flush`
  does it on demand, since Firehose's buffering has no deadline a test could wait for.

Each flush (or each ``PutRecordBatch``) writes one object, as a full buffer would. Not
emulated: data transformation, format conversion and dynamic partitioning, the only sources
of records under the error prefix; and S3 delivery failures (Firehose retries them for up to
24 hours, which the freshness alarm watches).
"""

import gzip
import re
import secrets
import string
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.core.utils import utcnow
from moto.firehose.models import FirehoseBackend, firehose_backends
from moto.s3.models import s3_backends

from tests.support.emulation.intrinsics import ACCOUNT, REGION, Resolver
from tests.support.iam import as_platform

EXPRESSION = re.compile(r"!\{(\w+):([^}]*)\}")
#: The Java DateTimeFormatter letters the library's prefixes use, as strftime directives.
JAVA_TO_STRFTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
JAVA_PATTERN = re.compile("|".join(JAVA_TO_STRFTIME))
DEFAULT_TIME_PREFIX = "!{timestamp:yyyy/MM/dd/HH/}"
RANDOM_ALPHABET = string.ascii_letters + string.digits


def formatted(pattern: str, instant: datetime) -> str:
    """A Java DateTimeFormatter pattern (letters above, ``/``, ``-``, ``=``) at ``instant``."""
    literal = JAVA_PATTERN.sub("", pattern)
    assert not any(c.isalpha() for c in literal), f"pattern not emulated: {pattern}"
    return instant.strftime(JAVA_PATTERN.sub(lambda m: JAVA_TO_STRFTIME[m.group(0)], pattern))


def evaluate(prefix: str, arrival: datetime, error_output_type: str | None = None) -> str:
    """``prefix`` as Firehose evaluates it for an object whose oldest record arrived then."""
    if "!{timestamp:" not in prefix:
        prefix += DEFAULT_TIME_PREFIX

    def value(match: re.Match[str]) -> str:
        namespace, name = match.groups()
        if namespace == "timestamp":
            return formatted(name, arrival.astimezone(UTC))
        if (namespace, name) == ("firehose", "random-string"):
            return "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(11))
        if (namespace, name) == ("firehose", "error-output-type") and error_output_type:
            return error_output_type
        raise AssertionError(f"expression not emulated here: {match.group(0)}")

    return EXPRESSION.sub(value, prefix)


def object_key(
    destination: dict[str, Any],
    stream_name: str,
    version: str,
    arrival: datetime,
    error_output_type: str | None = None,
) -> str:
    prefix = destination.get("ErrorOutputPrefix" if error_output_type else "Prefix", "")
    extension = ".gz" if destination.get("CompressionFormat") == "GZIP" else ""
    written = arrival.astimezone(UTC).strftime("%Y-%m-%d-%H-%M-%S")
    return (
        f"{evaluate(prefix, arrival, error_output_type)}"
        f"{stream_name}-{version}-{written}-{uuid.uuid4()}{extension}"
    )


def put_s3_records(
    backend: FirehoseBackend,
    delivery_stream_name: str,
    version_id: str,
    s3_destination: dict[str, Any],
    records: list[dict[str, bytes]],
    arrival: datetime | None = None,
) -> list[dict[str, str]]:
    """Write ``records`` as one object, named and compressed as Firehose does (moto's
    ``FirehoseBackend.put_s3_records``, completed): concatenated without delimiters unless
    the ``AppendDelimiterToRecord`` processor ends each with a newline ("Understand data
    delivery in Amazon Data Firehose", firehose/latest/dev/basic-deliver.html; API reference,
    "Processor")."""
    delimiter = b"\n" if appends_delimiter(s3_destination) else b""
    data = b"".join(record["Data"] + delimiter for record in records)
    if s3_destination.get("CompressionFormat") == "GZIP":
        data = gzip.compress(data)
    key = object_key(s3_destination, delivery_stream_name, version_id, arrival or utcnow())
    bucket = s3_destination["BucketARN"].split(":")[-1]
    s3_backends[backend.account_id][backend.partition].put_object(bucket, key, data)
    return [{"RecordId": str(uuid.uuid4())} for _ in records]


def appends_delimiter(destination: dict[str, Any]) -> bool:
    processing = destination.get("ProcessingConfiguration", {})
    return processing.get("Enabled", False) and any(
        processor["Type"] == "AppendDelimiterToRecord"
        for processor in processing.get("Processors", [])
    )


class Firehose:
    """The template's streams, buckets and delivery streams, created in moto and wired."""

    def __init__(self, template: dict[str, Any], resolve: Resolver) -> None:
        self.template = template
        self.resolve = resolve
        #: Delivery stream logical id -> {shard id: iterator} of its Kinesis source.
        self._sources: dict[str, dict[str, str]] = {}

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource.get("Properties", {})
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def create(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for logical_id, properties in self.of_type("AWS::Kinesis::Stream").items():
            mode = properties.get("StreamModeDetails", {"StreamMode": "PROVISIONED"})
            shards = {} if mode["StreamMode"] == "ON_DEMAND" else {"ShardCount": 1}
            boto3.client("kinesis").create_stream(
                StreamName=logical_id, StreamModeDetails=mode, **shards
            )
            arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{logical_id}"
            self.resolve.register(logical_id, logical_id, Arn=arn)
        for logical_id in self.of_type("AWS::S3::Bucket"):
            name = logical_id.lower()
            boto3.client("s3").create_bucket(Bucket=name)
            self.resolve.register(logical_id, name, Arn=f"arn:aws:s3:::{name}")
        for logical_id, properties in self.of_type("AWS::KinesisFirehose::DeliveryStream").items():
            self._create_delivery_stream(logical_id, properties)
        monkeypatch.setattr(FirehoseBackend, "put_s3_records", put_s3_records)

    def _create_delivery_stream(self, logical_id: str, properties: dict[str, Any]) -> None:
        destination = self.resolve(properties["ExtendedS3DestinationConfiguration"])
        source = self.resolve(properties.get("KinesisStreamSourceConfiguration"))
        options: dict[str, Any] = {}
        if source:
            options["KinesisStreamSourceConfiguration"] = source
        arn = boto3.client("firehose").create_delivery_stream(
            DeliveryStreamName=logical_id,
            DeliveryStreamType=properties.get("DeliveryStreamType", "DirectPut"),
            ExtendedS3DestinationConfiguration={
                key: destination[key]
                for key in (
                    "RoleARN",
                    "BucketARN",
                    "Prefix",
                    "ErrorOutputPrefix",
                    "CompressionFormat",
                    "ProcessingConfiguration",
                )
                if key in destination
            },
            **options,
        )["DeliveryStreamARN"]
        self.resolve.register(logical_id, logical_id, Arn=arn)
        if source:
            kinesis = boto3.client("kinesis")
            stream = source["KinesisStreamARN"]
            self._sources[logical_id] = {
                shard["ShardId"]: kinesis.get_shard_iterator(
                    StreamARN=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                for shard in kinesis.list_shards(StreamARN=stream)["Shards"]
            }

    @as_platform()
    def flush(self, name: str) -> int:
        """Deliver what the delivery stream ``name`` (a logical id) has read from its Kinesis
        source since the last flush as one object; the records delivered."""
        logical_id = self._logical_id(name)
        kinesis = boto3.client("kinesis")
        stream = self.resolve(
            self.template["Resources"][logical_id]["Properties"]["KinesisStreamSourceConfiguration"]
        )["KinesisStreamARN"]
        records = []
        for shard_id, iterator in self._sources[logical_id].items():
            page = kinesis.get_records(ShardIterator=iterator, StreamARN=stream)
            self._sources[logical_id][shard_id] = page["NextShardIterator"]
            records.extend(page["Records"])
        if not records:
            return 0
        description = boto3.client("firehose").describe_delivery_stream(
            DeliveryStreamName=logical_id
        )["DeliveryStreamDescription"]
        destination = self.resolve(
            self.template["Resources"][logical_id]["Properties"][
                "ExtendedS3DestinationConfiguration"
            ]
        )
        put_s3_records(
            firehose_backends[ACCOUNT][REGION],
            logical_id,
            description["VersionId"],
            destination,
            [{"Data": record["Data"]} for record in records],
            arrival=min(record["ApproximateArrivalTimestamp"] for record in records),
        )
        return len(records)

    def _logical_id(self, name: str) -> str:
        streams = self.of_type("AWS::KinesisFirehose::DeliveryStream")
        found = [logical_id for logical_id in streams if logical_id.startswith(name)]
        assert len(found) == 1, f"{name} names {found}"
        return found[0]
