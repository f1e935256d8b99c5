"""AsyncApi: storage-first REST API -> SQS -> worker Lambda -> DynamoDB, WebSocket callbacks."""

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.async_api.runtime_functions import (
    RUNTIME,
    Runtime,
    recorder,
    runtime_function,
    websocket,
    worker,
)
from serverless_patterns.async_api.validation import (
    Plan,
    table_settings,
    validate,
    without_dead_letter_queue,
)
from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core.apis import Route, rest_api
from serverless_patterns.core.functions import asset_code
from serverless_patterns.core.integrations import (
    SEND_MESSAGE_RESPONSES,
    add_route,
    explain_invalid_bodies,
    send_message_integration,
)
from serverless_patterns.core.queues import consume, dead_letter_queue, queue
from serverless_patterns.core.tables import TableAccess, grant, table
from serverless_patterns.core.validation import Problems

DEFAULT_PATH = "/jobs"
DEFAULT_BATCH_SIZE = 10
#: Workers running at once: a burst waits in the queue instead of hammering the database.
DEFAULT_MAX_CONCURRENCY = 5
#: How long a job record is kept after its last change (then DynamoDB's TTL deletes it).
DEFAULT_JOB_RETENTION = Duration.days(30)


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
        processor: str | None = None,
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
        plan = validate(
            self,
            Problems("AsyncApi"),
            dict(
                code=code,
                processor=processor,
                function_options=function_options,
                existing_function=existing_function,
                job_schema=job_schema,
                path=path,
                queue_props=queue_props,
                existing_queue=existing_queue,
                max_receive_count=max_receive_count,
                batch_size=batch_size,
                max_batching_window=max_batching_window,
                max_concurrency=max_concurrency,
                message_group_key=message_group_key,
                table_props=table_props,
                existing_table=existing_table,
                job_retention=job_retention,
                authorizer=authorizer,
                authorization_type=authorization_type,
                websocket=websocket,
                websocket_authorizer=websocket_authorizer,
                websocket_api_props=websocket_api_props,
                alarm_topic=alarm_topic,
            ),
        )
        # The jobs table: job records, WebSocket subscriptions.
        self.table: dynamodb.ITable = existing_table or table(
            self, "Table", props=table_settings(table_props, websocket)
        )
        runtime = Runtime(
            self,
            asset_code(str(RUNTIME / "python")),
            self.table,
            service_name or construct_id,
            str(int(job_retention.to_seconds())),
        )
        self._add_queues(plan, queue_props, existing_queue, runtime)
        self._add_worker(plan, code, function_options, existing_function, runtime)
        consume(
            self.function,
            self.queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
        )
        self._add_rest_api(
            plan,
            path,
            message_group_key,
            runtime,
            rest_api_props,
            authorizer,
            authorization_type,
        )
        self._add_alarms()
        self.websocket_api: apigwv2.WebSocketApi | None = None
        self.websocket_stage: apigwv2.WebSocketStage | None = None
        self.connections_function: lambda_.Function | None = None
        self.notifier_function: lambda_.Function | None = None
        self.notifier_dead_letter_queue: sqs.Queue | None = None
        if websocket:
            self._add_websocket(runtime, websocket_authorizer, websocket_api_props, path)
        alarm_defaults.notify(self.alarms, alarm_topic)

    # --- build steps --------------------------------------------------------------------------

    def _add_queues(
        self,
        plan: Plan,
        props: sqs.QueueProps | None,
        existing: sqs.IQueue | None,
        runtime: Runtime,
    ) -> None:
        """The job queue, the dead-letter recorder in front of the dead-letter queue."""
        fifo = bool(plan.queue.fifo)
        dead_letters = plan.queue.dead_letter_queue
        self.recorder_queue: sqs.Queue | None = None
        self.recorder_function: lambda_.Function | None = None
        if existing is not None:
            self.queue: sqs.IQueue = existing
        else:
            if dead_letters is None:
                dead_letters = dead_letter_queue(self, "DeadLetterQueue", fifo=fifo)
            self.recorder_queue, self.recorder_function = recorder(
                runtime, dead_letters, fifo=fifo, max_receive_count=plan.queue.max_receive_count
            )
            self.queue = queue(
                self,
                "Queue",
                dead_letter_queue=self.recorder_queue,
                props=without_dead_letter_queue(props),
                max_receive_count=plan.queue.max_receive_count,
                consumer_timeout=plan.worker_timeout,
            )
        self.dead_letter_queue: sqs.IQueue | None = dead_letters

    def _add_worker(
        self,
        plan: Plan,
        code: lambda_.Code | None,
        options: lambda_.FunctionOptions | None,
        existing: lambda_.IFunction | None,
        runtime: Runtime,
    ) -> None:
        self.runtime_layer: lambda_.LayerVersion | None = None
        self.function: lambda_.IFunction
        self.function, self.runtime_layer = worker(
            runtime,
            code=code,
            options=options,
            existing=existing,
            processor=plan.processor,
            environment={
                "TABLE_NAME": self.table.table_name,
                "MAX_RECEIVE_COUNT": str(plan.queue.max_receive_count),
                "QUEUE_FIFO": "true" if plan.queue.fifo else "false",
                "JOB_RETENTION_SECONDS": runtime.job_retention,
            },
        )
        grant(self.table, self.function, TableAccess.READ_WRITE)

    def _add_rest_api(
        self,
        plan: Plan,
        path: str,
        message_group_key: str | None,
        runtime: Runtime,
        props: apigw.RestApiProps | None,
        authorizer: apigw.IAuthorizer | None,
        authorization_type: apigw.AuthorizationType | None,
    ) -> None:
        """``POST <path>`` straight into the queue, ``GET <path>/{job_id}`` the status."""
        self.status_function: lambda_.Function = runtime_function(
            runtime, "StatusFunction", "async_jobs.status.handler"
        )
        grant(self.table, self.status_function, TableAccess.READ)
        self.api: apigw.RestApi = rest_api(
            self, "Api", props=props, authorizer=authorizer, authorization_type=authorization_type
        )
        validator = self.api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        add_route(
            self.api,
            Route("POST", path, request_schema=plan.job_schema),
            send_message_integration(
                self,
                "Enqueue",
                queue=self.queue,
                fifo=bool(plan.queue.fifo),
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

    def _add_alarms(self) -> None:
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

    def _add_websocket(
        self,
        runtime: Runtime,
        authorizer: apigwv2.IWebSocketRouteAuthorizer | None,
        props: apigwv2.WebSocketApiProps | None,
        path: str,
    ) -> None:
        built = websocket(runtime, authorizer=authorizer, props=props, path=path)
        self.websocket_api, self.websocket_stage = built.api, built.stage
        self.connections_function = built.connections_function
        self.notifier_function = built.notifier_function
        self.notifier_dead_letter_queue = built.notifier_dead_letter_queue
        self.alarms += built.alarms
