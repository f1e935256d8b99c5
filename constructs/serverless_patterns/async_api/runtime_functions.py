"""The functions of AsyncApi's runtime: job status, dead-letter recorder, WebSocket, notifier.

Each builder creates its resources in the AsyncApi (``scope``), under the ids it always had.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, Names
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as ws_integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.functions import asset_code, python_function
from serverless_patterns.core.props import options_of
from serverless_patterns.core.queues import (
    DEFAULT_MAX_RECEIVE_COUNT,
    DLQ_RETENTION,
    consume,
    dead_letter_queue,
    queue,
)
from serverless_patterns.core.tables import TableAccess, grant
from serverless_patterns.core.websockets import grant_post_to_connections, websocket_api

#: Lambda code the library ships: ``python/async_jobs`` (worker wrapper, status, WebSocket).
RUNTIME = Path(__file__).parents[1] / "runtime" / "async_api"
WORKER_HANDLER = "async_jobs.worker.handler"
#: The Python runtimes the runtime layer supports (your own worker may use any of them).
RUNTIME_PYTHONS = [
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
]
#: What the notifier needs of the table's stream (``dynamodb:ListStreams`` takes no stream
#: ARN: granted on one, as ``TableV2.grant_stream_read`` does, it has no effect).
STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
]


@dataclass(frozen=True)
class Runtime:
    """What every runtime function gets: the runtime's code, the jobs table, the service."""

    scope: Construct
    code: lambda_.Code
    table: dynamodb.ITable
    service_name: str
    job_retention: str


def runtime_function(runtime: Runtime, construct_id: str, handler: str) -> lambda_.Function:
    """A function of the runtime that API Gateway invokes (synchronously)."""
    function = python_function(
        runtime.scope,
        construct_id,
        code=runtime.code,
        handler=handler,
        service_name=runtime.service_name,
        environment={"TABLE_NAME": runtime.table.table_name},
    )
    justify(function, "invoked-synchronously")
    return function


def worker(
    runtime: Runtime,
    *,
    code: lambda_.Code | None,
    options: lambda_.FunctionOptions | None,
    existing: lambda_.IFunction | None,
    processor: str,
    environment: Mapping[str, str],
) -> tuple[lambda_.IFunction, lambda_.LayerVersion | None]:
    """The worker: your ``process(job)`` wrapped by the runtime, which comes as a layer.

    An ``existing`` function defined in the app gets the layer and ``environment`` too; an
    imported one neither.
    """
    layer = None
    if existing is None or isinstance(existing, lambda_.Function):
        layer = lambda_.LayerVersion(
            runtime.scope,
            "WorkerRuntime",
            code=asset_code(str(RUNTIME)),
            compatible_runtimes=RUNTIME_PYTHONS,
            description="serverless-patterns AsyncApi worker runtime (async_jobs)",
        )
    if existing is None:
        assert code is not None and layer is not None
        settings = options_of(options)
        settings["layers"] = [*settings.get("layers", []), layer]  # after the user's layers
        function = python_function(
            runtime.scope,
            "Function",
            code=code,
            handler=WORKER_HANDLER,
            service_name=runtime.service_name,
            environment={**environment, "PROCESSOR": processor},
            options=lambda_.FunctionOptions(**settings),
        )
        return function, layer
    if isinstance(existing, lambda_.Function) and layer is not None:
        existing.add_layers(layer)
        for name, value in environment.items():
            existing.add_environment(name, value)
    return existing, layer


def recorder(
    runtime: Runtime, dead_letters: sqs.IQueue, *, fifo: bool, max_receive_count: int
) -> tuple[sqs.Queue, lambda_.Function]:
    """The queue the job queue redrives into, and the function marking its jobs failed.

    A moved message keeps its enqueue timestamp (SQS developer guide, "Setting-up
    dead-letter queue retention"), so the queue keeps messages as long as the dead-letter
    queue; its receive limit sits above the job queue's, so that the recorder gets its own
    receives even where a moved message keeps its receive count too (moto does).
    """
    function = python_function(
        runtime.scope,
        "RecorderFunction",
        code=runtime.code,
        handler="async_jobs.recorder.handler",
        service_name=runtime.service_name,
        environment={
            "TABLE_NAME": runtime.table.table_name,
            "DEAD_LETTER_QUEUE_URL": dead_letters.queue_url,
            "QUEUE_FIFO": "true" if fifo else "false",
            "JOB_RETENTION_SECONDS": runtime.job_retention,
        },
    )
    # A message the recorder cannot keep ends in the dead-letter queue all the same.
    recorder_queue = queue(
        runtime.scope,
        "RecorderQueue",
        dead_letter_queue=dead_letters,
        props=sqs.QueueProps(retention_period=DLQ_RETENTION, fifo=fifo or None),
        max_receive_count=max_receive_count + DEFAULT_MAX_RECEIVE_COUNT,
        consumer_timeout=function.timeout,
    )
    grant(runtime.table, function, TableAccess.READ_WRITE)
    dead_letters.grant_send_messages(function)
    consume(function, recorder_queue)
    return recorder_queue, function


@dataclass(frozen=True)
class WebSocket:
    """What :func:`websocket` built."""

    api: apigwv2.WebSocketApi
    stage: apigwv2.WebSocketStage
    connections_function: lambda_.Function
    notifier_function: lambda_.Function
    notifier_dead_letter_queue: sqs.Queue
    alarms: list[cloudwatch.Alarm]


def websocket(
    runtime: Runtime,
    *,
    authorizer: apigwv2.IWebSocketRouteAuthorizer | None,
    props: apigwv2.WebSocketApiProps | None,
    path: str,
) -> WebSocket:
    """The WebSocket API (subscriptions), and the notifier fed by the table's stream."""
    scope, table = runtime.scope, runtime.table
    connections = runtime_function(runtime, "ConnectionsFunction", "async_jobs.connections.handler")
    grant(table, connections, TableAccess.READ_WRITE)
    connections.add_environment("JOBS_PATH", path)
    api, stage = websocket_api(
        scope,
        "WebSocketApi",
        connect=ws_integrations.WebSocketLambdaIntegration("ConnectIntegration", connections),
        disconnect=ws_integrations.WebSocketLambdaIntegration("DisconnectIntegration", connections),
        default=ws_integrations.WebSocketLambdaIntegration("MessageIntegration", connections),
        authorizer=authorizer,
        props=props,
    )
    notifier = runtime_function(runtime, "NotifierFunction", "async_jobs.notifier.handler")
    notifier.add_environment("CONNECTIONS_ENDPOINT", stage.callback_url)
    notifier.add_environment("JOBS_PATH", path)
    grant(table, notifier, TableAccess.READ_WRITE)
    grant_post_to_connections(stage, notifier)
    undelivered = dead_letter_queue(scope, "NotifierDeadLetterQueue")
    # The mapping DynamoEventSource would make (same id), without its ListStreams grant.
    notifier.add_event_source_mapping(
        f"DynamoDBEventSource:{Names.node_unique_id(table.node)}",
        event_source_arn=table.table_stream_arn,
        starting_position=lambda_.StartingPosition.LATEST,
        batch_size=10,
        bisect_batch_on_error=True,
        retry_attempts=3,
        # API Gateway closes connections after 2 hours: older news has no listener.
        max_record_age=Duration.hours(2),
        report_batch_item_failures=True,
        on_failure=sources.SqsDlq(undelivered),
        filters=[
            lambda_.FilterCriteria.filter(
                {
                    "dynamodb": {
                        "NewImage": {
                            "sk": {"S": lambda_.FilterRule.is_equal("job")},
                            "status": {"S": lambda_.FilterRule.or_("succeeded", "failed")},
                        }
                    }
                }
            )
        ],
    )
    notifier.add_to_role_policy(
        iam.PolicyStatement(actions=STREAM_READ_ACTIONS, resources=[table.table_stream_arn or ""])
    )
    alarms = [
        *alarm_defaults.function_alarms(scope, "ConnectionsFunction", connections),
        *alarm_defaults.function_alarms(scope, "NotifierFunction", notifier),
        alarm_defaults.dead_letter_queue_alarm(
            scope, "NotifierDeadLetterQueueMessages", undelivered
        ),
    ]
    return WebSocket(api, stage, connections, notifier, undelivered, alarms)
