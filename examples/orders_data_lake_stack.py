"""Orders to the data lake: the orders table's changes as events, a purpose-built store fed
by them, and (the ETL copy) every change delivered to S3."""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from serverless_patterns import ChangeCapture, EventRoute, EventRouter
from serverless_patterns.core.alarms import function_alarms, notify_every_alarm, operations_topic
from serverless_patterns.core.firehose import deliver_to_s3
from serverless_patterns.core.functions import asset_code, python_function
from serverless_patterns.core.tables import TableAccess, grant, table

HANDLERS = Path(__file__).parent / "handlers"
#: The ordering service keeps other items in its table too (idempotency records): only
#: orders become events.
ORDERS_ONLY = {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "ORDER#"}]}}}}


class OrdersDataLakeStack(Stack):
    """The ordering service writes its table (``PutItem`` of ``ORDER#<id>`` items, with
    ``order_id``, ``customer_id``, ``status``, ``total_cents``, ``items``); nothing else.

    Its changes become ``shop.orders`` events (ChangeCapture, enriched to plain JSON) on the
    order-events bus (EventRouter, archived). The order-history service keeps its own table
    from them; a second rule copies every change to S3 through Firehose (the ETL copy).
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="serverless-patterns: ChangeCapture reference (orders to the data lake)",
        )
        router = EventRouter(self, "OrderEvents")
        changes = ChangeCapture(
            self,
            "OrderChanges",
            existing_bus=router.event_bus,
            source="shop.orders",
            filter_pattern=ORDERS_ONLY,
            code=asset_code(str(HANDLERS / "order_changes")),
            service_name="order-changes",
        )

        # The order-history service: its own store, fed only by the events.
        history_table = table(
            self,
            "OrderHistoryTable",
            props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(
                    name="customer_id", type=dynamodb.AttributeType.STRING
                ),
                sort_key=dynamodb.Attribute(name="order_id", type=dynamodb.AttributeType.STRING),
            ),
        )
        history = python_function(
            self,
            "OrderHistory",
            code=asset_code(str(HANDLERS / "order_history")),
            handler="app.handler",
            service_name="order-history",
            environment={"TABLE_NAME": history_table.table_name},
        )
        grant(history_table, history, TableAccess.READ_WRITE)
        router.add_route(
            EventRoute(
                "order-history",
                pattern=changes.pattern(),
                description="Every order change updates the customer's order history",
                targets=[history],
            )
        )
        function_alarms(self, "OrderHistory", history)

        # The ETL copy: every change, as published, to S3 partitioned by date (Firehose).
        lake = deliver_to_s3(self, "DataLake")
        router.add_route(
            EventRoute(
                "data-lake",
                pattern=changes.pattern(),
                description="Every order change, as published, is copied to the data lake",
                targets=[lake.delivery_stream],
            )
        )

        CfnOutput(self, "OrdersTableName", value=changes.table.table_name)
        CfnOutput(self, "EventBusName", value=router.event_bus.event_bus_name)
        CfnOutput(self, "OrderHistoryTableName", value=history_table.table_name)
        CfnOutput(self, "DataLakeBucketName", value=lake.bucket.bucket_name)
        notify_every_alarm(self, operations_topic(self))
