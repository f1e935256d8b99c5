"""Commerce events: orders and payments publish, an EventRouter routes, consumers react."""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct
from serverless_patterns import EventRoute, EventRouter, EventTarget
from serverless_patterns.core.alarms import (
    dead_letter_queue_alarm,
    function_alarms,
    notify_every_alarm,
    operations_topic,
)
from serverless_patterns.core.functions import asset_code, python_function
from serverless_patterns.core.queues import dead_letter_queue, queue

from examples.layers import orders_layer

HANDLERS = Path(__file__).parent / "handlers"

ORDER_PLACED = events.EventPattern(source=["commerce.orders"], detail_type=["Order Placed"])
PAYMENT_FAILED = events.EventPattern(source=["commerce.payments"], detail_type=["Payment Failed"])
#: 02:00 UTC every day.
NIGHTLY = events.Schedule.cron(minute="0", hour="2")


class CommerceEventsStack(Stack):
    """The commerce event router: order-placed, payment-failed and a nightly report.

    The orders and payments services (elsewhere) put events on the bus; nothing here knows
    them, and they do not know who consumes their events.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="serverless-patterns: EventRouter reference (commerce events)",
        )
        # EventBridge can publish to an encrypted topic only with a customer-managed key
        # whose policy lets it (the SNS target grants that); one key for both topics.
        key = kms.Key(
            self,
            "NotificationsKey",
            enable_key_rotation=True,
            description="Encrypts the commerce notification topics",
        )
        customer_notifications = sns.Topic(
            self, "CustomerNotifications", master_key=key, enforce_ssl=True
        )
        payment_alerts = sns.Topic(self, "PaymentAlerts", master_key=key, enforce_ssl=True)

        # The warehouse system consumes this queue; what it cannot process ends in its DLQ.
        fulfilment_failures = dead_letter_queue(self, "FulfilmentDeadLetterQueue")
        fulfilment = queue(self, "FulfilmentQueue", dead_letter_queue=fulfilment_failures)

        confirm = python_function(
            self,
            "OrderConfirmation",
            code=asset_code(str(HANDLERS / "order_confirmation")),
            handler="app.handler",
            service_name="order-confirmation",
            environment={"TOPIC_ARN": customer_notifications.topic_arn},
            options=lambda_.FunctionOptions(layers=[orders_layer(self)]),
        )
        # topic.grant_publish would allow kms:GenerateDataKey*; these two actions suffice.
        confirm.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"], resources=[customer_notifications.topic_arn]
            )
        )
        key.grant(confirm, "kms:GenerateDataKey", "kms:Decrypt")
        report = python_function(
            self,
            "SalesReport",
            code=asset_code(str(HANDLERS / "sales_report")),
            handler="app.handler",
            service_name="sales-report",
        )

        router = EventRouter(
            self,
            "Commerce",
            routes=[
                EventRoute(
                    "order-placed",
                    pattern=ORDER_PLACED,
                    description="A placed order goes to the warehouse and to the customer",
                    targets=[fulfilment, confirm],
                ),
                EventRoute(
                    "payment-failed",
                    pattern=PAYMENT_FAILED,
                    description="A failed payment alerts the payments team",
                    targets=[
                        EventTarget(
                            payment_alerts,
                            input=events.RuleTargetInput.from_text(
                                "Payment failed for order "
                                f"{events.EventField.from_path('$.detail.order_id')}: "
                                f"{events.EventField.from_path('$.detail.reason')}"
                            ),
                        )
                    ],
                ),
                EventRoute(
                    "nightly-report",
                    schedule=NIGHTLY,
                    description="Requests yesterday's sales report",
                    targets=[report],
                ),
            ],
        )
        # The report function is a producer too: it puts its request on the bus.
        report.add_environment("EVENT_BUS_NAME", router.event_bus.event_bus_name)
        router.grant_put_events(report)

        # What the router does not own: the warehouse queue's DLQ and the two functions.
        dead_letter_queue_alarm(self, "FulfilmentDeadLetterQueueAlarm", fulfilment_failures)
        function_alarms(self, "OrderConfirmation", confirm)
        function_alarms(self, "SalesReport", report)

        CfnOutput(self, "EventBusName", value=router.event_bus.event_bus_name)
        CfnOutput(self, "FulfilmentQueueUrl", value=fulfilment.queue_url)
        # Every alarm tells someone: subscribe the on-call address to the operations topic,
        # or pass a platform team's own topic to notify_every_alarm instead.
        notify_every_alarm(self, operations_topic(self))
