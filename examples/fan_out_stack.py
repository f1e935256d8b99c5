"""Order events: billing, shipping and analytics each take what concerns them from one topic."""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct
from serverless_patterns import FanOut, FunctionSubscriber, QueueSubscriber
from serverless_patterns.core.alarms import notify_every_alarm, operations_topic
from serverless_patterns.core.functions import asset_code

from examples.layers import orders_layer

HANDLERS = Path(__file__).parent / "handlers"
#: Orders of at least this total are "high value" for analytics.
HIGH_VALUE = 1000


def any_of(*values: str) -> sns.FilterOrPolicy:
    return sns.FilterOrPolicy.filter(sns.SubscriptionFilter.string_filter(allowlist=list(values)))


class OrderEventsStack(Stack):
    """The orders service publishes order events; three teams subscribe independently.

    Publishers send a JSON body ``{"event_type": ..., "order": {...}}`` with the message
    attribute ``event_type`` (String).
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope, construct_id, description="serverless-patterns: FanOut reference (order events)"
        )
        order_events = FanOut(
            self,
            "OrderEvents",
            subscribers=[
                # Charges and refunds: every placed or cancelled order, chosen by attribute.
                QueueSubscriber(
                    "billing",
                    filter_policy={
                        "event_type": sns.SubscriptionFilter.string_filter(
                            allowlist=["OrderPlaced", "OrderCancelled"]
                        )
                    },
                    code=asset_code(str(HANDLERS / "billing")),
                ),
                # Shipments: only orders that travel (not downloads), chosen by body; the
                # queue receives the event itself (raw delivery).
                QueueSubscriber(
                    "shipping",
                    filter_policy_with_message_body={
                        "event_type": any_of("OrderPlaced", "OrderCancelled"),
                        "order": sns.FilterOrPolicy.policy(
                            {"delivery": any_of("standard", "express")}
                        ),
                    },
                    raw_message_delivery=True,
                    code=asset_code(str(HANDLERS / "shipping")),
                    function_options=lambda_.FunctionOptions(layers=[orders_layer(self)]),
                ),
                # High-value orders only: rare, so SNS invokes the function directly.
                FunctionSubscriber(
                    "analytics",
                    filter_policy_with_message_body={
                        "event_type": any_of("OrderPlaced"),
                        "order": sns.FilterOrPolicy.policy(
                            {
                                "total": sns.FilterOrPolicy.filter(
                                    sns.SubscriptionFilter.numeric_filter(
                                        greater_than_or_equal_to=HIGH_VALUE
                                    )
                                )
                            }
                        ),
                    },
                    code=asset_code(str(HANDLERS / "analytics")),
                ),
            ],
        )
        # The orders service assumes this role to publish; nothing else may.
        publisher = iam.Role(
            self,
            "OrdersServicePublisher",
            assumed_by=iam.AccountPrincipal(self.account),
            description="Publishes order events (assumed by the orders service)",
        )
        order_events.grant_publish(publisher)
        CfnOutput(self, "TopicArn", value=order_events.topic.topic_arn)
        CfnOutput(self, "PublisherRoleArn", value=publisher.role_arn)
        # Every alarm tells someone: subscribe the on-call address to the operations topic,
        # or pass a platform team's own topic to notify_every_alarm instead.
        notify_every_alarm(self, operations_topic(self))
