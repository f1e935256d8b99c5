"""Log groups: explicit retention, never 'never expire' by accident."""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from serverless_patterns.core.compliance import justify

DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH


def log_group(
    scope: Construct,
    construct_id: str,
    *,
    retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
) -> logs.LogGroup:
    """A log group kept (not deleted) with the stack, expiring after ``retention``."""
    created = logs.LogGroup(
        scope, construct_id, retention=retention, removal_policy=RemovalPolicy.RETAIN
    )
    justify(created, "log-group-service-encryption")
    return created
