"""Kinesis data streams, and Lambda consumers that never block a shard on one bad record.

Idle cost (us-east-1, "Amazon Kinesis Data Streams pricing", aws.amazon.com/kinesis/
data-streams/pricing/): an on-demand stream bills $0.04 per stream-hour (about $29.20 a
month) before any data; a provisioned stream $0.015 per shard-hour (about $10.95 a month per
shard). The event source mapping and the AWS-managed ``aws/kinesis`` key cost nothing idle.
"""

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core.alarms import PERIOD
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.props import merge
from serverless_patterns.core.validation import Problems, is_token

#: Records kept in the stream: Kinesis's default and cheapest window (longer costs extra).
DEFAULT_RETENTION = Duration.hours(24)
#: Lambda's Kinesis event source ("Lambda parameters for Amazon Kinesis event source
#: mappings", lambda/latest/dg/services-kinesis-parameters.html): batches of 1 to 10,000
#: records, a batching window up to 300 s, 1 to 10 concurrent batches per shard, retries
#: -1 (until the record expires) or 0 to 10,000, a maximum record age -1 or 60 s to 7 days,
#: a tumbling window up to 900 s.
DEFAULT_BATCH_SIZE = 100
BATCH_SIZE_RANGE = (1, 10_000)
MAX_BATCHING_WINDOW_SECONDS = 300
PARALLELIZATION_FACTOR_RANGE = (1, 10)
#: A poison record is retried 3 times (bisecting around it is free), then its batch goes to
#: the on-failure destination: the shard moves on within minutes, not after 24 hours.
DEFAULT_RETRY_ATTEMPTS = 3
RETRY_ATTEMPTS_RANGE = (0, 10_000)
#: Records older than an hour are not worth a late aggregate: they go to the destination.
DEFAULT_MAX_RECORD_AGE = Duration.hours(1)
MAX_RECORD_AGE_RANGE_SECONDS = (60, 7 * 24 * 3600)
MAX_TUMBLING_WINDOW_SECONDS = 900


def stream(
    scope: Construct, construct_id: str, *, props: kinesis.StreamProps | None = None
) -> kinesis.Stream:
    """A data stream with the library's defaults; ``props`` override any of them.

    Defaults: on-demand capacity (no shards to size; see the idle cost above, and give
    ``stream_mode=kinesis.StreamMode.PROVISIONED, shard_count=n`` for steady load), encrypted
    with the AWS-managed ``aws/kinesis`` key, records kept 24 hours.
    """
    return kinesis.Stream(
        scope,
        construct_id,
        **merge(
            {
                "stream_mode": kinesis.StreamMode.ON_DEMAND,
                "encryption": kinesis.StreamEncryption.MANAGED,
                "retention_period": DEFAULT_RETENTION,
            },
            props,
        ),
    )


def consume_stream(
    function: lambda_.IFunction,
    source: kinesis.IStream,
    *,
    dead_letter_queue: sqs.IQueue,
    batch_size: int = DEFAULT_BATCH_SIZE,
    parallelization_factor: int = 1,
    max_batching_window: Duration | None = None,
    tumbling_window: Duration | None = None,
    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
    max_record_age: Duration = DEFAULT_MAX_RECORD_AGE,
    starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
) -> sources.KinesisEventSource:
    """Have ``function`` read ``source``, reporting partial batch failures.

    The handler answers ``batchItemFailures`` with the sequence numbers that failed
    (Powertools' ``BatchProcessor`` does): Lambda retries from the lowest of them, bisects a
    batch whose invocation raised, retries ``retry_attempts`` times at most and never past
    ``max_record_age``; then the batch's description (shard, sequence numbers) goes to
    ``dead_letter_queue`` and the shard moves on. Nothing is lost: the records stay in the
    stream for its retention, to be read again from those sequence numbers.
    """
    event_source = sources.KinesisEventSource(
        source,
        starting_position=starting_position,
        batch_size=batch_size,
        parallelization_factor=parallelization_factor,
        max_batching_window=max_batching_window,
        tumbling_window=tumbling_window,
        retry_attempts=retry_attempts,
        max_record_age=max_record_age,
        bisect_batch_on_error=True,
        report_batch_item_failures=True,
        on_failure=sources.SqsDlq(dead_letter_queue),
    )
    function.add_event_source(event_source)
    justify(function, "invoked-synchronously")
    return event_source


def validate_stream_consumer(
    problems: Problems,
    prefix: str,
    *,
    batch_size: int | None,
    parallelization_factor: int | None,
    max_batching_window: Duration | None,
    tumbling_window: Duration | None,
    retry_attempts: int | None,
    max_record_age: Duration,
) -> None:
    """What Lambda's Kinesis event source accepts (options named after ``prefix``).

    Unbounded retries (-1) and record ages (-1) are refused: they let one poison record block
    its shard until the record expires.
    """
    problems.in_range(f"{prefix}batch_size", batch_size, *BATCH_SIZE_RANGE)
    problems.in_range(
        f"{prefix}parallelization_factor", parallelization_factor, *PARALLELIZATION_FACTOR_RANGE
    )
    problems.in_range(f"{prefix}retry_attempts", retry_attempts, *RETRY_ATTEMPTS_RANGE)
    for option, window, longest in (
        ("max_batching_window", max_batching_window, MAX_BATCHING_WINDOW_SECONDS),
        ("tumbling_window", tumbling_window, MAX_TUMBLING_WINDOW_SECONDS),
    ):
        seconds = None if window is None else window.to_seconds()
        if window is not None and not is_token(seconds) and window.to_seconds() > longest:
            problems.add(
                f"{prefix}{option}", window.to_human_string(), f"must be {longest} seconds or less"
            )
    low, high = MAX_RECORD_AGE_RANGE_SECONDS
    if not is_token(max_record_age.to_seconds()) and not low <= max_record_age.to_seconds() <= high:
        problems.add(
            f"{prefix}max_record_age",
            max_record_age.to_human_string(),
            "must be between 60 seconds and 7 days: an unbounded age lets a poison record "
            "block its shard",
        )


def iterator_age_alarm(
    scope: Construct, construct_id: str, function: lambda_.IFunction, max_record_age: Duration
) -> cloudwatch.Alarm:
    """The consumer falls behind: its oldest record (``IteratorAge``, milliseconds) is over
    half ``max_record_age`` old, so records will soon go to the dead-letter queue unread."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        metric=function.metric("IteratorAge", statistic="Maximum", period=PERIOD),
        threshold=max_record_age.to_milliseconds() / 2,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description="The consumer is falling behind the stream: records near "
        "max_record_age go to the dead-letter queue unprocessed. Raise parallelization_factor "
        "or batch_size, or fix what slows the function.",
    )
