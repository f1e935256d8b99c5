"""The Kinesis and Firehose emulation (tests/support/emulation) against the AWS rules it follows.

A small hand-written template per test: a Kinesis stream read by one function (whose code is
written here) with its on-failure queue, and a Firehose stream delivering to a bucket. Each
docstring names the page the rule comes from.
"""

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.emulation import Emulation, receive_all
from tests.support.emulation.kinesis import evaluate

HANDLER = """
import base64


def handler(event, context):
    datas = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    if any(data == "crash" for data in datas):
        raise ValueError("a record crashed the function")
    return {"batchItemFailures": [
        {"itemIdentifier": r["kinesis"]["sequenceNumber"]}
        for r, data in zip(event["Records"], datas) if data == "poison"
    ]}
"""
ROLE = "FnRole"


@pytest.fixture
def deploy(aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Emulation]:
    """``deploy(**mapping)``: a one-shard stream, its consumer mapped with ``mapping``."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(HANDLER)

    def deployed(**mapping: Any) -> Emulation:
        resources = {
            ROLE: {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
            "Failures": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {"aws:asset:path": "code"},
                "Properties": {
                    "Handler": "app.handler",
                    "Runtime": "python3.13",
                    "Role": {"Fn::GetAtt": [ROLE, "Arn"]},
                },
            },
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "EventSourceArn": {"Fn::GetAtt": ["Stream", "Arn"]},
                    "StartingPosition": "TRIM_HORIZON",
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "DestinationConfig": {
                        "OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}
                    },
                    **mapping,
                },
            },
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Direct": {
                "Type": "AWS::KinesisFirehose::DeliveryStream",
                "Properties": {
                    "DeliveryStreamType": "DirectPut",
                    "ExtendedS3DestinationConfiguration": {
                        "BucketARN": {"Fn::GetAtt": ["Bucket", "Arn"]},
                        "RoleARN": {"Fn::GetAtt": [ROLE, "Arn"]},
                        "Prefix": "flat/",
                        "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
                    },
                },
            },
        }
        return Emulation({"Resources": resources}, monkeypatch, tmp_path)

    return deployed


def put(emulation: Emulation, *datas: str) -> list[str]:
    kinesis = boto3.client("kinesis")
    return [
        kinesis.put_record(StreamName=emulation.ref("Stream"), Data=data, PartitionKey="k")[
            "SequenceNumber"
        ]
        for data in datas
    ]


def batches(emulation: Emulation) -> list[list[str]]:
    return [
        [base64.b64decode(r["kinesis"]["data"]).decode() for r in i.event["Records"]]
        for i in emulation.invocations
    ]


def discarded(emulation: Emulation) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in receive_all(emulation.ref("Failures"))]


def test_a_reported_failure_is_retried_from_its_sequence_number_then_discarded(
    deploy: Callable[..., Emulation],
) -> None:
    """ "Configuring partial batch response with Kinesis Data Streams and Lambda" (lambda/
    latest/dg/services-kinesis-batchfailurereporting.html): Lambda checkpoints before the
    lowest failed sequence number and retries from there; after ``MaximumRetryAttempts`` the
    batch goes to the on-failure destination as ``KinesisBatchInfo`` ("Retaining discarded
    batch records for a Kinesis Data Streams event source", lambda/latest/dg/
    kinesis-on-failure-destination.html) and the shard moves on."""
    emulation = deploy(BatchSize=10, MaximumRetryAttempts=1)
    _, poison, last = put(emulation, "a", "poison", "b")

    emulation.stream("Fn").run()

    assert batches(emulation) == [["a", "poison", "b"], ["poison", "b"]]
    [record] = discarded(emulation)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = record["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (poison, last)
    assert info["shardId"] == "shardId-000000000000"
    assert info["batchSize"] == 2


def test_a_crashing_record_is_isolated_by_bisecting_without_using_retries(
    deploy: Callable[..., Emulation],
) -> None:
    """kinesis-on-failure-destination.html: ``BisectBatchOnFunctionError`` splits a failed
    batch in two, and splitting does not use up the retry quota."""
    emulation = deploy(BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0)
    put(emulation, "a", "b", "crash", "c")

    emulation.stream("Fn").run()

    assert batches(emulation) == [
        ["a", "b", "crash", "c"],
        ["a", "b"],
        ["crash", "c"],
        ["crash"],
        ["c"],
    ]
    [record] = discarded(emulation)
    assert record["KinesisBatchInfo"]["batchSize"] == 1


def test_records_past_their_maximum_age_are_discarded_unprocessed(
    deploy: Callable[..., Emulation],
) -> None:
    """services-kinesis-parameters.html: records older than ``MaximumRecordAgeInSeconds`` are
    not sent to the function; they are described with ``RecordAgeExceeded``."""
    emulation = deploy(MaximumRecordAgeInSeconds=60)
    put(emulation, "old")
    emulation.stream("Fn").clock = 61

    emulation.stream("Fn").run()

    assert batches(emulation) == []
    [record] = discarded(emulation)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"


def test_a_direct_put_without_timestamp_expressions_gets_the_default_time_prefix(
    deploy: Callable[..., Emulation],
) -> None:
    """ "Custom prefixes for Amazon S3 objects" (firehose/latest/dev/s3-prefixes.html): a prefix
    with no ``timestamp`` expression gets ``!{timestamp:yyyy/MM/dd/HH/}`` appended; the object
    is named ``<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>`` ("Configure Amazon S3 object
    name format", firehose/latest/dev/s3-object-name.html) and not compressed here."""
    emulation = deploy()
    boto3.client("firehose").put_record_batch(
        DeliveryStreamName=emulation.ref("Direct"), Records=[{"Data": b"one\n"}, {"Data": b"two\n"}]
    )

    [listed] = boto3.client("s3").list_objects_v2(Bucket=emulation.ref("Bucket"))["Contents"]
    now = datetime.now(UTC)
    assert listed["Key"].startswith(f"flat/{now:%Y/%m/%d/%H}/Direct-1-{now:%Y-%m-%d-%H}-")
    body = boto3.client("s3").get_object(Bucket=emulation.ref("Bucket"), Key=listed["Key"])
    assert body["Body"].read() == b"one\ntwo\n"


def test_the_error_prefix_names_the_kind_of_failure() -> None:
    """s3-prefixes.html: ``!{firehose:error-output-type}`` is the failure's kind; every
    timestamp expression of one prefix evaluates to the same instant."""
    instant = datetime(2026, 12, 2, 7, 5, tzinfo=UTC)
    prefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/!{timestamp:HH}/"
    assert evaluate(prefix, instant, "processing-failed") == (
        "errors/processing-failed/2026-12-02/07/"
    )
