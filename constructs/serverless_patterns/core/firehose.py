"""Firehose delivery to S3: the raw copy of a stream or of events, partitioned by date.

:func:`deliver_to_s3` builds an Amazon Data Firehose stream that writes to an S3 bucket (the
library's secure :func:`~serverless_patterns.core.buckets.bucket`, or yours). Its source is a
Kinesis data stream, or direct put (``PutRecord``/``PutRecordBatch``: what an EventBridge rule
target or a producer calls) when ``source_stream`` is None.

Prefixes follow "Custom prefixes for Amazon S3 objects" (firehose/latest/dev/
s3-prefixes.html): ``!{timestamp:...}`` is the arrival time (UTC) of the oldest record in the
object, ``!{firehose:error-output-type}`` the kind of failure. Records Firehose cannot process
(a transformation, conversion or partitioning failure) go under the error prefix; delivery to
S3 itself is retried for 24 hours, which the freshness alarm reports. Firehose concatenates
the records of an object without delimiters ("Understand data delivery in Amazon Data
Firehose", firehose/latest/dev/basic-deliver.html): by default its ``AppendDelimiterToRecord``
processor ends each record with a newline (API reference, "Processor"), so an object holds one
JSON record per line, as Athena and Glue read them.

Idle cost: none. Firehose bills per GB ingested (rounded up to 5 KB per record) and S3 per
GB stored and per request; the alarm costs $0.10/month, the log group only what it stores.
"""

from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import CfnResource, Duration, Size, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from serverless_patterns.core import buckets
from serverless_patterns.core.compliance import as_nag_prints, justify
from serverless_patterns.core.logs import log_group
from serverless_patterns.core.validation import Problems, is_token

ERROR_OUTPUT_TYPE = "!{firehose:error-output-type}"
FIREHOSE_CIDR_MAPPING = "@aws-cdk--aws-kinesisfirehose.CidrBlocks"  # its id, "/" escaped


def partitioned(folder: str) -> str:
    """``folder`` followed by Hive-style date partitions: ``folder/year=2026/month=12/...``."""
    return (
        f"{folder.rstrip('/')}/year=!{{timestamp:yyyy}}/month=!{{timestamp:MM}}/"
        "day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    )


DEFAULT_PREFIX = partitioned("data")
DEFAULT_ERROR_PREFIX = partitioned(f"errors/{ERROR_OUTPUT_TYPE}")
#: Firehose writes an object when either buffer fills first: 5 minutes or 5 MiB by default
#: (the service's own defaults); the interval may be 0 to 900 s, the size 1 to 128 MiB.
DEFAULT_BUFFERING_INTERVAL = Duration.minutes(5)
DEFAULT_BUFFERING_SIZE = Size.mebibytes(5)
BUFFERING_INTERVAL_RANGE = (0, 900)
BUFFERING_SIZE_MIB_RANGE = (1, 128)
#: "Implement best practices with CloudWatch Alarms" (firehose/latest/dev/
#: firehose-cloudwatch-metrics-best-practices.html): alarm when DeliveryToS3.DataFreshness
#: exceeds the buffering limit, at most 15 minutes.
FRESHNESS_LIMIT = Duration.minutes(15)
#: The processor that ends every record with a newline (no parameters).
NEWLINE_AFTER_EACH_RECORD = {
    "Enabled": True,
    "Processors": [{"Type": "AppendDelimiterToRecord"}],
}


@dataclass(frozen=True)
class S3Delivery:
    """What :func:`deliver_to_s3` built.

    :param delivery_stream: the Firehose stream (grant producers ``grant_put_records``).
    :param bucket: where objects land (the one given as ``existing_bucket``, if any).
    :param log_group: Firehose's delivery and processing errors, kept one month.
    :param alarms: records waiting longer than :data:`FRESHNESS_LIMIT` to reach S3.
    """

    delivery_stream: firehose.DeliveryStream
    bucket: s3.IBucket
    log_group: logs.ILogGroup
    alarms: list[cloudwatch.Alarm]


@dataclass(frozen=True)
class S3DeliveryProps:
    """The options of :func:`deliver_to_s3` other than its source, e.g. for a pattern's
    ``archive_props=``; each defaults as there."""

    existing_bucket: s3.IBucket | None = None
    bucket_props: s3.BucketProps | None = None
    prefix: str = DEFAULT_PREFIX
    error_prefix: str = DEFAULT_ERROR_PREFIX
    buffering_interval: Duration = DEFAULT_BUFFERING_INTERVAL
    buffering_size: Size = DEFAULT_BUFFERING_SIZE
    record_delimiter: bool = True

    def options(self) -> dict[str, Any]:
        """As keyword arguments of :func:`deliver_to_s3` or :func:`validate_s3_delivery`."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def validate_s3_delivery(
    problems: Problems,
    prefix_option: str,
    *,
    existing_bucket: s3.IBucket | None,
    bucket_props: s3.BucketProps | None,
    prefix: str,
    error_prefix: str,
    buffering_interval: Duration,
    buffering_size: Size,
    record_delimiter: bool,
) -> None:
    """What Firehose accepts (options named after ``prefix_option``, e.g. ``archive_props.``).

    A prefix with ``!{...}`` expressions needs an error prefix (Firehose refuses the stream
    otherwise), and that error prefix must hold ``!{firehose:error-output-type}`` so failures
    of different kinds stay apart; the buffers are bounded as above.
    """
    problems.exclusive(
        **{f"{prefix_option}existing_bucket": existing_bucket},
        **{f"{prefix_option}bucket_props": bucket_props},
    )
    if not is_token(error_prefix) and ERROR_OUTPUT_TYPE not in error_prefix:
        problems.add(
            f"{prefix_option}error_prefix",
            error_prefix,
            f"include {ERROR_OUTPUT_TYPE} so each kind of failure gets its own folder",
        )
    if not is_token(prefix) and ERROR_OUTPUT_TYPE in prefix:
        problems.add(
            f"{prefix_option}prefix", prefix, f"{ERROR_OUTPUT_TYPE} belongs in error_prefix only"
        )
    if not is_token(prefix) and not is_token(error_prefix) and prefix == error_prefix:
        problems.add(f"{prefix_option}error_prefix", error_prefix, "must differ from prefix")
    low, high = BUFFERING_INTERVAL_RANGE
    if not low <= buffering_interval.to_seconds() <= high:
        problems.add(
            f"{prefix_option}buffering_interval",
            buffering_interval.to_human_string(),
            f"must be between {low} and {high} seconds",
        )
    low, high = BUFFERING_SIZE_MIB_RANGE
    if not low <= buffering_size.to_mebibytes() <= high:
        problems.add(
            f"{prefix_option}buffering_size",
            f"{buffering_size.to_mebibytes():g} MiB",
            f"must be between {low} and {high} MiB",
        )
    if not isinstance(record_delimiter, bool):
        problems.add(
            f"{prefix_option}record_delimiter",
            record_delimiter,
            "give True (a newline after each record) or False (records as sent)",
        )


def delivery_role(
    scope: Construct,
    construct_id: str,
    bucket: s3.IBucket,
    errors: logs.ILogGroup,
    source_stream: kinesis.IStream | None,
) -> iam.Role:
    """The role Firehose delivers with: the actions "Controlling access with Amazon Data
    Firehose" (firehose/latest/dev/controlling-access.html) lists for an S3 destination and a
    Kinesis source, each on its one resource, and nothing else."""
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
        description="Delivers records to S3 for the Firehose stream of the same name",
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            resources=[bucket.bucket_arn],
        )
    )
    objects = bucket.arn_for_objects("*")
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            resources=[objects],
        )
    )
    justify(role, "delivered-objects", finding=f"[Resource::{as_printed(bucket, objects)}]")
    if bucket.encryption_key is not None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[bucket.encryption_key.key_arn],
            )
        )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=[errors.log_group_arn])
    )
    if source_stream is not None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "kinesis:DescribeStream",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                ],
                resources=[source_stream.stream_arn],
            )
        )
        if source_stream.encryption_key is not None:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"], resources=[source_stream.encryption_key.key_arn]
                )
            )
    return role


def as_printed(bucket: s3.IBucket, objects: str) -> str:
    """The objects' ARN as cdk-nag prints it in a finding id."""
    resource = bucket.node.default_child
    if isinstance(resource, CfnResource):
        return f"<{Stack.of(bucket).resolve(resource.logical_id)}.Arn>/*"
    return as_nag_prints(Stack.of(bucket), objects)


def deliver_to_s3(
    scope: Construct,
    construct_id: str,
    *,
    source_stream: kinesis.IStream | None = None,
    existing_bucket: s3.IBucket | None = None,
    bucket_props: s3.BucketProps | None = None,
    prefix: str = DEFAULT_PREFIX,
    error_prefix: str = DEFAULT_ERROR_PREFIX,
    buffering_interval: Duration = DEFAULT_BUFFERING_INTERVAL,
    buffering_size: Size = DEFAULT_BUFFERING_SIZE,
    record_delimiter: bool = True,
) -> S3Delivery:
    """A Firehose stream ``construct_id`` delivering to S3, GZIP-compressed, date-partitioned,
    one record per line (``record_delimiter=False``: records as sent, concatenated).

    Builds ``<id>Bucket`` (unless ``existing_bucket``), ``<id>Logs`` (error logging, one
    month) and the alarm ``<id>DataFreshness``. Encrypted end to end: a direct-put stream with
    an AWS-owned key (free); a stream read from Kinesis has no Firehose encryption setting (AWS
    refuses one) and its records stay encrypted in the source stream and in the bucket.
    Invalid options raise one ``ValueError`` (:func:`validate_s3_delivery`).
    """
    problems = Problems("deliver_to_s3")
    validate_s3_delivery(
        problems,
        "",
        existing_bucket=existing_bucket,
        bucket_props=bucket_props,
        prefix=prefix,
        error_prefix=error_prefix,
        buffering_interval=buffering_interval,
        buffering_size=buffering_size,
        record_delimiter=record_delimiter,
    )
    problems.raise_if_any()
    bucket = existing_bucket or buckets.bucket(scope, f"{construct_id}Bucket", props=bucket_props)
    errors = log_group(scope, f"{construct_id}Logs")
    role = delivery_role(scope, f"{construct_id}Role", bucket, errors, source_stream)
    fixed_role = role.without_policy_updates()  # the L2's grants would add wildcard actions
    stream = firehose.DeliveryStream(
        scope,
        construct_id,
        role=fixed_role,
        source=firehose.KinesisStreamSource(source_stream) if source_stream else None,
        encryption=None if source_stream else firehose.StreamEncryption.aws_owned_key(),
        destination=firehose.S3Bucket(
            bucket,
            role=fixed_role,
            data_output_prefix=prefix,
            error_output_prefix=error_prefix,
            buffering_interval=buffering_interval,
            buffering_size=buffering_size,
            compression=firehose.Compression.GZIP,
            logging_config=firehose.EnableLogging(errors),
        ),
    )
    stream.node.add_dependency(role)  # its policy too: Firehose checks access on creation
    if record_delimiter:
        resource = stream.node.default_child
        assert isinstance(resource, firehose.CfnDeliveryStream)
        resource.add_property_override(
            "ExtendedS3DestinationConfiguration.ProcessingConfiguration", NEWLINE_AFTER_EACH_RECORD
        )
    # The L2 maps each region's Firehose CIDR block for VPC destinations (Redshift,
    # OpenSearch); an S3 destination never uses it, and cfn-lint flags it unused (W7001).
    Stack.of(scope).node.try_remove_child(FIREHOSE_CIDR_MAPPING)
    if source_stream is not None:
        justify(stream, "firehose-kinesis-source")
    freshness = cloudwatch.Alarm(
        scope,
        f"{construct_id}DataFreshness",
        metric=stream.metric("DeliveryToS3.DataFreshness", statistic="Maximum"),
        threshold=FRESHNESS_LIMIT.to_seconds(),
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description="Records waited over 15 minutes to reach S3: check the delivery "
        "stream's error logs (bucket permissions, KMS key, throttling).",
    )
    return S3Delivery(stream, bucket, errors, [freshness])
