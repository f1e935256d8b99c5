"""Alarms for what loses data or fails silently, and the topic that tells someone."""

from collections.abc import Iterable, Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core import topics as topic_defaults

PERIOD = Duration.minutes(5)


def alarm(
    scope: Construct, construct_id: str, metric: cloudwatch.IMetric, description: str
) -> cloudwatch.Alarm:
    """Fires when ``metric`` is at least 1 over one 5-minute period; no data is not a breach."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )


def alarms(
    scope: Construct, construct_id: str, watched: Sequence[tuple[str, cloudwatch.IMetric, str]]
) -> list[cloudwatch.Alarm]:
    """One :func:`alarm` per ``(id suffix, metric, description)``, ids prefixed ``construct_id``."""
    return [
        alarm(scope, f"{construct_id}{suffix}", metric, description)
        for suffix, metric, description in watched
    ]


def function_alarms(
    scope: Construct, construct_id: str, function: lambda_.IFunction
) -> list[cloudwatch.Alarm]:
    """Errors and throttles of ``function``."""
    return alarms(
        scope,
        construct_id,
        [
            (
                "Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                "The function raised errors: check its logs.",
            ),
            (
                "Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                "The function was throttled: raise its concurrency or slow the callers.",
            ),
        ],
    )


def rest_api_alarms(
    scope: Construct, construct_id: str, api: apigw.RestApi
) -> list[cloudwatch.Alarm]:
    """Server-side (5xx) errors of ``api``."""
    metric = api.metric_server_error(period=PERIOD, statistic="Sum")
    description = "The API answered 5xx: the integration failed or timed out."
    return alarms(scope, construct_id, [("ServerErrors", metric, description)])


def notify(alarms: Iterable[cloudwatch.Alarm], topic: sns.ITopic | None) -> None:
    """Send every alarm (and its recovery) to ``topic``, if one is given."""
    if topic is None:
        return
    action = actions.SnsAction(topic)  # stateless: one serves every alarm
    for each in alarms:
        each.add_alarm_action(action)
        each.add_ok_action(action)


def dead_letter_queue_alarm(
    scope: Construct, construct_id: str, dead_letter_queue: sqs.IQueue
) -> cloudwatch.Alarm:
    """Any message visible in ``dead_letter_queue``: something failed for good; redrive it."""
    return alarm(
        scope,
        construct_id,
        dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=PERIOD, statistic="Maximum"
        ),
        "Messages are in the dead-letter queue: inspect them, fix the cause, then redrive.",
    )


def operations_topic(scope: Construct, construct_id: str = "OperationsTopic") -> sns.Topic:
    """A topic every alarm can notify: CloudWatch may publish to it, nobody else by default.

    Encrypted with a customer-managed key (rotated yearly): a topic encrypted with
    ``alias/aws/sns`` silently drops CloudWatch's notifications, since that key's policy cannot
    let ``cloudwatch.amazonaws.com`` use it. The key and topic policies allow CloudWatch only
    for alarms of this account and region (``aws:SourceAccount``, ``aws:SourceArn``), and the
    topic refuses every request not made over TLS. Idle cost: the key, $1/month.
    Subscribe the on-call address or a chat integration to it.
    """
    stack = Stack.of(scope)
    alarms_of_account = stack.format_arn(
        service="cloudwatch",
        resource="alarm",
        resource_name="*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    conditions = {
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {"aws:SourceArn": alarms_of_account},
    }
    cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
    key = kms.Key(
        scope,
        f"{construct_id}Key",
        enable_key_rotation=True,
        description="Encrypts the operations topic that CloudWatch alarms notify",
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[cloudwatch_principal],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions=conditions,
        )
    )
    created = topic_defaults.topic(scope, construct_id, props=sns.TopicProps(master_key=key))
    created.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[cloudwatch_principal],
            actions=["sns:Publish"],
            resources=[created.topic_arn],
            conditions=conditions,
        )
    )
    return created


def notify_every_alarm(scope: Construct, topic: sns.ITopic) -> None:
    """Send every alarm defined under ``scope`` so far (and its recovery) to ``topic``."""
    notify((each for each in scope.node.find_all() if isinstance(each, cloudwatch.Alarm)), topic)
