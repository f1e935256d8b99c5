"""REST API service integrations: API Gateway writes to a service itself, no Lambda between."""

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from serverless_patterns.core.apis import JSON, Route, request_models

#: The SQS message attribute that carries the job id (API Gateway's request id).
JOB_ID_ATTRIBUTE = "job_id"
#: SQS's largest message (SendMessage ``MessageBody``; the default ``MaximumMessageSize``):
#: 1 MiB, counting the body and the message attributes' names, types and values.
SQS_MAX_MESSAGE_BYTES = 1_048_576

#: SQS refusals (query API errors, HTTP 400) and what the caller gets: a body over the
#: queue's maximum size can never be queued (413); characters outside SQS's allowed set, or
#: a message group value SQS does not accept, are the request's fault too (400). Anything
#: else (throttling, KMS, permissions, 5xx) may pass: 500, try again.
_SEND_MESSAGE_ERROR = "\n".join(
    [
        "#set($sqs = $input.body)",
        '#if($sqs.contains("InvalidParameterValue") && $sqs.contains("Message must be shorter"))',
        "#set($context.responseOverride.status = 413)",
        '{"message": "the job is too large for the queue (at most '
        f"{SQS_MAX_MESSAGE_BYTES} bytes): keep large inputs elsewhere, e.g. S3, and send a "
        'reference"}',
        '#elseif($sqs.contains("InvalidMessageContents"))',
        "#set($context.responseOverride.status = 400)",
        '{"message": "the job contains characters a queue cannot hold (e.g. U+FFFE)"}',
        '#elseif($sqs.contains("InvalidParameterValue"))',
        "#set($context.responseOverride.status = 400)",
        '{"message": "the queue refused the job as invalid (e.g. its message group value)"}',
        "#else",
        '{"message": "the job could not be queued; try again later"}',
        "#end",
    ]
)


def _send_message_template(fifo: bool, message_group_key: str | None) -> str:
    """A SendMessage call (SQS query protocol) carrying the request body unchanged."""
    parts = [
        "Action=SendMessage",
        "MessageBody=$util.urlEncode($input.body)",
        f"MessageAttribute.1.Name={JOB_ID_ATTRIBUTE}",
        "MessageAttribute.1.Value.DataType=String",
        "MessageAttribute.1.Value.StringValue=$util.urlEncode($context.requestId)",
    ]
    if fifo:
        group = (
            f"$util.urlEncode($input.path('$.{message_group_key}'))"
            if message_group_key
            else "$util.urlEncode($context.requestId)"
        )
        parts += [
            f"MessageGroupId={group}",
            "MessageDeduplicationId=$util.urlEncode($context.requestId)",
        ]
    return "&".join(parts)


def send_message_integration(
    scope: Construct,
    construct_id: str,
    *,
    queue: sqs.IQueue,
    fifo: bool = False,
    message_group_key: str | None = None,
) -> apigw.AwsIntegration:
    """API Gateway sends the request body to ``queue`` and answers 202 with the job id.

    The job id is the API Gateway request id, sent as the ``job_id`` message attribute. A
    FIFO queue gets the request id as deduplication id and, as message group, the body's
    ``message_group_key`` field (default: the request id — no ordering between jobs). Only
    ``application/json`` bodies are accepted (others get 415). API Gateway assumes a role that
    may only send to ``queue``.

    The body travels URL-encoded in the SendMessage request (up to 3 x its size on the wire),
    but SQS counts the decoded message: the body plus the ``job_id`` attribute must fit the
    queue's ``MaximumMessageSize`` (at most and by default :data:`SQS_MAX_MESSAGE_BYTES`,
    "Amazon SQS message quotas"). SQS refuses a larger one with ``InvalidParameterValue``
    (HTTP 400): the caller gets 413, since it can never succeed; a body SQS refuses as invalid
    gets 400; any other refusal 500 ("try again"), and no job.
    """
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description="API Gateway sends accepted jobs to the queue",
    )
    queue.grant_send_messages(role)
    return apigw.AwsIntegration(
        service="sqs",
        integration_http_method="POST",
        path=f"{queue.env.account}/{queue.queue_name}",
        options=apigw.IntegrationOptions(
            credentials_role=role,
            passthrough_behavior=apigw.PassthroughBehavior.NEVER,
            request_parameters={
                "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
            },
            request_templates={JSON: _send_message_template(fifo, message_group_key)},
            integration_responses=[
                apigw.IntegrationResponse(
                    status_code="202",
                    response_templates={
                        JSON: '{"job_id": "$context.requestId", "status": "pending"}'
                    },
                ),
                apigw.IntegrationResponse(
                    status_code="500",
                    selection_pattern=r"[45]\d{2}",
                    response_templates={JSON: _SEND_MESSAGE_ERROR},
                ),
            ],
        ),
    )


#: The method responses :func:`send_message_integration` answers with.
SEND_MESSAGE_RESPONSES = [
    apigw.MethodResponse(status_code=code) for code in ("202", "400", "413", "500")
]


def add_route(
    api: apigw.RestApi,
    route: Route,
    integration: apigw.Integration,
    *,
    validator: apigw.IRequestValidator,
    method_responses: list[apigw.MethodResponse] | None = None,
    request_parameters: dict[str, bool] | None = None,
) -> apigw.Method:
    """One route of ``api`` through ``integration``, validated by ``validator``."""
    models = request_models(api, route)  # before the resource: the deployment hash's order
    return api.root.resource_for_path(route.path).add_method(
        route.method,
        integration,
        request_validator=validator,
        request_models=models,
        method_responses=method_responses,
        request_parameters=request_parameters,
    )


def explain_invalid_bodies(api: apigw.RestApi) -> apigw.GatewayResponse:
    """A body that fails its JSON schema gets a 400 saying what is wrong, not just 'invalid'."""
    return api.add_gateway_response(
        "BadRequestBody",
        type=apigw.ResponseType.BAD_REQUEST_BODY,
        templates={
            JSON: '{"message": "Invalid request body: $context.error.validationErrorString"}'
        },
    )


#: StartSyncExecution's answer as the caller gets it: CDK's responses, with every value that
#: goes into the JSON body written by ``$input.json`` (JSON text) instead of
#: ``"$input.path(...)"`` (raw text in quotes): a Lambda task's ``cause`` is itself JSON, and
#: in quotes it would make the 500 body invalid JSON.
SYNC_EXECUTION_RESPONSES = [
    apigw.IntegrationResponse(
        status_code="200",
        response_templates={
            JSON: "#if($input.path('$.status').toString().equals(\"FAILED\"))\n"
            "#set($context.responseOverride.status = 500)\n"
            "{\"error\": $input.json('$.error'), \"cause\": $input.json('$.cause')}\n"
            "#else\n"
            "$input.path('$.output')\n"
            "#end"
        },
    ),
    apigw.IntegrationResponse(
        status_code="400",
        selection_pattern=r"4\d{2}",
        response_templates={JSON: '{"error": "Bad request!"}'},
    ),
    apigw.IntegrationResponse(
        status_code="500",
        selection_pattern=r"5\d{2}",
        response_templates={JSON: '{"error": "The workflow service failed: try again later."}'},
    ),
]


def start_execution_integration(
    machine: sfn.StateMachine, *, role: iam.IRole, express: bool
) -> tuple[apigw.Integration, list[apigw.MethodResponse]]:
    """An API Gateway integration that starts ``machine`` with ``{"body": <request body>}``,
    and the method responses the method needs for it.

    Express: StartSyncExecution, the answer is the execution's output (500 when it fails;
    CDK's integration declares its own method responses). Standard: StartExecution, the
    answer is ``{"executionArn", "startDate"}`` at once. API Gateway acts as ``role``, which
    is granted the start.
    """
    if express:
        integration = apigw.StepFunctionsIntegration.start_execution(
            machine,
            credentials_role=role,
            path=False,
            querystring=False,
            integration_responses=SYNC_EXECUTION_RESPONSES,
        )
        return integration, []
    machine.grant_start_execution(role)
    integration = apigw.AwsIntegration(
        service="states",
        action="StartExecution",
        options=apigw.IntegrationOptions(
            credentials_role=role,
            passthrough_behavior=apigw.PassthroughBehavior.NEVER,
            request_templates={JSON: start_execution_request(machine)},
            integration_responses=[
                apigw.IntegrationResponse(status_code="200"),
                apigw.IntegrationResponse(status_code="400", selection_pattern=r"4\d{2}"),
                apigw.IntegrationResponse(status_code="500", selection_pattern=r"5\d{2}"),
            ],
        ),
    )
    return integration, [apigw.MethodResponse(status_code=code) for code in ("200", "400", "500")]


def start_execution_request(machine: sfn.IStateMachine) -> str:
    """The mapping template of a StartExecution request with input ``{"body": <body>}``.

    StartExecution's ``input`` is a string holding JSON, so the body's JSON is escaped into a
    JSON string with ``$util.escapeJavaScript``. That function also escapes ``'`` as ``\\'``,
    which is no JSON escape: API Gateway's reference says to turn it back into ``'``
    (otherwise StartExecution answers 400 to ``O'Brien``). The template does so with a plain
    text replacement of ``$util.escapeJavaScript("'")``, which needs no backslash in a VTL
    string literal (VTL engines disagree on those).
    """
    return (
        '#set($apostrophe = "\'")\n'
        "#set($body = $util.escapeJavaScript($input.json('$'))"
        ".replace($util.escapeJavaScript($apostrophe), $apostrophe))\n"
        '{"stateMachineArn": "' + machine.state_machine_arn + '", '
        '"input": "{\\"body\\": $body}"}'
    )
