"""AsyncApi: storage-first REST API -> SQS -> worker Lambda -> DynamoDB, WebSocket callbacks."""

import re
from pathlib import Path

from aws_cdk import Annotations, Duration, Names
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as ws_integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core.apis import (
    Route,
    rest_api,
    validate_authorization,
    validate_routes,
)
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.functions import DEFAULT_TIMEOUT, asset_code, python_function
from serverless_patterns.core.integrations import (
    SEND_MESSAGE_RESPONSES,
    add_route,
    explain_invalid_bodies,
    send_message_integration,
)
from serverless_patterns.core.props import merge, options_of
from serverless_patterns.core.queues import (
    DEFAULT_MAX_RECEIVE_COUNT,
    DLQ_RETENTION,
    consume,
    dead_letter_queue,
    queue,
    validate_lambda_max_receive_count,
    validate_visibility_timeout,
)
from serverless_patterns.core.tables import TableAccess, grant, table
from serverless_patterns.core.topics import validate_alarm_topic
from serverless_patterns.core.validation import Problems, is_token
from serverless_patterns.core.websockets import grant_post_to_connections, websocket_api

#: Lambda code the library ships: ``python/async_jobs`` (worker wrapper, status, WebSocket).
RUNTIME = Path(__file__).parent / "runtime" / "async_api"
WORKER_HANDLER = "async_jobs.worker.handler"
#: The Python runtimes the runtime layer supports (your own worker may use any of them).
RUNTIME_PYTHONS = [
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
]
DEFAULT_PATH = "/jobs"
DEFAULT_BATCH_SIZE = 10
#: Workers running at once: a burst waits in the queue instead of hammering the database.
DEFAULT_MAX_CONCURRENCY = 5
TTL_ATTRIBUTE = "expires_at"
#: How long a job record is kept after its last change (then DynamoDB's TTL deletes it).
DEFAULT_JOB_RETENTION = Duration.days(30)
#: What the notifier needs of the table's stream (``dynamodb:ListStreams`` takes no stream
#: ARN: granted on one, as ``TableV2.grant_stream_read`` does, it has no effect).
STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
]
NEW_IMAGES = (dynamodb.StreamViewType.NEW_IMAGE, dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
#: Any JSON object: the default job schema.
ANY_JSON_OBJECT = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT
)
_PROCESSOR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_ROUTE_OPTIONS = ("connect_route_options", "disconnect_route_options", "default_route_options")


class AsyncApi(Construct):
    """Accept jobs over REST at once, run them behind a queue, tell the caller the outcome.

    ``POST <path>`` validates the JSON body against ``job_schema`` (400 with the reason if it
    does not match) and API Gateway itself sends it to an SQS queue — no function in the front
    path — answering ``202 {"job_id": ..., "status": "pending"}``. The job id is API
    Gateway's request id. A worker function consumes the queue in batches with a capped
    concurrency; your code is only ``process(job: dict) -> dict`` (optionally taking a
    ``job_id`` keyword), which the library's runtime wraps: it records each job in the jobs
    table (``running``, then ``succeeded`` with the result, ``pending`` with the error while
    retries remain, ``failed`` on the last receive), reports failed messages to SQS as batch
    item failures, and skips duplicate deliveries of a job that already succeeded. A
    processor that cannot be imported fails each job with that reason.

    After ``max_receive_count`` receives SQS moves a message on, whatever the worker did (it
    may have timed out or run out of memory on its last receive): into the recorder queue,
    whose library function marks the job ``failed`` (never over ``succeeded``) and forwards
    the message unchanged to the dead-letter queue (kept 14 days, alarmed) for redrive. So
    every job that leaves the queue ends ``succeeded`` or ``failed``. With ``existing_queue``
    there is no recorder (its redrive policy is yours): a job whose worker dies on the last
    receive stays ``running`` until its record expires. Job records expire
    ``job_retention`` after their last change.

    A body SQS refuses as too large (over the queue's maximum message size, 1,048,576 bytes
    by default, counting the ``job_id`` attribute) gets ``413``; one it refuses as invalid
    (characters outside SQS's allowed set) gets ``400``; any other refusal ``500``.

    ``GET <path>/{job_id}`` answers the job's status and result (404 while unknown). A
    WebSocket API (``wss://.../prod?job_id=<id>``, or a message ``{"job_id": "<id>"}``)
    subscribes a connection to jobs; the reply to a message (not to ``$connect``, whose body
    API Gateway never delivers) lists the current state of each followed job. When one
    succeeds or fails for good, its subscribers receive ``{"job_id", "status", "result" |
    "error", ...}``; a result that would make the message exceed API Gateway's 128 KB
    WebSocket quota is left out (``"result_omitted": true``, ``"status_path"``). Gone
    connections are forgotten, not retried.

    Attributes: ``api``, ``queue``, ``dead_letter_queue`` (``None`` for an imported queue),
    ``recorder_queue`` and ``recorder_function`` (``None`` with ``existing_queue``),
    ``table``, ``function``, ``status_function``, ``runtime_layer``, ``alarms`` and, with
    ``websocket``, ``websocket_api``, ``websocket_stage``, ``connections_function``,
    ``notifier_function``, ``notifier_dead_letter_queue``.

    Smallest use::

        AsyncApi(self, "Thumbnails", code=lambda_.Code.from_asset("handlers/thumbnails"))

    :param code: the worker's code, holding ``processor`` (give this or ``existing_function``).
    :param processor: ``module.function`` of your ``process(job)``. Default: ``"app.process"``.
    :param function_options: overrides for the worker's defaults (Python, arm64, 256 MB, 10 s,
        X-Ray, JSON logs kept one month, Powertools layer). Its timeout sets the queue's
        visibility timeout (6 x). Default: none.
    :param existing_function: your own worker instead. It is subscribed to the queue and
        granted the table; a ``lambda_.Function`` also gets the runtime layer and the
        ``TABLE_NAME``/``MAX_RECEIVE_COUNT``/``QUEUE_FIFO`` environment — set its handler to
        ``async_jobs.worker.handler`` with ``PROCESSOR``, or call ``async_jobs.worker.handle``.
    :param job_schema: the JSON schema a job must match. Default: any JSON object.
    :param path: where jobs are posted. Default: ``"/jobs"``.
    :param queue_props: overrides for the queue's defaults (SQS-managed encryption, TLS only,
        a new dead-letter queue, visibility timeout 6 x the worker's timeout). A FIFO queue
        (``fifo=True``) gets a FIFO dead-letter queue. Default: none.
    :param existing_queue: your own queue; it must have a dead-letter queue (redrive policy).
        No recorder is put in front of it (see above).
    :param max_receive_count: receives before a message moves to the dead-letter queue, and
        the receive on which the runtime marks a job failed. Default: 5, or the one of the
        dead-letter queue you give in ``queue_props``/``existing_queue``.
    :param batch_size: messages per worker invocation, 1-10 (up to 10,000 with a batching
        window). Default: 10.
    :param max_batching_window: how long to gather a batch. Default: none.
    :param max_concurrency: the most worker invocations at once, 2-1,000. Default: 5.
    :param message_group_key: FIFO queues only: the top-level body field whose value orders
        jobs (``job_schema`` must require it). Default: every job is its own group.
    :param table_props: overrides for the jobs table's defaults (string keys ``pk``/``sk``,
        a ``NEW_IMAGE`` stream, TTL on ``expires_at``, on-demand, point-in-time recovery,
        AWS-managed encryption, retained). Keys and TTL attribute must stay as they are.
    :param existing_table: your own jobs table: string keys ``pk`` and ``sk``, TTL on
        ``expires_at`` and, with ``websocket``, a stream with new images.
    :param job_retention: how long a job record is kept after its last change (DynamoDB's
        TTL deletes it, usually within a few days after; then ``GET`` answers 404). At least
        one hour; an imported ``existing_function`` sets ``JOB_RETENTION_SECONDS`` itself.
        Default: 30 days.
    :param rest_api_props: overrides for the REST API's defaults (see ``SyncApi``).
    :param authorizer: a Cognito or Lambda authorizer for the REST methods. Default: none,
        and then every method requires IAM (SigV4) authorization.
    :param authorization_type: ``IAM`` (default without authorizer), ``COGNITO``/``CUSTOM``
        (with ``authorizer``) or ``NONE`` (an open API: allowed, with a synth warning).
    :param websocket: create the WebSocket API, its functions and the notifier. Default: True.
    :param websocket_authorizer: who may connect. Default: IAM (SigV4-signed URL);
        ``WebSocketNoneAuthorizer()`` opens it (with a synth warning).
    :param websocket_api_props: overrides for the WebSocket API (not its routes).
    :param alarm_topic: an SNS topic that receives every alarm and its recovery.
    :param service_name: names the service in logs, traces and metrics. Default: the id.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code | None = None,
        processor: str = "app.process",
        function_options: lambda_.FunctionOptions | None = None,
        existing_function: lambda_.IFunction | None = None,
        job_schema: apigw.JsonSchema | None = None,
        path: str = DEFAULT_PATH,
        queue_props: sqs.QueueProps | None = None,
        existing_queue: sqs.IQueue | None = None,
        max_receive_count: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        message_group_key: str | None = None,
        table_props: dynamodb.TablePropsV2 | None = None,
        existing_table: dynamodb.ITable | None = None,
        job_retention: Duration = DEFAULT_JOB_RETENTION,
        rest_api_props: apigw.RestApiProps | None = None,
        authorizer: apigw.IAuthorizer | None = None,
        authorization_type: apigw.AuthorizationType | None = None,
        websocket: bool = True,
        websocket_authorizer: apigwv2.IWebSocketRouteAuthorizer | None = None,
        websocket_api_props: apigwv2.WebSocketApiProps | None = None,
        alarm_topic: sns.ITopic | None = None,
        service_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        service_name = service_name or construct_id
        problems = Problems("AsyncApi")
        if (code is None) == (existing_function is None):
            problems.add("code", code, "give exactly one of code= or existing_function=")
        problems.exclusive(existing_function=existing_function, function_options=function_options)
        problems.exclusive(existing_queue=existing_queue, queue_props=queue_props)
        problems.exclusive(existing_table=existing_table, table_props=table_props)
        if not _PROCESSOR.match(processor):
            problems.add("processor", processor, "give module.function, e.g. 'app.process'")
        job_schema = self._validate_schema(problems, job_schema, message_group_key)
        validate_routes(problems, [Route("POST", path), Route("GET", f"{path}/{{job_id}}")])
        validate_authorization(problems, authorizer, authorization_type)
        validate_alarm_topic(problems, alarm_topic)
        worker_timeout = self._worker_timeout(function_options, existing_function)
        fifo, dead_letters, max_receive_count = self._validate_queue(
            problems, queue_props, existing_queue, max_receive_count, worker_timeout
        )
        self._validate_batching(
            problems, batch_size, max_batching_window, max_concurrency, function_options, fifo
        )
        if message_group_key is not None and fifo is False:
            problems.add(
                "message_group_key", message_group_key, "needs a FIFO queue (queue_props fifo)"
            )
        self._validate_table(problems, table_props, existing_table, websocket)
        if not is_token(job_retention.to_seconds()):
            problems.in_range(
                "job_retention (s)", job_retention.to_seconds(), 3600, 10 * 365 * 86400
            )
        if not websocket:
            for option, value in {
                "websocket_authorizer": websocket_authorizer,
                "websocket_api_props": websocket_api_props,
            }.items():
                if value is not None:
                    problems.add(option, "given", "only applies with websocket=True; remove it")
        for option in _ROUTE_OPTIONS:
            if options_of(websocket_api_props).get(option) is not None:
                problems.add(
                    f"websocket_api_props.{option}",
                    "given",
                    "the routes run the library's runtime; remove it",
                )
        problems.raise_if_any()

        # The jobs table: job records, WebSocket subscriptions.
        self.table: dynamodb.ITable = existing_table or table(
            self, "Table", props=self._table_props(table_props, websocket)
        )

        # The queue, the dead-letter recorder and the dead-letter queue.
        runtime_code = asset_code(str(RUNTIME / "python"))
        retention = str(int(job_retention.to_seconds()))
        self.recorder_queue: sqs.Queue | None = None
        self.recorder_function: lambda_.Function | None = None
        if existing_queue is not None:
            self.queue: sqs.IQueue = existing_queue
        else:
            if dead_letters is None:
                dead_letters = dead_letter_queue(self, "DeadLetterQueue", fifo=bool(fifo))
            self.recorder_queue, self.recorder_function = self._add_recorder(
                runtime_code, service_name, dead_letters, bool(fifo), retention, max_receive_count
            )
            self.queue = queue(
                self,
                "Queue",
                dead_letter_queue=self.recorder_queue,
                props=_without_dead_letter_queue(queue_props),
                max_receive_count=max_receive_count,
                consumer_timeout=worker_timeout,
            )
        self.dead_letter_queue: sqs.IQueue | None = dead_letters

        # The worker: your process(job) wrapped by the runtime.
        environment = {
            "TABLE_NAME": self.table.table_name,
            "MAX_RECEIVE_COUNT": str(max_receive_count),
            "QUEUE_FIFO": "true" if fifo else "false",
            "JOB_RETENTION_SECONDS": retention,
        }
        self.runtime_layer: lambda_.LayerVersion | None = None
        if existing_function is None or isinstance(existing_function, lambda_.Function):
            self.runtime_layer = lambda_.LayerVersion(
                self,
                "WorkerRuntime",
                code=asset_code(str(RUNTIME)),
                compatible_runtimes=RUNTIME_PYTHONS,
                description="serverless-patterns AsyncApi worker runtime (async_jobs)",
            )
        if existing_function is None:
            assert code is not None and self.runtime_layer is not None
            self.function: lambda_.IFunction = python_function(
                self,
                "Function",
                code=code,
                handler=WORKER_HANDLER,
                service_name=service_name,
                environment={**environment, "PROCESSOR": processor},
                options=_with_layer(function_options, self.runtime_layer),
            )
        else:
            self.function = existing_function
            if isinstance(existing_function, lambda_.Function) and self.runtime_layer:
                existing_function.add_layers(self.runtime_layer)
                for name, value in environment.items():
                    existing_function.add_environment(name, value)
        grant(self.table, self.function, TableAccess.READ_WRITE)
        consume(
            self.function,
            self.queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
        )

        # The REST API: POST straight into the queue, GET the status.
        self.status_function: lambda_.Function = self._runtime_function(
            "StatusFunction",
            runtime_code,
            "async_jobs.status.handler",
            service_name,
        )
        grant(self.table, self.status_function, TableAccess.READ)
        self.api: apigw.RestApi = rest_api(
            self,
            "Api",
            props=rest_api_props,
            authorizer=authorizer,
            authorization_type=authorization_type,
        )
        validator = self.api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        add_route(
            self.api,
            Route("POST", path, request_schema=job_schema),
            send_message_integration(
                self,
                "Enqueue",
                queue=self.queue,
                fifo=bool(fifo),
                message_group_key=message_group_key,
            ),
            validator=validator,
            method_responses=SEND_MESSAGE_RESPONSES,
        )
        add_route(
            self.api,
            Route("GET", f"{path}/{{job_id}}"),
            apigw.LambdaIntegration(self.status_function, allow_test_invoke=False),
            validator=validator,
            request_parameters={"method.request.path.job_id": True},
        )
        explain_invalid_bodies(self.api)

        self.alarms: list[cloudwatch.Alarm] = []
        if self.dead_letter_queue is not None:
            self.alarms.append(
                alarm_defaults.dead_letter_queue_alarm(
                    self, "DeadLetterQueueMessages", self.dead_letter_queue
                )
            )
        self.alarms += [
            *alarm_defaults.function_alarms(self, "Function", self.function),
            *alarm_defaults.function_alarms(self, "StatusFunction", self.status_function),
            *alarm_defaults.rest_api_alarms(self, "Api", self.api),
        ]
        if self.recorder_function is not None:
            self.alarms += alarm_defaults.function_alarms(
                self, "RecorderFunction", self.recorder_function
            )

        # The WebSocket API: subscriptions, and the notifier fed by the table's stream.
        self.websocket_api: apigwv2.WebSocketApi | None = None
        self.websocket_stage: apigwv2.WebSocketStage | None = None
        self.connections_function: lambda_.Function | None = None
        self.notifier_function: lambda_.Function | None = None
        self.notifier_dead_letter_queue: sqs.Queue | None = None
        if websocket:
            self._add_websocket(
                runtime_code, service_name, websocket_authorizer, websocket_api_props, path
            )
        alarm_defaults.notify(self.alarms, alarm_topic)

    # --- building blocks ------------------------------------------------------------------

    def _runtime_function(
        self, construct_id: str, code: lambda_.Code, handler: str, service_name: str
    ) -> lambda_.Function:
        function = python_function(
            self,
            construct_id,
            code=code,
            handler=handler,
            service_name=service_name,
            environment={"TABLE_NAME": self.table.table_name},
        )
        justify(function, "invoked-synchronously")
        return function

    def _add_recorder(
        self,
        code: lambda_.Code,
        service_name: str,
        dead_letters: sqs.IQueue,
        fifo: bool,
        retention: str,
        max_receive_count: int,
    ) -> tuple[sqs.Queue, lambda_.Function]:
        """The queue the job queue redrives into, and the function marking its jobs failed.

        A moved message keeps its enqueue timestamp (SQS developer guide, "Setting-up
        dead-letter queue retention"), so the queue keeps messages as long as the dead-letter
        queue; its receive limit sits above the job queue's, so that the recorder gets its own
        receives even where a moved message keeps its receive count too (moto does).
        """
        recorder = python_function(
            self,
            "RecorderFunction",
            code=code,
            handler="async_jobs.recorder.handler",
            service_name=service_name,
            environment={
                "TABLE_NAME": self.table.table_name,
                "DEAD_LETTER_QUEUE_URL": dead_letters.queue_url,
                "QUEUE_FIFO": "true" if fifo else "false",
                "JOB_RETENTION_SECONDS": retention,
            },
        )
        # A message the recorder cannot keep ends in the dead-letter queue all the same.
        recorder_queue = queue(
            self,
            "RecorderQueue",
            dead_letter_queue=dead_letters,
            props=sqs.QueueProps(retention_period=DLQ_RETENTION, fifo=fifo or None),
            max_receive_count=max_receive_count + DEFAULT_MAX_RECEIVE_COUNT,
            consumer_timeout=recorder.timeout,
        )
        grant(self.table, recorder, TableAccess.READ_WRITE)
        dead_letters.grant_send_messages(recorder)
        consume(recorder, recorder_queue)
        return recorder_queue, recorder

    def _add_websocket(
        self,
        code: lambda_.Code,
        service_name: str,
        authorizer: apigwv2.IWebSocketRouteAuthorizer | None,
        props: apigwv2.WebSocketApiProps | None,
        path: str,
    ) -> None:
        connections = self._runtime_function(
            "ConnectionsFunction",
            code,
            "async_jobs.connections.handler",
            service_name,
        )
        grant(self.table, connections, TableAccess.READ_WRITE)
        connections.add_environment("JOBS_PATH", path)
        api, stage = websocket_api(
            self,
            "WebSocketApi",
            connect=ws_integrations.WebSocketLambdaIntegration("ConnectIntegration", connections),
            disconnect=ws_integrations.WebSocketLambdaIntegration(
                "DisconnectIntegration", connections
            ),
            default=ws_integrations.WebSocketLambdaIntegration("MessageIntegration", connections),
            authorizer=authorizer,
            props=props,
        )
        notifier = self._runtime_function(
            "NotifierFunction",
            code,
            "async_jobs.notifier.handler",
            service_name,
        )
        notifier.add_environment("CONNECTIONS_ENDPOINT", stage.callback_url)
        notifier.add_environment("JOBS_PATH", path)
        grant(self.table, notifier, TableAccess.READ_WRITE)
        grant_post_to_connections(stage, notifier)
        undelivered = dead_letter_queue(self, "NotifierDeadLetterQueue")
        # The mapping DynamoEventSource would make (same id), without its ListStreams grant.
        notifier.add_event_source_mapping(
            f"DynamoDBEventSource:{Names.node_unique_id(self.table.node)}",
            event_source_arn=self.table.table_stream_arn,
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
            iam.PolicyStatement(
                actions=STREAM_READ_ACTIONS, resources=[self.table.table_stream_arn or ""]
            )
        )
        self.websocket_api, self.websocket_stage = api, stage
        self.connections_function, self.notifier_function = connections, notifier
        self.notifier_dead_letter_queue = undelivered
        self.alarms += [
            *alarm_defaults.function_alarms(self, "ConnectionsFunction", connections),
            *alarm_defaults.function_alarms(self, "NotifierFunction", notifier),
            alarm_defaults.dead_letter_queue_alarm(
                self, "NotifierDeadLetterQueueMessages", undelivered
            ),
        ]

    @staticmethod
    def _table_props(props: dynamodb.TablePropsV2 | None, websocket: bool) -> dynamodb.TablePropsV2:
        defaults: dict = {
            "partition_key": dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            "sort_key": dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            "time_to_live_attribute": TTL_ATTRIBUTE,
        }
        if websocket:
            defaults["dynamo_stream"] = dynamodb.StreamViewType.NEW_IMAGE
        return dynamodb.TablePropsV2(**merge(defaults, props))

    # --- validation -----------------------------------------------------------------------

    @staticmethod
    def _validate_schema(
        problems: Problems, schema: apigw.JsonSchema | None, group_key: str | None
    ) -> apigw.JsonSchema:
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

    @staticmethod
    def _worker_timeout(
        options: lambda_.FunctionOptions | None, existing: lambda_.IFunction | None
    ) -> Duration | None:
        if existing is not None:
            return existing.timeout if isinstance(existing, lambda_.Function) else None
        return options_of(options).get("timeout") or DEFAULT_TIMEOUT

    def _validate_queue(
        self,
        problems: Problems,
        props: sqs.QueueProps | None,
        existing: sqs.IQueue | None,
        max_receive_count: int | None,
        worker_timeout: Duration | None,
    ) -> tuple[bool | None, sqs.IQueue | None, int]:
        """Answer (FIFO or not/unknown, the dead-letter queue if known, max receive count)."""
        validate_lambda_max_receive_count(problems, "max_receive_count", max_receive_count)
        options = options_of(props)
        wiring: sqs.DeadLetterQueue | None = options.get("dead_letter_queue")
        fifo: bool | None = bool(options.get("fifo"))
        if existing is not None:
            fifo = None if is_token(existing.fifo) else existing.fifo
            if isinstance(existing, sqs.Queue):
                wiring = existing.dead_letter_queue
                if wiring is None:
                    problems.add(
                        "existing_queue",
                        existing.node.path,
                        "has no dead-letter queue: give it dead_letter_queue=sqs.DeadLetterQueue"
                        "(...) so failed jobs are kept for redrive",
                    )
            else:
                Annotations.of(self).add_warning_v2(
                    "serverless-patterns:imported-queue",
                    "existing_queue is imported: make sure its redrive policy's maxReceiveCount "
                    "equals max_receive_count, or jobs are marked failed too early or never.",
                )
        dead_letters = wiring.queue if wiring is not None else None
        if wiring is not None:
            wired = wiring.max_receive_count
            if max_receive_count is not None and max_receive_count != wired:
                problems.add(
                    "max_receive_count",
                    max_receive_count,
                    f"the queue's dead-letter queue says {wired}: omit it or make them equal",
                )
            validate_lambda_max_receive_count(
                problems,
                f"{'existing_queue' if existing is not None else 'queue_props'}"
                ".dead_letter_queue.max_receive_count",
                wired,
            )
            max_receive_count = wired
            if fifo is not None and not is_token(dead_letters.fifo) and dead_letters.fifo != fifo:
                problems.add(
                    "dead_letter_queue",
                    "FIFO" if dead_letters.fifo else "standard",
                    f"a {'FIFO' if fifo else 'standard'} queue needs a dead-letter queue of the "
                    "same type",
                )
        if worker_timeout is not None and existing is None:
            validate_visibility_timeout(
                problems,
                "queue_props.visibility_timeout",
                options.get("visibility_timeout"),
                worker_timeout,
            )
        return fifo, dead_letters, max_receive_count or DEFAULT_MAX_RECEIVE_COUNT

    @staticmethod
    def _validate_batching(
        problems: Problems,
        batch_size: int,
        window: Duration | None,
        max_concurrency: int,
        options: lambda_.FunctionOptions | None,
        fifo: bool | None,
    ) -> None:
        largest = 10 if window is None or fifo else 10_000
        if batch_size is not None and not is_token(batch_size) and not 1 <= batch_size <= largest:
            fix = f"must be between 1 and {largest}"
            if largest == 10 and not fifo:
                fix += " (up to 10000 with a max_batching_window)"
            problems.add("batch_size", batch_size, fix)
        if window is not None and not is_token(window.to_seconds()):
            problems.in_range("max_batching_window (s)", window.to_seconds(), 0, 300)
        problems.in_range("max_concurrency", max_concurrency, 2, 1000)
        reserved = options_of(options).get("reserved_concurrent_executions")
        if (
            reserved is not None
            and not is_token(reserved)
            and not is_token(max_concurrency)
            and reserved < max_concurrency
        ):
            problems.add(
                "function_options.reserved_concurrent_executions",
                reserved,
                f"is below max_concurrency ({max_concurrency}): the queue would throttle the "
                "worker; lower max_concurrency or raise the reservation",
            )

    @staticmethod
    def _validate_table(
        problems: Problems,
        props: dynamodb.TablePropsV2 | None,
        existing: dynamodb.ITable | None,
        websocket: bool,
    ) -> None:
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
        stream = options.get("dynamo_stream")
        if websocket and stream is not None and stream not in NEW_IMAGES:
            problems.add(
                "table_props.dynamo_stream",
                stream.name,
                "the notifier reads new images: use NEW_IMAGE or NEW_AND_OLD_IMAGES",
            )
        if websocket and existing is not None and existing.table_stream_arn is None:
            problems.add(
                "existing_table",
                existing.node.path,
                "has no stream: the notifier needs one with new images (import it with "
                "table_stream_arn=..., or pass websocket=False)",
            )


def _with_layer(
    options: lambda_.FunctionOptions | None, layer: lambda_.ILayerVersion
) -> lambda_.FunctionOptions:
    """``options`` plus the runtime layer (after any layers the user gave)."""
    settings = options_of(options)
    settings["layers"] = [*settings.get("layers", []), layer]
    return lambda_.FunctionOptions(**settings)


def _without_dead_letter_queue(props: sqs.QueueProps | None) -> sqs.QueueProps | None:
    """``props`` minus its dead-letter queue: the recorder queue stands in front of it."""
    settings = options_of(props)
    settings.pop("dead_letter_queue", None)
    return sqs.QueueProps(**settings) if settings else None
