"""AsyncApi's options: checked at construction (every problem at once, one ValueError), then
turned into the props of what it builds."""

import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core.apis import (
    Route,
    validate_authorization,
    validate_path,
    validate_routes,
)
from serverless_patterns.core.functions import effective_timeout
from serverless_patterns.core.props import merge, options_of
from serverless_patterns.core.queues import (
    ResolvedQueue,
    resolve_queue,
    validate_consumer,
    validate_existing_queue_keeps_failures,
    validate_lambda_max_receive_count,
)
from serverless_patterns.core.tables import validate_stream
from serverless_patterns.core.topics import validate_alarm_topic
from serverless_patterns.core.validation import Problems, is_token

DEFAULT_PROCESSOR = "app.process"
TTL_ATTRIBUTE = "expires_at"
NEW_IMAGES = (dynamodb.StreamViewType.NEW_IMAGE, dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
#: Any JSON object: the default job schema.
ANY_JSON_OBJECT = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT
)
#: A job record is kept from one hour to ten years after its last change.
JOB_RETENTION_RANGE = (3600, 10 * 365 * 86400)
_PROCESSOR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_ROUTE_OPTIONS = ("connect_route_options", "disconnect_route_options", "default_route_options")


@dataclass(frozen=True)
class Plan:
    """What the validated options amount to: the inputs of AsyncApi's build steps."""

    processor: str
    job_schema: apigw.JsonSchema
    queue: ResolvedQueue
    worker_timeout: Duration | None


def validate_types(problems: Problems, options: dict[str, Any]) -> None:
    """The options the other checks read fields of must have the right type (raises)."""
    problems.expect(
        "code", options["code"], lambda_.Code, "lambda_.Code.from_asset('handlers/jobs')"
    )
    problems.expect(
        "function_options",
        options["function_options"],
        lambda_.FunctionOptions,
        "lambda_.FunctionOptions(...)",
    )
    problems.expect(
        "table_props", options["table_props"], dynamodb.TablePropsV2, "dynamodb.TablePropsV2(...)"
    )
    problems.expect("queue_props", options["queue_props"], sqs.QueueProps, "sqs.QueueProps(...)")
    problems.only_with_code("processor", options["processor"], options["existing_function"])
    problems.raise_if_any()


def validate(scope: Construct, problems: Problems, options: dict[str, Any]) -> Plan:
    """Check every option of an AsyncApi (``options``: its keyword arguments) and plan it."""
    validate_types(problems, options)
    processor = options["processor"] or DEFAULT_PROCESSOR
    if (options["code"] is None) == (options["existing_function"] is None):
        problems.add("code", options["code"], "give exactly one of code= or existing_function=")
    problems.exclusive(
        existing_function=options["existing_function"],
        function_options=options["function_options"],
    )
    problems.exclusive(existing_queue=options["existing_queue"], queue_props=options["queue_props"])
    problems.exclusive(existing_table=options["existing_table"], table_props=options["table_props"])
    if not _PROCESSOR.match(processor):
        problems.add("processor", processor, "give module.function, e.g. 'app.process'")
    job_schema = validate_schema(problems, options["job_schema"], options["message_group_key"])
    path = options["path"]
    if validate_path(problems, "path", path):
        validate_routes(problems, [Route("POST", path), Route("GET", f"{path}/{{job_id}}")])
    validate_authorization(problems, options["authorizer"], options["authorization_type"])
    validate_alarm_topic(problems, options["alarm_topic"])
    worker_timeout = effective_timeout(options["function_options"], options["existing_function"])
    queue = _validate_queue(scope, problems, options, worker_timeout)
    validate_table(
        scope, problems, options["table_props"], options["existing_table"], options["websocket"]
    )
    _validate_retention_and_websocket(problems, options)
    problems.raise_if_any()
    return Plan(processor, job_schema, queue, worker_timeout)


def _validate_queue(
    scope: Construct, problems: Problems, options: dict[str, Any], worker_timeout: Duration | None
) -> ResolvedQueue:
    existing = options["existing_queue"]
    validate_lambda_max_receive_count(problems, "max_receive_count", options["max_receive_count"])
    validate_existing_queue_keeps_failures(scope, problems, existing)
    queue = resolve_queue(
        problems,
        "",
        props=options["queue_props"],
        existing=existing,
        max_receive_count=options["max_receive_count"],
        consumer_timeout=worker_timeout,
    )
    validate_consumer(
        problems,
        "",
        batch_size=options["batch_size"],
        max_batching_window=options["max_batching_window"],
        max_concurrency=options["max_concurrency"],
        function_options=options["function_options"],
        fifo=queue.fifo,
    )
    group_key = options["message_group_key"]
    if group_key is not None and queue.fifo is False:
        problems.add("message_group_key", group_key, "needs a FIFO queue (queue_props fifo)")
    return queue


def _validate_retention_and_websocket(problems: Problems, options: dict[str, Any]) -> None:
    retention = options["job_retention"]
    if not is_token(retention.to_seconds()):
        problems.in_range("job_retention (s)", retention.to_seconds(), *JOB_RETENTION_RANGE)
    if not options["websocket"]:
        for option in ("websocket_authorizer", "websocket_api_props"):
            if options[option] is not None:
                problems.add(option, "given", "only applies with websocket=True; remove it")
    for option in _ROUTE_OPTIONS:
        if options_of(options["websocket_api_props"]).get(option) is not None:
            problems.add(
                f"websocket_api_props.{option}",
                "given",
                "the routes run the library's runtime; remove it",
            )


def validate_schema(
    problems: Problems, schema: apigw.JsonSchema | None, group_key: str | None
) -> apigw.JsonSchema:
    """The job schema: the one given, or any object (requiring the message group key)."""
    if group_key is not None and not _FIELD.match(group_key):
        problems.add("message_group_key", group_key, "give a top-level field name")
        return schema or ANY_JSON_OBJECT
    if schema is None:
        if group_key is None:
            return ANY_JSON_OBJECT
        return apigw.JsonSchema(
            schema=apigw.JsonSchemaVersion.DRAFT4,
            type=apigw.JsonSchemaType.OBJECT,
            required=[group_key],
            properties={
                group_key: apigw.JsonSchema(
                    type=apigw.JsonSchemaType.STRING, min_length=1, max_length=128
                )
            },
        )
    if schema.type not in (None, apigw.JsonSchemaType.OBJECT):
        problems.add("job_schema.type", schema.type, "a job is a JSON object: use OBJECT")
    if group_key is not None and group_key not in (schema.required or []):
        problems.add(
            "job_schema.required",
            list(schema.required or []),
            f"add the message_group_key {group_key!r}: every job needs a group",
        )
    return schema


def validate_table(
    scope: Construct,
    problems: Problems,
    props: dynamodb.TablePropsV2 | None,
    existing: dynamodb.ITable | None,
    websocket: bool,
) -> None:
    """The runtime's keys and TTL attribute, and the stream the notifier reads."""
    options = options_of(props)
    for option, name in (("partition_key", "pk"), ("sort_key", "sk")):
        key = options.get(option)
        if key is not None and (key.name, key.type) != (name, dynamodb.AttributeType.STRING):
            problems.add(
                f"table_props.{option}",
                f"{key.name} ({key.type.name})",
                f"the runtime needs a string key named {name!r}; use that or omit it",
            )
    ttl = options.get("time_to_live_attribute")
    if ttl is not None and ttl != TTL_ATTRIBUTE:
        problems.add(
            "table_props.time_to_live_attribute",
            ttl,
            f"subscriptions expire through {TTL_ATTRIBUTE!r}; use that or omit it",
        )
    if websocket:
        validate_stream(
            scope,
            problems,
            props=props,
            existing=existing,
            view_types=NEW_IMAGES,
            reader="the notifier (websocket=True) reads new images",
        )


def table_settings(props: dynamodb.TablePropsV2 | None, websocket: bool) -> dynamodb.TablePropsV2:
    """The jobs table's props: the runtime's keys and TTL, a stream for the notifier."""
    defaults: dict = {
        "partition_key": dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        "sort_key": dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        "time_to_live_attribute": TTL_ATTRIBUTE,
    }
    if websocket:
        defaults["dynamo_stream"] = dynamodb.StreamViewType.NEW_IMAGE
    return dynamodb.TablePropsV2(**merge(defaults, props))


def without_dead_letter_queue(props: sqs.QueueProps | None) -> sqs.QueueProps | None:
    """``props`` minus its dead-letter queue: the recorder queue stands in front of it."""
    settings = options_of(props)
    settings.pop("dead_letter_queue", None)
    return sqs.QueueProps(**settings) if settings else None
