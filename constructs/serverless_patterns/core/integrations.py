"""REST API service integrations: API Gateway writes to a service itself, no Lambda between."""

import re

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.apis import Route

#: The SQS message attribute that carries the job id (API Gateway's request id).
JOB_ID_ATTRIBUTE = "job_id"
#: SQS's largest message (SendMessage ``MessageBody``; the default ``MaximumMessageSize``):
#: 1 MiB, counting the body and the message attributes' names, types and values.
SQS_MAX_MESSAGE_BYTES = 1_048_576
_JSON = "application/json"

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
            request_templates={_JSON: _send_message_template(fifo, message_group_key)},
            integration_responses=[
                apigw.IntegrationResponse(
                    status_code="202",
                    response_templates={
                        _JSON: '{"job_id": "$context.requestId", "status": "pending"}'
                    },
                ),
                apigw.IntegrationResponse(
                    status_code="500",
                    selection_pattern=r"[45]\d{2}",
                    response_templates={_JSON: _SEND_MESSAGE_ERROR},
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
    """One route of ``api`` (model named like ``core.apis.add_routes`` names it)."""
    models = None
    if route.request_schema is not None:
        model_id = re.sub(r"[^A-Za-z0-9]", "", route.key.title()) + "Model"
        models = {_JSON: api.add_model(model_id, content_type=_JSON, schema=route.request_schema)}
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
            _JSON: '{"message": "Invalid request body: $context.error.validationErrorString"}'
        },
    )
