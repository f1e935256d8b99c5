"""ChangeCapture: a DynamoDB table's changes as events on a bus, through EventBridge Pipes."""

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core.buses import event_bus
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.functions import python_function
from serverless_patterns.core.logs import log_group
from serverless_patterns.core.pipes import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_LOG_LEVEL,
    DEFAULT_MAXIMUM_RECORD_AGE,
    DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    DEFAULT_STARTING_POSITION,
    EVENT_NAMES,
    change_filter,
    dynamodb_stream_pipe,
    grant_stream_read,
    pipe_role,
    validate_filter,
    validate_source,
    validate_stream_reading,
)
from serverless_patterns.core.queues import dead_letter_queue
from serverless_patterns.core.tables import table, validate_stream
from serverless_patterns.core.topics import validate_alarm_topic
from serverless_patterns.core.validation import Problems

DEFAULT_HANDLER = "app.handler"
#: What the events carry: both images, so a consumer sees what changed.
STREAM_VIEW_TYPE = dynamodb.StreamViewType.NEW_AND_OLD_IMAGES


class ChangeCapture(Construct):
    """Every change of a DynamoDB table becomes an event on an EventBridge bus.

    The transactional outbox without a second write: the service writes only its table,
    and the table's stream (NEW_AND_OLD_IMAGES) is read in order by an EventBridge pipe that
    filters the changes, optionally enriches them with a Lambda function, and puts one event
    per change on the bus, where rules (e.g. an ``EventRouter``'s) route them.

    Each event: ``source`` = ``source``; ``detail-type`` = ``INSERT``, ``MODIFY`` or
    ``REMOVE``; ``detail`` = ``{"eventId", "eventName", "eventSourceArn", "dynamodb": {Keys,
    NewImage, OldImage, SequenceNumber, ApproximateCreationDateTime, ...}}`` plus
    ``"enrichment"`` when an enrichment adds one. Match them with :meth:`pattern`.

    Smallest use::

        ChangeCapture(self, "Orders", source="shop.orders")

    :param existing_table: your table; its stream must be enabled with NEW_AND_OLD_IMAGES.
    :param table_props: overrides for the new table's defaults (partition key ``pk``,
        on-demand, point-in-time recovery, AWS-managed encryption, retained on delete; a
        NEW_AND_OLD_IMAGES stream). Default: none.
    :param existing_bus: the bus to put events on (e.g. an ``EventRouter``'s ``event_bus``).
    :param event_bus_props: overrides for the new bus. Default: a bus with a generated name.
    :param source: every event's ``source``. Default: the construct id in lower case.
    :param event_names: the changes that become events. Default: all three.
    :param filter_pattern: an EventBridge pattern each stream record must also match, e.g.
        ``{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "ORDER#"}]}}}}``. Default: none.
    :param code: an enrichment function's code: it receives the batch of stream records (a
        JSON list) and returns them, each with an ``enrichment`` object added (records it
        leaves out are not published; an error fails the batch). Default: no enrichment.
    :param handler: the enrichment's handler within ``code``. Default: ``"app.handler"``.
    :param function_options: overrides for the enrichment's function defaults.
    :param existing_function: your own enrichment function instead of one built from code.
    :param batch_size: records per batch, 1 to 10,000. Default: 10 (one PutEvents call).
    :param retry_attempts: retries of a failing batch, 0 to 10,000. Default: 10.
    :param max_record_age: a record older than this is not retried, 1 minute to 7 days.
        Default: 6 hours.
    :param starting_position: ``lambda_.StartingPosition.TRIM_HORIZON`` or ``LATEST``.
        Default: ``TRIM_HORIZON``.
    :param log_level: the pipe's log level (``OFF``, ``ERROR``, ``INFO``, ``TRACE``), without
        execution data. Default: ``ERROR``.
    :param alarm_topic: an SNS topic that receives every alarm and its recovery.
    :param service_name: names the enrichment in logs, traces and metrics. Default: the id.

    Attributes: ``table``, ``event_bus`` (yours with ``existing_*``), ``pipe`` (the
    ``CfnPipe``), ``role``, ``dead_letter_queue`` (descriptions of the discarded batches),
    ``log_group``, ``function`` (the enrichment, or None), ``source``, ``alarms``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        existing_table: dynamodb.ITable | dynamodb.ITableV2 | None = None,
        table_props: dynamodb.TablePropsV2 | None = None,
        existing_bus: events.IEventBus | None = None,
        event_bus_props: events.EventBusProps | None = None,
        source: str | None = None,
        event_names: Sequence[str] = EVENT_NAMES,
        filter_pattern: Mapping[str, Any] | None = None,
        code: lambda_.Code | None = None,
        handler: str | None = None,
        function_options: lambda_.FunctionOptions | None = None,
        existing_function: lambda_.IFunction | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
        max_record_age: Duration = DEFAULT_MAXIMUM_RECORD_AGE,
        starting_position: lambda_.StartingPosition = DEFAULT_STARTING_POSITION,
        log_level: str = DEFAULT_LOG_LEVEL,
        alarm_topic: sns.ITopic | None = None,
        service_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.source: str = construct_id.lower() if source is None else source
        problems = Problems("ChangeCapture")
        problems.expect("code", code, lambda_.Code, "lambda_.Code.from_asset('handlers/x')")
        problems.expect(
            "function_options", function_options, lambda_.FunctionOptions, "FunctionOptions"
        )
        problems.expect(
            "table_props", table_props, dynamodb.TablePropsV2, "dynamodb.TablePropsV2(...)"
        )
        problems.raise_if_any()  # the checks below rely on these types
        problems.exclusive(existing_table=existing_table, table_props=table_props)
        problems.exclusive(existing_bus=existing_bus, event_bus_props=event_bus_props)
        problems.exclusive(code=code, existing_function=existing_function)
        problems.exclusive(existing_function=existing_function, function_options=function_options)
        problems.only_with_code("handler", handler, existing_function)
        if code is None and existing_function is None:
            for option, value in (("handler", handler), ("function_options", function_options)):
                if value is not None:
                    problems.add(option, value, "configures the enrichment: give code= too")
        validate_stream(
            self,
            problems,
            props=table_props,
            existing=existing_table,
            view_types=[STREAM_VIEW_TYPE],
            reader="the events carry both images",
        )
        validate_source(problems, self.source)
        validate_filter(problems, event_names, filter_pattern)
        validate_stream_reading(
            problems,
            batch_size=batch_size,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            starting_position=starting_position,
            log_level=log_level,
        )
        validate_alarm_topic(problems, alarm_topic)
        problems.raise_if_any()

        self.table: dynamodb.ITable | dynamodb.ITableV2 = existing_table or table(
            self, "Table", props=table_props, stream=STREAM_VIEW_TYPE
        )
        self.event_bus: events.IEventBus = existing_bus or event_bus(
            self, "Bus", props=event_bus_props
        )
        self.role: iam.Role = pipe_role(
            self, "Role", description=f"EventBridge pipe of {self.node.path}"
        )
        self.dead_letter_queue: sqs.Queue = self._add_dead_letter_queue()
        self.function: lambda_.IFunction | None = existing_function
        if code is not None:
            self.function = python_function(
                self,
                "Enrichment",
                code=code,
                handler=handler or DEFAULT_HANDLER,
                service_name=service_name or construct_id,
                options=function_options,
            )
        self.log_group: logs.LogGroup = log_group(self, "PipeLogs")
        self.pipe: pipes.CfnPipe = self._add_pipe(
            change_filter(event_names, filter_pattern),
            batch_size=batch_size,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            starting_position=starting_position,
            log_level=log_level,
        )
        self.alarms: list[cloudwatch.Alarm] = [
            alarm_defaults.dead_letter_queue_alarm(
                self, "DeadLetterQueueAlarm", self.dead_letter_queue
            )
        ]
        if self.function is not None:
            self.alarms += alarm_defaults.function_alarms(self, "Enrichment", self.function)
        alarm_defaults.notify(self.alarms, alarm_topic)

    def pattern(self, *event_names: str) -> events.EventPattern:
        """The events of these changes (default: every change), for a rule behind the bus."""
        return events.EventPattern(
            source=[self.source], detail_type=list(event_names or EVENT_NAMES)
        )

    # --- internals --------------------------------------------------------------------------

    def _add_dead_letter_queue(self) -> sqs.Queue:
        queue = dead_letter_queue(self, "DeadLetterQueue")
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn])
        )
        return queue

    def _add_pipe(self, filter_criteria: Any, **reading: Any) -> pipes.CfnPipe:
        stream_arn = self.table.table_stream_arn
        assert stream_arn is not None  # validated
        grant_stream_read(self.role, stream_arn)
        self.event_bus.grant_put_events_to(self.role)
        self.log_group.grant_write(self.role)
        if self.function is not None:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[self.function.function_arn]
                )
            )
            if isinstance(self.function, Construct):
                # The pipe invokes it synchronously; a failing batch goes to the pipe's DLQ.
                justify(self.function, "invoked-synchronously")
        pipe = dynamodb_stream_pipe(
            self,
            "Pipe",
            role=self.role,
            stream_arn=stream_arn,
            bus_arn=self.event_bus.event_bus_arn,
            source=self.source,
            dead_letter_queue_arn=self.dead_letter_queue.queue_arn,
            log_group=self.log_group,
            enrichment_arn=self.function.function_arn if self.function is not None else None,
            filter_criteria=filter_criteria,
            **reading,
        )
        # The role's policy must exist before the pipe starts reading with it.
        pipe.node.add_dependency(self.role)
        return pipe
