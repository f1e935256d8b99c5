"""Placing an order, both ways: a SyncApi and an AsyncApi side by side on one orders table.

- **Sync** (``SyncOrders``): ``POST /orders`` runs the business logic while the caller waits
  and answers the stored order (201).
- **Async** (``AsyncOrders``): ``POST /orders`` is queued by API Gateway itself and answered
  202 with a job id; a worker places the order behind the queue; the caller polls
  ``GET /orders/{job_id}`` or is told over the WebSocket API.

Both functions run the same asset (``handlers/order_placement``): ``sync_app.handler`` and
``async_app.process`` are thin entry points around one business module, ``ordering``. The
stack creates the orders table once (library defaults) and passes it to both: to the SyncApi
as ``existing_table``, to the AsyncApi's worker by grant and ``ORDERS_TABLE``.
"""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from serverless_patterns import AsyncApi, Route, SyncApi, TableAccess
from serverless_patterns.core.alarms import notify_every_alarm, operations_topic
from serverless_patterns.core.functions import asset_code
from serverless_patterns.core.tables import grant, table

from examples.layers import orders_layer, rest_json_layer
from examples.sync_api_stack import SHORT_TEXT, order_schema

HANDLERS = Path(__file__).parent / "handlers"
SKU = "^[a-z0-9-]{1,64}$"

ORDER_SCHEMA = order_schema(
    sku=apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, pattern=SKU),
    client_token=SHORT_TEXT,
)


class OrdersBothWaysStack(Stack):
    """One operation, two front doors: compare what each costs, creates and does on failure."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="serverless-patterns: placing an order both ways (SyncApi vs AsyncApi)",
        )
        orders = table(
            self,
            "Orders",
            props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
            ),
        )
        # One asset, two entry points around the shared business module.
        code = asset_code(str(HANDLERS / "order_placement"))
        environment = {"ORDERS_TABLE": orders.table_name}
        order_lines = orders_layer(self)

        sync = SyncApi(
            self,
            "SyncOrders",
            code=code,
            handler="sync_app.handler",
            function_options=lambda_.FunctionOptions(
                environment=environment, layers=[rest_json_layer(self), order_lines]
            ),
            existing_table=orders,
            routes=[
                Route("POST", "/orders", request_schema=ORDER_SCHEMA),
                Route("GET", "/orders/{order_id}"),
            ],
            service_name="orders-sync",
        )
        async_ = AsyncApi(
            self,
            "AsyncOrders",
            code=code,
            processor="async_app.process",
            function_options=lambda_.FunctionOptions(environment=environment, layers=[order_lines]),
            path="/orders",
            job_schema=ORDER_SCHEMA,
            service_name="orders-async",
        )
        grant(orders, async_.function, TableAccess.READ_WRITE)

        CfnOutput(self, "SyncApiUrl", value=sync.api.url)
        CfnOutput(self, "AsyncApiUrl", value=async_.api.url)
        assert async_.websocket_stage is not None
        CfnOutput(self, "AsyncWebSocketUrl", value=async_.websocket_stage.url)
        # Every alarm tells someone: subscribe the on-call address to the operations topic,
        # or pass a platform team's own topic to notify_every_alarm instead.
        notify_every_alarm(self, operations_topic(self))
