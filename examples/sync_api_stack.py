"""Orders service: create, get and list orders through a SyncApi."""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from serverless_patterns import Route, SyncApi
from serverless_patterns.core.alarms import notify_every_alarm, operations_topic
from serverless_patterns.core.functions import asset_code

from examples.layers import orders_layer, rest_json_layer

HANDLERS = Path(__file__).parent / "handlers"

SHORT_TEXT = apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=64)


def order_schema(
    sku: apigw.JsonSchema = SHORT_TEXT, **optional: apigw.JsonSchema
) -> apigw.JsonSchema:
    """An order: a ``customer_id`` and 1 to 50 items of a ``sku`` and a quantity (1 to 100).

    ``optional`` adds properties an order may carry (the orders-both-ways app's
    ``client_token``).
    """
    return apigw.JsonSchema(
        schema=apigw.JsonSchemaVersion.DRAFT4,
        type=apigw.JsonSchemaType.OBJECT,
        required=["customer_id", "items"],
        additional_properties=False,
        properties={
            "customer_id": SHORT_TEXT,
            **optional,
            "items": apigw.JsonSchema(
                type=apigw.JsonSchemaType.ARRAY,
                min_items=1,
                max_items=50,
                items=apigw.JsonSchema(
                    type=apigw.JsonSchemaType.OBJECT,
                    required=["sku", "quantity"],
                    additional_properties=False,
                    properties={
                        "sku": sku,
                        "quantity": apigw.JsonSchema(
                            type=apigw.JsonSchemaType.INTEGER, minimum=1, maximum=100
                        ),
                    },
                ),
            ),
        },
    )


ORDER_SCHEMA = order_schema()


class OrdersServiceStack(Stack):
    """An orders microservice: the caller waits for the stored order."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope, construct_id, description="serverless-patterns: SyncApi reference (orders)"
        )
        orders = SyncApi(
            self,
            "Orders",
            code=asset_code(str(HANDLERS / "orders")),
            service_name="orders",
            function_options=lambda_.FunctionOptions(
                layers=[rest_json_layer(self), orders_layer(self)]
            ),
            table_props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
                global_secondary_indexes=[
                    dynamodb.GlobalSecondaryIndexPropsV2(
                        index_name="by_customer",
                        partition_key=dynamodb.Attribute(
                            name="customer_id", type=dynamodb.AttributeType.STRING
                        ),
                        sort_key=dynamodb.Attribute(
                            name="created_at", type=dynamodb.AttributeType.STRING
                        ),
                    )
                ],
            ),
            routes=[
                Route("POST", "/orders", request_schema=ORDER_SCHEMA),
                Route("GET", "/orders"),
                Route("GET", "/orders/{order_id}"),
            ],
        )
        CfnOutput(self, "ApiUrl", value=orders.api.url)
        # Every alarm tells someone: subscribe the on-call address to the operations topic,
        # or pass a platform team's own topic to notify_every_alarm instead.
        notify_every_alarm(self, operations_topic(self))
