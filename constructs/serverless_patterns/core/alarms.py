"""Alarms for what loses data or fails silently, optionally notifying an SNS topic."""

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct

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


def function_alarms(
    scope: Construct, construct_id: str, function: lambda_.IFunction
) -> list[cloudwatch.Alarm]:
    """Errors and throttles of ``function``."""
    return [
        alarm(
            scope,
            f"{construct_id}Errors",
            function.metric_errors(period=PERIOD, statistic="Sum"),
            "The function raised errors: check its logs.",
        ),
        alarm(
            scope,
            f"{construct_id}Throttles",
            function.metric_throttles(period=PERIOD, statistic="Sum"),
            "The function was throttled: raise its concurrency or slow the callers.",
        ),
    ]


def rest_api_alarms(
    scope: Construct, construct_id: str, api: apigw.RestApi
) -> list[cloudwatch.Alarm]:
    """Server-side (5xx) errors of ``api``."""
    return [
        alarm(
            scope,
            f"{construct_id}ServerErrors",
            api.metric_server_error(period=PERIOD, statistic="Sum"),
            "The API answered 5xx: the integration failed or timed out.",
        )
    ]


def notify(alarms: Iterable[cloudwatch.Alarm], topic: sns.ITopic | None) -> None:
    """Send every alarm (and its recovery) to ``topic``, if one is given."""
    if topic is None:
        return
    for each in alarms:
        each.add_alarm_action(actions.SnsAction(topic))
        each.add_ok_action(actions.SnsAction(topic))


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
