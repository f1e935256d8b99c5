"""Lambda functions: Python on arm64 with Powertools, X-Ray, JSON logs and scoped IAM."""

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from serverless_patterns.core.compliance import justify
from serverless_patterns.core.layers import powertools_layer
from serverless_patterns.core.logs import log_group
from serverless_patterns.core.props import merge, options_of

DEFAULT_RUNTIME = lambda_.Runtime.PYTHON_3_14
DEFAULT_MEMORY_MB = 256
DEFAULT_TIMEOUT = Duration.seconds(10)


def python_function(
    scope: Construct,
    construct_id: str,
    *,
    code: lambda_.Code,
    handler: str,
    service_name: str,
    environment: Mapping[str, str] | None = None,
    options: lambda_.FunctionOptions | None = None,
) -> lambda_.Function:
    """A Python function with the library's defaults; ``options`` override any of them.

    Defaults: current Python runtime, arm64, 256 MB, 10 s timeout, active X-Ray tracing,
    JSON logs into a dedicated log group with explicit retention, the stack's Powertools layer
    (built from the installed release, see ``core.layers``), and a role that may only write
    its own logs (grants add the rest). ``environment`` and ``options.environment`` extend the
    Powertools settings; ``options.layers`` extend the Powertools layer.
    """
    settings = merge(
        {
            "architecture": lambda_.Architecture.ARM_64,
            "memory_size": DEFAULT_MEMORY_MB,
            "timeout": DEFAULT_TIMEOUT,
            "tracing": lambda_.Tracing.ACTIVE,
            "logging_format": lambda_.LoggingFormat.JSON,
        },
        options,
    )
    settings["environment"] = {
        "POWERTOOLS_SERVICE_NAME": service_name,
        "POWERTOOLS_METRICS_NAMESPACE": service_name,
        **(environment or {}),
        **settings.get("environment", {}),
    }
    settings["layers"] = [
        powertools_layer(scope),
        *settings.get("layers", []),
    ]
    logs = settings.get("log_group")
    if logs is None:
        logs = settings["log_group"] = log_group(scope, f"{construct_id}Logs")
    if "role" not in settings:
        settings["role"] = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {service_name} {construct_id}",
        )
        if settings["tracing"] != lambda_.Tracing.DISABLED:
            justify(settings["role"], "no-resource-level-permissions")
    function = lambda_.Function(
        scope, construct_id, runtime=DEFAULT_RUNTIME, code=code, handler=handler, **settings
    )
    logs.grant_write(function)
    concerns = ["function-log-group", "no-secrets-in-environment"]
    if settings.get("reserved_concurrent_executions") is None:
        concerns.append("unreserved-concurrency")
    if settings.get("vpc") is None:
        concerns.append("no-vpc")
    justify(function, concerns)
    return function


def asset_code(path: str) -> lambda_.Code:
    """Code from a local folder, hashed on content only (no ``__pycache__``)."""
    return lambda_.Code.from_asset(path, exclude=["__pycache__", "*.pyc"])


def effective_timeout(
    options: lambda_.FunctionOptions | None, existing: lambda_.IFunction | None
) -> Duration | None:
    """The timeout of the function a construct uses: ``existing``'s if known (None for an
    imported one), else the one ``options`` set for the function it builds, else the default."""
    if existing is not None:
        return existing.timeout if isinstance(existing, lambda_.Function) else None
    return options_of(options).get("timeout") or DEFAULT_TIMEOUT
