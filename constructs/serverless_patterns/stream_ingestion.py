"""StreamIngestion: a Kinesis data stream read by a Lambda consumer, optionally copied to S3."""

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core import streams
from serverless_patterns.core.firehose import (
    S3Delivery,
    S3DeliveryProps,
    deliver_to_s3,
    validate_s3_delivery,
)
from serverless_patterns.core.functions import python_function
from serverless_patterns.core.queues import dead_letter_queue
from serverless_patterns.core.topics import validate_alarm_topic
from serverless_patterns.core.validation import Problems

DEFAULT_HANDLER = "app.handler"


class StreamIngestion(Construct):
    """Many producers write to a Kinesis data stream; a Lambda function consumes it in order
    per shard, without ever blocking a shard on one bad record.

    Use it for high-throughput ingestion (device telemetry, clickstreams, logs) where records
    of one key must stay in order, several consumers may read the same records, or records
    must be replayable; for a work queue, SQS is simpler (see "SQS or Kinesis?").

    The consumer reports partial batch failures (``batchItemFailures`` with sequence numbers,
    as Powertools' ``BatchProcessor`` answers). Lambda bisects a batch whose invocation failed,
    retries at most ``retry_attempts`` times and never records older than ``max_record_age``,
    then sends the batch's description (shard and sequence numbers) to the on-failure
    ``dead_letter_queue`` (alarmed) and moves on. The function gets the stream's name in
    ``STREAM_NAME``. Delivery is at least once: make the consumer idempotent.

    Smallest use::

        StreamIngestion(self, "Telemetry", code=lambda_.Code.from_asset("handlers/telemetry"))

    :param code: the consumer's code (give this or ``existing_function``).
    :param handler: the handler within ``code``. Default: ``"app.handler"``.
    :param function_options: overrides for the function's defaults (Python, arm64, 256 MB,
        10 s, X-Ray, JSON logs kept one month, Powertools layer). Default: none.
    :param existing_function: your own function instead of one built from ``code``;
        ``STREAM_NAME`` is added to its environment when it is a ``lambda_.Function``.
    :param stream_props: overrides for the stream's defaults (on-demand, ``aws/kinesis``
        encryption, 24 hours' retention). Idle: on-demand about $29.20 a month, provisioned
        about $10.95 a month per shard (us-east-1).
    :param existing_stream: your own stream instead of a new one.
    :param batch_size: records per invocation, 1 to 10,000. Default: 100.
    :param parallelization_factor: concurrent batches per shard, 1 to 10 (order holds per
        partition key). Default: 1.
    :param max_batching_window: how long to gather records before invoking, up to 5 minutes.
        Default: none (invoke as records arrive).
    :param tumbling_window: aggregation windows up to 15 minutes, whose state Lambda passes
        from one invocation to the next. Default: none.
    :param retry_attempts: retries of a failed batch, 0 to 10,000. Default: 3.
    :param max_record_age: older records go to the dead-letter queue unprocessed, 60 seconds
        to 7 days. Default: 1 hour.
    :param starting_position: where a new mapping starts reading. Default: ``TRIM_HORIZON``.
    :param archive: also copy every raw record to S3 through Firehose (GZIP, date-partitioned,
        errors apart; see ``core.firehose``). Default: False.
    :param archive_props: the copy's options (bucket, prefixes, buffering); implies
        ``archive``. Default: none.
    :param alarm_topic: an SNS topic that receives every alarm and its recovery.
    :param service_name: names the service in logs, traces and metrics. Default: the id.

    Attributes: ``stream`` (yours with ``existing_stream``), ``function`` (yours with
    ``existing_function``), ``event_source`` (the Kinesis event source), ``dead_letter_queue``
    (the on-failure destination), ``archive`` (an ``S3Delivery``: ``delivery_stream``,
    ``bucket``, ``log_group``, ``alarms``; None without archive), ``alarms`` (function errors
    and throttles, iterator age over half ``max_record_age``, dead letters, the archive's).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code | None = None,
        handler: str | None = None,
        function_options: lambda_.FunctionOptions | None = None,
        existing_function: lambda_.IFunction | None = None,
        stream_props: kinesis.StreamProps | None = None,
        existing_stream: kinesis.IStream | None = None,
        batch_size: int = streams.DEFAULT_BATCH_SIZE,
        parallelization_factor: int = 1,
        max_batching_window: Duration | None = None,
        tumbling_window: Duration | None = None,
        retry_attempts: int = streams.DEFAULT_RETRY_ATTEMPTS,
        max_record_age: Duration = streams.DEFAULT_MAX_RECORD_AGE,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        archive: bool = False,
        archive_props: S3DeliveryProps | None = None,
        alarm_topic: sns.ITopic | None = None,
        service_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        consumer: dict[str, Any] = {
            "batch_size": batch_size,
            "parallelization_factor": parallelization_factor,
            "max_batching_window": max_batching_window,
            "tumbling_window": tumbling_window,
            "retry_attempts": retry_attempts,
            "max_record_age": max_record_age,
        }
        self._validate(
            code=code,
            handler=handler,
            function_options=function_options,
            existing_function=existing_function,
            stream_props=stream_props,
            existing_stream=existing_stream,
            consumer=consumer,
            archive_props=archive_props,
            alarm_topic=alarm_topic,
        )
        self.stream: kinesis.IStream = existing_stream or streams.stream(
            self, "Stream", props=stream_props
        )
        if existing_function is None:
            assert code is not None
            self.function: lambda_.IFunction = python_function(
                self,
                "Function",
                code=code,
                handler=handler or DEFAULT_HANDLER,
                service_name=service_name or construct_id,
                environment={"STREAM_NAME": self.stream.stream_name},
                options=function_options,
            )
        else:
            self.function = existing_function
            if isinstance(existing_function, lambda_.Function):
                existing_function.add_environment("STREAM_NAME", self.stream.stream_name)
        self.dead_letter_queue: sqs.Queue = dead_letter_queue(self, "DeadLetterQueue")
        self.event_source: sources.KinesisEventSource = streams.consume_stream(
            self.function,
            self.stream,
            dead_letter_queue=self.dead_letter_queue,
            starting_position=starting_position,
            **consumer,
        )
        self.archive: S3Delivery | None = None
        if archive or archive_props is not None:
            self.archive = deliver_to_s3(
                self,
                "Archive",
                source_stream=self.stream,
                **(archive_props or S3DeliveryProps()).options(),
            )
        self.alarms: list[cloudwatch.Alarm] = [
            *alarm_defaults.function_alarms(self, "Function", self.function),
            streams.iterator_age_alarm(self, "FunctionIteratorAge", self.function, max_record_age),
            alarm_defaults.dead_letter_queue_alarm(
                self, "DeadLetterQueueAlarm", self.dead_letter_queue
            ),
            *(self.archive.alarms if self.archive else []),
        ]
        alarm_defaults.notify(self.alarms, alarm_topic)

    @staticmethod
    def _validate(
        *,
        code: lambda_.Code | None,
        handler: str | None,
        function_options: lambda_.FunctionOptions | None,
        existing_function: lambda_.IFunction | None,
        stream_props: kinesis.StreamProps | None,
        existing_stream: kinesis.IStream | None,
        consumer: dict[str, Any],
        archive_props: S3DeliveryProps | None,
        alarm_topic: sns.ITopic | None,
    ) -> None:
        problems = Problems("StreamIngestion")
        problems.expect("code", code, lambda_.Code, "lambda_.Code.from_asset('handlers/telemetry')")
        problems.expect(
            "function_options",
            function_options,
            lambda_.FunctionOptions,
            "lambda_.FunctionOptions(...)",
        )
        problems.expect(
            "stream_props", stream_props, kinesis.StreamProps, "kinesis.StreamProps(...)"
        )
        if archive_props is not None and not isinstance(archive_props, S3DeliveryProps):
            # not Problems.expect: a plain dataclass cannot go through jsii's token check
            problems.add(
                "archive_props",
                archive_props,
                f"expected S3DeliveryProps(...); got {type(archive_props).__name__}",
            )
        problems.raise_if_any()  # the checks below rely on these types
        if (code is None) == (existing_function is None):
            problems.add("code", code, "give exactly one of code= or existing_function=")
        problems.only_with_code("handler", handler, existing_function)
        problems.exclusive(existing_function=existing_function, function_options=function_options)
        problems.exclusive(existing_stream=existing_stream, stream_props=stream_props)
        streams.validate_stream_consumer(problems, "", **consumer)
        if archive_props is not None:
            validate_s3_delivery(problems, "archive_props.", **archive_props.options())
        validate_alarm_topic(problems, alarm_topic)
        problems.raise_if_any()
