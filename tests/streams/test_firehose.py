"""``core.firehose.deliver_to_s3``: the S3 copy, from a Kinesis stream or by direct put."""

from typing import Any

import pytest
from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_s3 as s3
from serverless_patterns.core.firehose import deliver_to_s3

from tests.support.cdk import new_app, resources, synth_variants

DATE_PARTITIONS = (
    "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
)


def from_stream(stack: Stack) -> None:
    deliver_to_s3(stack, "Archive", source_stream=kinesis.Stream(stack, "Stream"))


def direct_put(stack: Stack) -> None:
    deliver_to_s3(
        stack,
        "Archive",
        prefix="orders/",
        error_prefix="failed/!{firehose:error-output-type}/",
        buffering_interval=Duration.seconds(60),
        buffering_size=Size.mebibytes(64),
        record_delimiter=False,
    )


@pytest.fixture(scope="module")
def built() -> dict[str, dict[str, Any]]:
    variants = synth_variants({"FromStream": from_stream, "DirectPut": direct_put})
    return {name: template.to_json() for name, template in variants.items()}


def delivery(template: dict[str, Any]) -> dict[str, Any]:
    [stream] = resources(template, "AWS::KinesisFirehose::DeliveryStream").values()
    return stream


def test_objects_are_gzipped_under_date_partitions_and_errors_apart(
    built: dict[str, dict[str, Any]],
) -> None:
    s3_destination = delivery(built["FromStream"])["ExtendedS3DestinationConfiguration"]
    assert s3_destination["Prefix"] == "data/" + DATE_PARTITIONS
    assert s3_destination["ErrorOutputPrefix"] == (
        "errors/!{firehose:error-output-type}/" + DATE_PARTITIONS
    )
    assert s3_destination["CompressionFormat"] == "GZIP"
    assert s3_destination["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 5}
    # One record per line: Firehose adds no delimiter of its own (basic-deliver.html).
    assert s3_destination["ProcessingConfiguration"] == {
        "Enabled": True,
        "Processors": [{"Type": "AppendDelimiterToRecord"}],
    }
    logging = s3_destination["CloudWatchLoggingOptions"]
    assert logging["Enabled"] is True
    [log_group] = resources(built["FromStream"], "AWS::Logs::LogGroup").values()
    assert log_group["RetentionInDays"] == 30


def test_options_reach_the_destination(built: dict[str, dict[str, Any]]) -> None:
    s3_destination = delivery(built["DirectPut"])["ExtendedS3DestinationConfiguration"]
    assert s3_destination["Prefix"] == "orders/"
    assert s3_destination["ErrorOutputPrefix"] == "failed/!{firehose:error-output-type}/"
    assert s3_destination["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 64}
    assert "ProcessingConfiguration" not in s3_destination  # record_delimiter=False


def test_direct_put_is_encrypted_and_a_stream_source_is_read(
    built: dict[str, dict[str, Any]],
) -> None:
    direct = delivery(built["DirectPut"])
    assert direct["DeliveryStreamType"] == "DirectPut"
    assert direct["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}
    sourced = delivery(built["FromStream"])
    assert sourced["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert "DeliveryStreamEncryptionConfigurationInput" not in sourced
    assert "KinesisStreamARN" in sourced["KinesisStreamSourceConfiguration"]


def test_bucket_is_private_encrypted_versioned_tls_only_and_retained(
    built: dict[str, dict[str, Any]],
) -> None:
    template = built["DirectPut"]
    [(logical_id, bucket)] = resources(template, "AWS::S3::Bucket").items()
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
    ]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["LifecycleConfiguration"]["Rules"] == [
        {
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}],
        }
    ]
    assert template["Resources"][logical_id]["DeletionPolicy"] == "Retain"
    [policy] = resources(template, "AWS::S3::BucketPolicy").values()
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "s3:*"
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_freshness_alarm_fires_past_the_fifteen_minute_buffering_limit(
    built: dict[str, dict[str, Any]],
) -> None:
    """ "Implement best practices with CloudWatch Alarms" (firehose/latest/dev/
    firehose-cloudwatch-metrics-best-practices.html): DeliveryToS3.DataFreshness over the
    buffering limit (at most 15 minutes)."""
    [alarm] = resources(built["DirectPut"], "AWS::CloudWatch::Alarm").values()
    assert alarm["Namespace"] == "AWS/Firehose"
    assert alarm["MetricName"] == "DeliveryToS3.DataFreshness"
    assert alarm["Statistic"] == "Maximum"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 900
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"


def test_invalid_options_are_reported_together() -> None:
    stack = Stack(new_app(), "Invalid")
    with pytest.raises(ValueError) as raised:
        deliver_to_s3(
            stack,
            "Archive",
            existing_bucket=s3.Bucket.from_bucket_name(stack, "Mine", "mine"),
            bucket_props=s3.BucketProps(versioned=False),
            prefix="raw/!{firehose:error-output-type}/",
            error_prefix="failed/",
            buffering_interval=Duration.minutes(20),
            buffering_size=Size.mebibytes(256),
            record_delimiter="\n",  # type: ignore[arg-type]
        )
    assert str(raised.value) == (
        "Invalid deliver_to_s3 options:\n"
        "  - existing_bucket and bucket_props='both given': give only one of existing_bucket "
        "or bucket_props\n"
        "  - error_prefix='failed/': include !{firehose:error-output-type} so each kind of "
        "failure gets its own folder\n"
        "  - prefix='raw/!{firehose:error-output-type}/': !{firehose:error-output-type} "
        "belongs in error_prefix only\n"
        "  - buffering_interval='20 minutes': must be between 0 and 900 seconds\n"
        "  - buffering_size='256 MiB': must be between 1 and 128 MiB\n"
        "  - record_delimiter='\\n': give True (a newline after each record) or False "
        "(records as sent)"
    )


def test_the_error_prefix_differs_from_the_prefix() -> None:
    same = "out/!{firehose:error-output-type}/"
    with pytest.raises(ValueError, match=r"error_prefix='out/.*': must differ from prefix"):
        deliver_to_s3(Stack(new_app(), "Same"), "Archive", prefix=same, error_prefix=same)


def test_the_delivery_role_has_only_the_documented_actions_each_on_its_resource(
    built: dict[str, dict[str, Any]],
) -> None:
    """ "Controlling access with Amazon Data Firehose" (firehose/latest/dev/
    controlling-access.html): the actions an S3 destination and a Kinesis source need."""
    template = built["FromStream"]
    bucket = next(iter(resources(template, "AWS::S3::Bucket")))
    stream = next(iter(resources(template, "AWS::Kinesis::Stream")))
    log_group = next(iter(resources(template, "AWS::Logs::LogGroup")))
    [policy] = resources(template, "AWS::IAM::Policy").values()
    granted = [
        (statement["Action"], statement["Resource"])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    assert granted == [
        (
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            {"Fn::GetAtt": [bucket, "Arn"]},
        ),
        (
            ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]},
        ),
        ("logs:PutLogEvents", {"Fn::GetAtt": [log_group, "Arn"]}),
        (
            [
                "kinesis:DescribeStream",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
            ],
            {"Fn::GetAtt": [stream, "Arn"]},
        ),
    ]
    [role] = resources(template, "AWS::IAM::Role").values()
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "firehose.amazonaws.com"
    }
    assert "ManagedPolicyArns" not in role
