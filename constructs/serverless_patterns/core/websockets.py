"""WebSocket APIs: authorized ``$connect``, a throttled stage with JSON access logs."""

import json

import jsii
from aws_cdk import Annotations, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_iam as iam
from constructs import Construct

from serverless_patterns.core.apis import (
    DEFAULT_BURST_LIMIT,
    DEFAULT_RATE_LIMIT,
    api_gateway_account,
)
from serverless_patterns.core.compliance import as_nag_prints, justify
from serverless_patterns.core.logs import log_group
from serverless_patterns.core.props import merge

STAGE_NAME = "prod"

#: One JSON object per connection event (connect, message, disconnect).
ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
    json.dumps(
        {
            "requestId": "$context.requestId",
            "ip": "$context.identity.sourceIp",
            "caller": "$context.identity.caller",
            "user": "$context.identity.user",
            "requestTime": "$context.requestTime",
            "eventType": "$context.eventType",
            "routeKey": "$context.routeKey",
            "status": "$context.status",
            "connectionId": "$context.connectionId",
            "integrationError": "$context.integrationErrorMessage",
        }
    )
)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, destination: apigwv2.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return ACCESS_LOG_FORMAT


def websocket_api(
    scope: Construct,
    construct_id: str,
    *,
    connect: apigwv2.WebSocketRouteIntegration,
    disconnect: apigwv2.WebSocketRouteIntegration,
    default: apigwv2.WebSocketRouteIntegration,
    authorizer: apigwv2.IWebSocketRouteAuthorizer | None = None,
    props: apigwv2.WebSocketApiProps | None = None,
) -> tuple[apigwv2.WebSocketApi, apigwv2.WebSocketStage]:
    """A WebSocket API and its ``prod`` stage with the library's defaults.

    Defaults: ``$connect`` requires IAM (SigV4-signed URL) unless ``authorizer`` says
    otherwise (``WebSocketNoneAuthorizer`` must be asked for and adds a warning); the
    ``$default`` route answers the client with its integration's response; the stage deploys
    automatically, is throttled to 100 messages/s (burst 200), writes JSON access logs to a
    log group with retention and has detailed metrics. ``props`` override the API's options
    (not its routes).
    """
    if authorizer is None:
        authorizer = authorizers.WebSocketIamAuthorizer()
    if isinstance(authorizer, apigwv2.WebSocketNoneAuthorizer):
        Annotations.of(scope).add_warning_v2(
            "serverless-patterns:open-websocket",
            "websocket_authorizer=WebSocketNoneAuthorizer: anyone who knows the URL can connect.",
        )
    settings = merge(
        {
            "connect_route_options": apigwv2.WebSocketRouteOptions(
                integration=connect, authorizer=authorizer
            ),
            "disconnect_route_options": apigwv2.WebSocketRouteOptions(integration=disconnect),
            "default_route_options": apigwv2.WebSocketRouteOptions(
                integration=default, return_response=True
            ),
        },
        props,
    )
    api = apigwv2.WebSocketApi(scope, construct_id, **settings)
    for route in ("$disconnect", "$default"):
        justify(api.node.find_child(f"{route}-Route"), "websocket-authorized-on-connect")
    stage = apigwv2.WebSocketStage(
        scope,
        f"{construct_id}Stage",
        web_socket_api=api,
        stage_name=STAGE_NAME,
        auto_deploy=True,
        detailed_metrics_enabled=True,
        throttle=apigwv2.ThrottleSettings(
            rate_limit=DEFAULT_RATE_LIMIT, burst_limit=DEFAULT_BURST_LIMIT
        ),
        access_log_settings=_AccessLogSettings(
            apigwv2.LogGroupLogDestination(log_group(scope, f"{construct_id}AccessLogs"))
        ),
    )
    account = api_gateway_account(scope, api.node.default_child)
    if account is not None:
        stage.node.add_dependency(account)  # it writes access logs: the role must exist first
    return api, stage


def grant_post_to_connections(stage: apigwv2.WebSocketStage, grantee: iam.IGrantable) -> None:
    """Let ``grantee`` post messages to the connections of ``stage`` (nothing else)."""
    stack = Stack.of(stage)
    connections = stack.format_arn(
        service="execute-api",
        resource=stage.api.api_id,
        resource_name=f"{stage.stage_name}/POST/@connections/*",
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=[connections])
    )
    principal = grantee.grant_principal  # a role defined in the app is a construct
    if isinstance(principal, Construct):
        justify(
            principal,
            "websocket-connections",
            finding=f"[Resource::{as_nag_prints(stack, connections)}]",
        )
