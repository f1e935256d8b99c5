"""EventBridge Pipes: a DynamoDB stream read in order, filtered, enriched, put on an event bus.

What AWS documents and these defaults rest on:

- "Amazon DynamoDB stream as a source" (eventbridge/latest/userguide/eb-pipes-dynamodb.html)
  and ``PipeSourceDynamoDBStreamParameters`` (pipes-reference): ``StartingPosition``
  ``TRIM_HORIZON`` or ``LATEST``; ``BatchSize`` 1 to 10,000; ``MaximumRetryAttempts`` -1 to
  10,000 and ``MaximumRecordAgeInSeconds`` -1 or 60 to 604,800, both -1 (infinite) by
  default, so one failing record would hold its shard until it expires from the stream (24
  hours) and then be lost; ``OnPartialBatchItemFailure: AUTOMATIC_BISECT`` halves a failing
  batch until the failing record is alone; ``DeadLetterConfig`` receives what is discarded.
- "Event filtering in Amazon EventBridge Pipes" (eb-pipes-event-filtering.html): the
  ``FilterCriteria`` patterns are EventBridge event patterns matched against each record;
  a record that matches none is dropped, and never billed.
- "Amazon EventBridge Pipes targets" (eb-pipes-event-target.html): a target parameter may be
  a dynamic JSON path into the event payload ("the entire value has to be a JSON path").
- "Amazon EventBridge Pipes input transformation" (eb-pipes-input-transformation.html):
  inline paths ``<$.path>``; quotes around a placeholder of a string value, none around one
  of an object. With an event bus target, the transformed input is the event's ``detail``.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from constructs import Construct

from serverless_patterns.core.compliance import justify
from serverless_patterns.core.validation import Problems, is_token

#: Read the stream from its oldest record (kept 24 hours): changes made between the table's
#: creation and the pipe's are not skipped.
DEFAULT_STARTING_POSITION = lambda_.StartingPosition.TRIM_HORIZON
#: What a DynamoDB stream source can start from (``AT_TIMESTAMP`` is Kinesis only).
STARTING_POSITIONS = (lambda_.StartingPosition.TRIM_HORIZON, lambda_.StartingPosition.LATEST)
#: Ten records per batch: one PutEvents call of ten entries, EventBridge's maximum per call.
DEFAULT_BATCH_SIZE = 10
BATCH_SIZE_RANGE = (1, 10_000)
#: Bounded, so a record that keeps failing reaches the DLQ instead of holding its shard.
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 10
MAXIMUM_RETRY_ATTEMPTS_RANGE = (0, 10_000)
#: As EventBridge rule targets (core.buses): a stuck change shows in the DLQ alarm within hours.
DEFAULT_MAXIMUM_RECORD_AGE = Duration.hours(6)
MAXIMUM_RECORD_AGE_RANGE = (60, 604_800)  # seconds
#: Errors only: execution data (the records, which may hold personal data) is not logged.
DEFAULT_LOG_LEVEL = "ERROR"
LOG_LEVELS = ("OFF", "ERROR", "INFO", "TRACE")
#: The changes a DynamoDB stream records.
EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
#: The event's ``detail-type`` is the change's ``eventName`` (a dynamic path parameter).
DETAIL_TYPE = "$.eventName"
#: PutEvents refuses sources that start with this ("aws." is reserved for AWS services).
RESERVED_SOURCE_PREFIX = "aws."
MAX_SOURCE_LENGTH = 256


def detail_template(*, enriched: bool) -> str:
    """The event ``detail`` for one change: its id, its name, the stream it came from (which
    names the table) and the stream record's ``dynamodb`` object (keys, new and old image,
    sequence number, creation time), plus the ``enrichment`` object an enrichment added."""
    fields = [
        '"eventId": "<$.eventID>"',
        '"eventName": "<$.eventName>"',
        '"eventSourceArn": "<$.eventSourceARN>"',
        '"dynamodb": <$.dynamodb>',
    ]
    if enriched:
        fields.append('"enrichment": <$.enrichment>')
    return "{" + ", ".join(fields) + "}"


def change_filter(
    event_names: Sequence[str], pattern: Mapping[str, Any] | None
) -> pipes.CfnPipe.FilterCriteriaProperty | None:
    """One filter: the change names (all three need no filter) and the user's pattern."""
    combined = dict(pattern or {})
    if set(event_names) != set(EVENT_NAMES):
        combined["eventName"] = list(event_names)
    if not combined:
        return None
    return pipes.CfnPipe.FilterCriteriaProperty(
        filters=[pipes.CfnPipe.FilterProperty(pattern=json.dumps(combined))]
    )


def pipe_role(scope: Construct, construct_id: str, *, description: str) -> iam.Role:
    """The role EventBridge Pipes assumes, for pipes of this account only (confused deputy)."""
    return iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(
            "pipes.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}},
        ),
        description=description,
    )


def grant_stream_read(role: iam.Role, stream_arn: str) -> None:
    """What a pipe needs to read a DynamoDB stream ("Event source permissions for Amazon
    EventBridge Pipes", eventbridge/latest/userguide/eb-pipes-permissions.html): the stream's
    records, and ``ListStreams``, which names no resource."""
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            resources=[stream_arn],
        )
    )
    role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"]))
    justify(role, "dynamodb-list-streams")


def dynamodb_stream_pipe(
    scope: Construct,
    construct_id: str,
    *,
    role: iam.IRole,
    stream_arn: str,
    bus_arn: str,
    source: str,
    dead_letter_queue_arn: str,
    log_group: logs.ILogGroup,
    enrichment_arn: str | None = None,
    filter_criteria: pipes.CfnPipe.FilterCriteriaProperty | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    max_record_age: Duration = DEFAULT_MAXIMUM_RECORD_AGE,
    starting_position: lambda_.StartingPosition = DEFAULT_STARTING_POSITION,
    log_level: str = DEFAULT_LOG_LEVEL,
) -> pipes.CfnPipe:
    """A pipe from a DynamoDB stream to an event bus: one event per change.

    Each event has ``source`` = ``source``, ``detail-type`` = the change (``INSERT``,
    ``MODIFY``, ``REMOVE``) and the :func:`detail_template` detail. A failing batch is halved
    until the failing record is alone, retried ``retry_attempts`` times or until it
    is ``max_record_age`` old, then its batch's description goes to the DLQ.
    """
    return pipes.CfnPipe(
        scope,
        construct_id,
        role_arn=role.role_arn,
        source=stream_arn,
        source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
            dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                starting_position=starting_position.value,
                batch_size=batch_size,
                maximum_retry_attempts=retry_attempts,
                maximum_record_age_in_seconds=int(max_record_age.to_seconds()),
                on_partial_batch_item_failure="AUTOMATIC_BISECT",
                dead_letter_config=pipes.CfnPipe.DeadLetterConfigProperty(
                    arn=dead_letter_queue_arn
                ),
            ),
            filter_criteria=filter_criteria,
        ),
        enrichment=enrichment_arn,
        target=bus_arn,
        target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
            event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                source=source, detail_type=DETAIL_TYPE
            ),
            input_template=detail_template(enriched=enrichment_arn is not None),
        ),
        log_configuration=pipes.CfnPipe.PipeLogConfigurationProperty(
            cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
                log_group_arn=log_group.log_group_arn
            ),
            level=log_level,
        ),
        description=f"Changes of a DynamoDB table as {source} events",
    )


# --- validation -----------------------------------------------------------------------------


def validate_stream_reading(
    problems: Problems,
    *,
    batch_size: Any,
    retry_attempts: Any,
    max_record_age: Any,
    starting_position: Any,
    log_level: Any,
) -> None:
    for option, value, (low, high) in (
        ("batch_size", batch_size, BATCH_SIZE_RANGE),
        ("retry_attempts", retry_attempts, MAXIMUM_RETRY_ATTEMPTS_RANGE),
    ):
        if is_token(value):
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(option, value, f"give a whole number from {low} to {high}")
        else:
            problems.in_range(option, value, low, high)
    if not isinstance(max_record_age, Duration):
        problems.add("max_record_age", max_record_age, "give a Duration, e.g. Duration.hours(6)")
    elif not is_token(seconds := max_record_age.to_seconds(integral=False)):
        low, high = MAXIMUM_RECORD_AGE_RANGE
        if not low <= seconds <= high:
            problems.add(
                "max_record_age",
                f"{seconds:g}s",
                "must be from 1 minute to 7 days (60 to 604800 seconds)",
            )
    if starting_position not in STARTING_POSITIONS:
        problems.add(
            "starting_position",
            getattr(starting_position, "value", starting_position),
            "give StartingPosition.TRIM_HORIZON or LATEST",
        )
    if log_level not in LOG_LEVELS:
        problems.add("log_level", log_level, f"give one of {', '.join(LOG_LEVELS)}")


def validate_source(problems: Problems, source: Any) -> None:
    if is_token(source):
        return
    if not isinstance(source, str) or not 1 <= len(source) <= MAX_SOURCE_LENGTH:
        problems.add("source", source, f"give a string of 1 to {MAX_SOURCE_LENGTH} characters")
    elif source.startswith(RESERVED_SOURCE_PREFIX):
        problems.add("source", source, "sources starting with 'aws.' are reserved for AWS")


def validate_filter(problems: Problems, event_names: Any, pattern: Any) -> None:
    if isinstance(event_names, str) or not isinstance(event_names, Sequence):
        problems.add("event_names", event_names, "give a list, e.g. ['INSERT', 'MODIFY']")
    elif not event_names or any(name not in EVENT_NAMES for name in event_names):
        problems.add(
            "event_names", list(event_names), f"give one or more of {', '.join(EVENT_NAMES)}"
        )
    else:
        problems.unique("event_names", event_names)
    if pattern is None:
        return
    if not isinstance(pattern, Mapping) or not pattern:
        problems.add("filter_pattern", pattern, "give a non-empty event pattern (a dict)")
    elif "eventName" in pattern:
        problems.add("filter_pattern", "eventName", "choose the changes with event_names=")
