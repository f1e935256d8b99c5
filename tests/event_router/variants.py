"""EventRouter variants for the construct tests, synthesized once per module."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from serverless_patterns import EventRoute, EventRouter, EventTarget

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")
ORDERS = events.EventPattern(source=["shop.orders"])
PARTNER_ACCOUNTS = ["111122223333", "444455556666"]
ORGANIZATION = "o-a1b2c3d4e5"


def function(stack: Stack, construct_id: str) -> lambda_.Function:
    return lambda_.Function(
        stack, construct_id, runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=CODE
    )


def build_every_target(stack: Stack) -> EventRouter:
    """One route per target kind, per-target settings, cross-account publishers, alarm topic."""
    machine = sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "P"))
    )
    other_bus = events.EventBus(stack, "AnalyticsBus")
    fifo = sqs.Queue(stack, "Ledger", fifo=True, content_based_deduplication=True)
    router = EventRouter(
        stack,
        "Router",
        routes=[
            EventRoute(
                "order-placed",
                pattern=ORDERS,
                targets=[
                    function(stack, "Handler"),
                    sqs.Queue(stack, "Work"),
                    EventTarget(fifo, message_group_id="orders"),
                    EventTarget(
                        sns.Topic(stack, "Alerts"),
                        name="alerts",
                        input=events.RuleTargetInput.from_event_path("$.detail"),
                        retry_attempts=3,
                        max_event_age=Duration.hours(1),
                    ),
                ],
            ),
            EventRoute(
                "order-audit",
                pattern=events.EventPattern(source=["shop.orders"], detail_type=["Order Placed"]),
                targets=[
                    EventTarget(
                        machine,
                        input=events.RuleTargetInput.from_object(
                            {"order": events.EventField.from_path("$.detail.order_id")}
                        ),
                    ),
                    other_bus,
                    targets.CloudWatchLogGroup(logs.LogGroup(stack, "AuditLogs")),
                ],
            ),
            EventRoute(
                "hourly", schedule=events.Schedule.rate(Duration.hours(1)), targets=[machine]
            ),
        ],
        publisher_accounts=PARTNER_ACCOUNTS,
        publisher_organization_id=ORGANIZATION,
        retry_attempts=10,
        alarm_topic=sns.Topic(stack, "Ops"),
    )
    router.grant_put_events(iam.Role(stack, "Producer", assumed_by=iam.AccountRootPrincipal()))
    return router


def build_default_bus(stack: Stack) -> EventRouter:
    default = events.EventBus.from_event_bus_name(stack, "Default", "default")
    return EventRouter(
        stack,
        "Router",
        existing_bus=default,
        routes=[
            EventRoute("placed", pattern=ORDERS, targets=[sqs.Queue(stack, "Work")]),
            EventRoute(
                "nightly",
                schedule=events.Schedule.cron(minute="0", hour="2"),
                targets=[function(stack, "Report")],
            ),
        ],
    )


def build_existing_bus_archived(stack: Stack) -> EventRouter:
    bus = events.EventBus(stack, "Mine")
    router = EventRouter(
        stack, "Router", existing_bus=bus, archive=True, archive_retention=Duration.days(7)
    )
    router.add_route(EventRoute("placed", pattern=ORDERS, targets=[sqs.Queue(stack, "Work")]))
    return router


def build_bus_props_without_archive(stack: Stack) -> EventRouter:
    return EventRouter(
        stack,
        "Router",
        event_bus_props=events.EventBusProps(description="Orders of the shop"),
        archive=False,
        routes=[EventRoute("placed", pattern=ORDERS, targets=[sqs.Queue(stack, "Work")])],
    )


def build_shared_function(stack: Stack) -> EventRouter:
    shared = function(stack, "Shared")
    return EventRouter(
        stack,
        "Router",
        routes=[
            EventRoute("first", pattern=ORDERS, targets=[shared]),
            EventRoute(
                "second", pattern=events.EventPattern(source=["shop.payments"]), targets=[shared]
            ),
            EventRoute(
                "imported",
                pattern=events.EventPattern(source=["shop.returns"]),
                targets=[
                    lambda_.Function.from_function_arn(
                        stack, "Imported", "arn:aws:lambda:us-east-1:123456789012:function:x"
                    )
                ],
            ),
        ],
    )
