"""REST APIs: access logs, tracing, throttling, request validation, never open by accident."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Annotations, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from serverless_patterns.core.compliance import justify
from serverless_patterns.core.logs import log_group
from serverless_patterns.core.props import merge, options_of
from serverless_patterns.core.validation import Problems

HTTP_METHODS = frozenset({"ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
DEFAULT_RATE_LIMIT = 100  # requests per second, steady state, per stage
DEFAULT_BURST_LIMIT = 200
JSON = "application/json"
#: Context key: ``false`` when the account's API Gateway logging role is managed elsewhere.
MANAGE_ACCOUNT_CONTEXT = "serverless-patterns:manage-api-gateway-account"
_PATH = re.compile(
    r"^/([A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\})(/([A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\}))*$"
)


@dataclass(frozen=True)
class Route:
    """One method on one path, e.g. ``Route("POST", "/orders", request_schema=...)``.

    A ``request_schema`` makes API Gateway reject a non-conforming JSON body with a 400
    before the function runs.
    """

    method: str
    path: str
    request_schema: apigw.JsonSchema | None = None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


#: Every method on every path goes to the function; it routes by itself (e.g. Powertools).
PROXY_ROUTES = (Route("ANY", "/"), Route("ANY", "/{proxy+}"))


_PATH_FIX = "path must start with '/' and hold segments or {params}"


def validate_path(problems: Problems, option: str, path: str) -> bool:
    """``path`` is ``/`` or ``/segment/{param}/...``; True if it is."""
    if path == "/" or _PATH.match(path):
        return True
    problems.add(option, path, _PATH_FIX)
    return False


def validate_routes(problems: Problems, routes: Sequence[Route]) -> None:
    if not routes:
        problems.add("routes", list(routes), "give at least one Route, or omit it to proxy all")
    for route in routes:
        if route.method not in HTTP_METHODS:
            problems.add("routes", route.key, f"method must be one of {sorted(HTTP_METHODS)}")
        if route.path != "/" and not _PATH.match(route.path):
            problems.add("routes", route.key, _PATH_FIX)
    problems.unique("routes", (route.key for route in routes))
    # API Gateway refuses two path parameters under one parent, e.g. {id} and {order_id}.
    parameters: dict[str, set[str]] = {}
    for route in routes:
        segments = route.path.strip("/").split("/")
        for depth, segment in enumerate(segments):
            if segment.startswith("{"):
                parameters.setdefault("/" + "/".join(segments[:depth]), set()).add(segment)
    for parent, names in parameters.items():
        if len(names) > 1:
            problems.add(
                "routes",
                sorted(names),
                f"one path parameter name under {parent!r}: API Gateway refuses sibling ones",
            )


def validate_authorization(
    problems: Problems,
    authorizer: apigw.IAuthorizer | None,
    authorization_type: apigw.AuthorizationType | None,
) -> None:
    needs_authorizer = {apigw.AuthorizationType.COGNITO, apigw.AuthorizationType.CUSTOM}
    if authorizer is None and authorization_type in needs_authorizer:
        problems.add(
            "authorization_type", authorization_type, "give the matching authorizer= as well"
        )
    if authorizer is not None and authorization_type in {
        apigw.AuthorizationType.IAM,
        apigw.AuthorizationType.NONE,
    }:
        problems.add(
            "authorization_type",
            authorization_type,
            "an authorizer needs COGNITO or CUSTOM; omit authorization_type",
        )


def rest_api(
    scope: Construct,
    construct_id: str,
    *,
    props: apigw.RestApiProps | None,
    authorizer: apigw.IAuthorizer | None,
    authorization_type: apigw.AuthorizationType | None,
) -> apigw.RestApi:
    """A regional REST API with the library's defaults; ``props`` override any of them.

    Defaults: named after the construct path; every method requires authorization (IAM
    unless an ``authorizer`` is given; ``AuthorizationType.NONE`` must be asked for and adds
    a warning), JSON access logs in a
    log group with retention, X-Ray tracing, error-level execution logs, detailed metrics,
    and stage throttling of 100 requests/s (burst 200). ``props.deploy_options`` override
    the stage defaults one by one.
    """
    if authorizer is None and authorization_type is None:
        authorization_type = apigw.AuthorizationType.IAM
    if authorization_type == apigw.AuthorizationType.NONE:
        Annotations.of(scope).add_warning_v2(
            "serverless-patterns:open-api",
            "authorization_type=NONE: anyone who knows the URL can call this API.",
        )
    overrides = options_of(props)
    stage = merge(
        {
            "access_log_destination": apigw.LogGroupLogDestination(
                log_group(scope, f"{construct_id}AccessLogs")
            ),
            "access_log_format": apigw.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
            "tracing_enabled": True,
            "logging_level": apigw.MethodLoggingLevel.ERROR,
            "metrics_enabled": True,
            "throttling_rate_limit": DEFAULT_RATE_LIMIT,
            "throttling_burst_limit": DEFAULT_BURST_LIMIT,
        },
        overrides.pop("deploy_options", None),
    )
    settings = {
        # Named after the construct path (e.g. "OrdersService-Orders-Api"), not just its id.
        "rest_api_name": "-".join([*scope.node.path.split("/"), construct_id]),
        "endpoint_types": [apigw.EndpointType.REGIONAL],
        # The account-level logging role is one setting per account and region: the stack's
        # one ApiGatewayAccount (below) sets it, never each API.
        "cloud_watch_role": False,
        "default_method_options": apigw.MethodOptions(
            authorization_type=authorization_type, authorizer=authorizer
        ),
        "deploy_options": apigw.StageOptions(**stage),
        **overrides,
    }
    if settings["cloud_watch_role"]:
        raise ValueError(
            f"{construct_id}: rest_api_props.cloud_watch_role=True would add a second "
            "AWS::ApiGateway::Account to the stack; omit it: the stack's one ApiGatewayAccount "
            f"sets the logging role (context {MANAGE_ACCOUNT_CONTEXT}=false turns that off)"
        )
    api = apigw.RestApi(scope, construct_id, **settings)
    account = api_gateway_account(scope, api.node.default_child)
    if account is not None:
        api.deployment_stage.node.add_dependency(account)
    _acknowledge_defaults(api, authorization_type)
    return api


def api_gateway_account(scope: Construct, api: IConstruct | None) -> apigw.CfnAccount | None:
    """The stack's one ``AWS::ApiGateway::Account``: the role API Gateway writes logs with.

    A stage that writes access or execution logs fails to create ("CloudWatch Logs role ARN
    must be set in account settings to enable logging") until this account-wide, per-region
    setting exists, so every logging stage depends on it. It is a singleton per stack: two
    would point at different roles and the last writer would win. Created after the first
    API (as aws-cdk does) and retained on delete, since other stacks' stages may rely on it.
    Teams that manage the setting elsewhere set the context key
    ``serverless-patterns:manage-api-gateway-account`` to ``false``: then nothing is created.
    """
    if scope.node.try_get_context(MANAGE_ACCOUNT_CONTEXT) in (False, "false"):
        return None
    stack = Stack.of(scope)
    existing = stack.node.try_find_child("ApiGatewayAccount")
    if isinstance(existing, apigw.CfnAccount):
        return existing
    role = iam.Role(
        stack,
        "ApiGatewayCloudWatchRole",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            )
        ],
        description="The account-level role API Gateway writes access and execution logs with",
    )
    role.apply_removal_policy(RemovalPolicy.RETAIN)
    justify(role, "api-gateway-logging-role")
    account = apigw.CfnAccount(stack, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(RemovalPolicy.RETAIN)
    if api is not None:
        account.node.add_dependency(api)
    return account


def _acknowledge_defaults(
    api: apigw.RestApi, authorization_type: apigw.AuthorizationType | None
) -> None:
    justify(api.deployment_stage, ["no-waf-by-default", "no-api-cache"])
    if authorization_type == apigw.AuthorizationType.IAM:
        justify(api, "iam-authorization")


def request_models(api: apigw.RestApi, route: Route) -> dict[str, apigw.IModel] | None:
    """The JSON model of ``route``'s request schema (named after the route), or None."""
    if route.request_schema is None:
        return None
    model_id = re.sub(r"[^A-Za-z0-9]", "", route.key.title()) + "Model"
    return {JSON: api.add_model(model_id, content_type=JSON, schema=route.request_schema)}


def add_routes(api: apigw.RestApi, routes: Sequence[Route], integration: apigw.Integration) -> None:
    """Add ``routes`` to ``api``, all through ``integration``, with request validation."""
    validator = api.add_request_validator(
        "RequestValidator", validate_request_body=True, validate_request_parameters=True
    )
    for route in routes:
        models = request_models(api, route)  # before the resource: the deployment hash's order
        api.root.resource_for_path(route.path).add_method(
            route.method, integration, request_validator=validator, request_models=models
        )
