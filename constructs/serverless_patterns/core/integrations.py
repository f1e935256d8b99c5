"""REST API service integrations: API Gateway writes to a service itself, no Lambda between."""

import re

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.apis import Route

#: The SQS message attribute that carries the job id (API Gateway's request id).
JOB_ID_ATTRIBUTE = "job_id"
_JSON = "application/json"


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
    may only send to ``queue``. If SQS refuses the message, the caller gets a 500 and no job.
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
                    response_templates={
                        _JSON: '{"message": "the job could not be queued; try again later"}'
                    },
                ),
            ],
        ),
    )


#: The method responses :func:`send_message_integration` answers with.
SEND_MESSAGE_RESPONSES = [
    apigw.MethodResponse(status_code="202"),
    apigw.MethodResponse(status_code="500"),
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
