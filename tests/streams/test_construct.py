"""StreamIngestion: the stream, the consumer's mapping, the archive, every validation message."""

from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from serverless_patterns import S3DeliveryProps, StreamIngestion

from tests.support.cdk import new_app, resources, synth_variants

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return None\n")


def smallest(stack: Stack) -> None:
    StreamIngestion(stack, "Ingest", code=CODE)


def provisioned_with_archive(stack: Stack) -> None:
    StreamIngestion(
        stack,
        "Ingest",
        code=CODE,
        stream_props=kinesis.StreamProps(stream_mode=kinesis.StreamMode.PROVISIONED, shard_count=2),
        parallelization_factor=4,
        tumbling_window=Duration.minutes(1),
        retry_attempts=10,
        max_record_age=Duration.hours(6),
        starting_position=lambda_.StartingPosition.LATEST,
        archive_props=S3DeliveryProps(
            prefix="raw/", error_prefix="failed/!{firehose:error-output-type}/"
        ),
    )


def bring_your_own(stack: Stack) -> None:
    stream = kinesis.Stream(stack, "Mine", encryption=kinesis.StreamEncryption.KMS)
    function = lambda_.Function(
        stack, "MyFunction", runtime=lambda_.Runtime.PYTHON_3_13, handler="app.handler", code=CODE
    )
    ingestion = StreamIngestion(stack, "Ingest", existing_stream=stream, existing_function=function)
    assert ingestion.stream is stream and ingestion.function is function
    assert ingestion.archive is None


@pytest.fixture(scope="module")
def built() -> dict[str, dict[str, Any]]:
    variants = synth_variants(
        {
            "Smallest": smallest,
            "Provisioned": provisioned_with_archive,
            "Own": bring_your_own,
        }
    )
    return {name: template.to_json() for name, template in variants.items()}


def one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    [found] = resources(template, resource_type).values()
    return found


def test_the_stream_is_on_demand_encrypted_and_kept_a_day(built: dict[str, dict[str, Any]]) -> None:
    assert one(built["Smallest"], "AWS::Kinesis::Stream") == {
        "RetentionPeriodHours": 24,
        "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
    }


def test_the_consumer_never_blocks_a_shard(built: dict[str, dict[str, Any]]) -> None:
    """ "Lambda parameters for Amazon Kinesis Data Streams event source mappings" (lambda/latest/
    dg/services-kinesis-parameters.html): without these, retries and record age are -1
    (until the record expires) and one poison record holds its shard up to a week."""
    mapping = one(built["Smallest"], "AWS::Lambda::EventSourceMapping")
    [queue] = resources(built["Smallest"], "AWS::SQS::Queue")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["BatchSize"] == 100
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}
    }
    assert "TumblingWindowInSeconds" not in mapping


def test_options_reach_the_stream_and_the_mapping(built: dict[str, dict[str, Any]]) -> None:
    assert one(built["Provisioned"], "AWS::Kinesis::Stream")["ShardCount"] == 2
    mapping = one(built["Provisioned"], "AWS::Lambda::EventSourceMapping")
    assert mapping["ParallelizationFactor"] == 4
    assert mapping["TumblingWindowInSeconds"] == 60
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["MaximumRecordAgeInSeconds"] == 6 * 3600
    assert mapping["StartingPosition"] == "LATEST"


def test_the_archive_reads_the_stream_with_its_prefixes(built: dict[str, dict[str, Any]]) -> None:
    template = built["Provisioned"]
    delivery = one(template, "AWS::KinesisFirehose::DeliveryStream")
    [stream] = resources(template, "AWS::Kinesis::Stream")
    assert delivery["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == {
        "Fn::GetAtt": [stream, "Arn"]
    }
    destination = delivery["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == "raw/"
    assert destination["ErrorOutputPrefix"] == "failed/!{firehose:error-output-type}/"
    assert "AWS::KinesisFirehose::DeliveryStream" not in {
        r["Type"] for r in built["Smallest"]["Resources"].values()
    }


def test_alarms_watch_errors_throttles_lag_dead_letters_and_the_archive(
    built: dict[str, dict[str, Any]],
) -> None:
    alarms = resources(built["Provisioned"], "AWS::CloudWatch::Alarm").values()
    watched = sorted(
        (a["Namespace"], a["MetricName"], a["Statistic"], a["Threshold"]) for a in alarms
    )
    assert watched == [
        ("AWS/Firehose", "DeliveryToS3.DataFreshness", "Maximum", 900),
        ("AWS/Lambda", "Errors", "Sum", 1),
        ("AWS/Lambda", "IteratorAge", "Maximum", 3 * 3600 * 1000),  # half of 6 hours
        ("AWS/Lambda", "Throttles", "Sum", 1),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 1),
    ]


def test_an_existing_stream_and_function_are_used_as_they_are(
    built: dict[str, dict[str, Any]],
) -> None:
    template = built["Own"]
    assert len(resources(template, "AWS::Kinesis::Stream")) == 1
    assert len(resources(template, "AWS::Lambda::Function")) == 1
    stream = next(iter(resources(template, "AWS::Kinesis::Stream")))
    mapping = one(template, "AWS::Lambda::EventSourceMapping")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [stream, "Arn"]}
    function = one(template, "AWS::Lambda::Function")
    assert function["Environment"]["Variables"] == {"STREAM_NAME": {"Ref": stream}}


def invalid(**options: Any) -> str:
    with pytest.raises(ValueError) as raised:
        StreamIngestion(Stack(new_app(), "Invalid"), "Ingest", **options)
    return str(raised.value)


def test_wrong_types_are_reported_first() -> None:
    assert invalid(
        code="handlers/telemetry",
        function_options={"timeout": 30},
        stream_props={"shard_count": 2},
        archive_props=True,
    ) == (
        "Invalid StreamIngestion options:\n"
        "  - code='handlers/telemetry': expected lambda_.Code.from_asset('handlers/telemetry');"
        " got str\n"
        "  - function_options={'timeout': 30}: expected lambda_.FunctionOptions(...); got dict\n"
        "  - stream_props={'shard_count': 2}: expected kinesis.StreamProps(...); got dict\n"
        "  - archive_props=True: expected S3DeliveryProps(...); got bool"
    )


def test_every_invalid_option_is_reported_together() -> None:
    stack = Stack(new_app(), "Invalid")
    message = invalid(
        handler="app.handler",
        existing_function=lambda_.Function.from_function_name(stack, "F", "f"),
        function_options=lambda_.FunctionOptions(),
        existing_stream=kinesis.Stream.from_stream_arn(
            stack, "S", "arn:aws:kinesis:us-east-1:123456789012:stream/s"
        ),
        stream_props=kinesis.StreamProps(),
        batch_size=20_000,
        parallelization_factor=11,
        max_batching_window=Duration.minutes(6),
        tumbling_window=Duration.minutes(16),
        retry_attempts=-1,
        max_record_age=Duration.days(8),
        archive_props=S3DeliveryProps(
            existing_bucket=s3.Bucket.from_bucket_name(stack, "B", "mine"),
            bucket_props=s3.BucketProps(),
        ),
    )
    assert message == (
        "Invalid StreamIngestion options:\n"
        "  - handler='app.handler': applies only to the function built from code=; remove it\n"
        "  - existing_function and function_options='both given': give only one of"
        " existing_function or function_options\n"
        "  - existing_stream and stream_props='both given': give only one of existing_stream"
        " or stream_props\n"
        "  - batch_size=20000: must be between 1 and 10000\n"
        "  - parallelization_factor=11: must be between 1 and 10\n"
        "  - retry_attempts=-1: must be between 0 and 10000\n"
        "  - max_batching_window='6 minutes': must be 300 seconds or less\n"
        "  - tumbling_window='16 minutes': must be 900 seconds or less\n"
        "  - max_record_age='8 days': must be between 60 seconds and 7 days: an unbounded age"
        " lets a poison record block its shard\n"
        "  - archive_props.existing_bucket and archive_props.bucket_props='both given': give"
        " only one of archive_props.existing_bucket or archive_props.bucket_props"
    )


def test_code_or_an_existing_function_is_required() -> None:
    assert invalid() == (
        "Invalid StreamIngestion options:\n"
        "  - code=None: give exactly one of code= or existing_function="
    )
