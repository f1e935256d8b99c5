"""Order saga: record the order, reserve stock, charge, create the shipment, confirm.

Every order placed (an ``OrderPlaced`` event, :data:`EXAMPLE_ORDER` as its detail) starts
one execution with the event's detail as input. The only data to load first is the stock
(``python -m examples.seed_inventory OrderSaga``); the saga records the order itself.

A step that only writes a table is a direct DynamoDB integration (no Lambda to run, pay for
or patch); the payment, which holds business logic, is a Lambda function. When a step fails,
the steps done so far are undone in reverse order: the shipment is cancelled, the payment
refunded, the stock released, the order marked cancelled.

Once per order: the first step claims the order id (a conditional put), so the same event
delivered twice, or redriven after the saga compensated, ends at once with nothing done.
"""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct
from serverless_patterns import TRANSIENT_ERRORS, Saga, SagaStep, TableAccess
from serverless_patterns.core.alarms import notify_every_alarm, operations_topic
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.functions import asset_code, python_function
from serverless_patterns.core.tables import grant, table

from examples.seed_inventory import INVENTORY_OUTPUT

HANDLERS = Path(__file__).parent / "handlers"
ORDER_EVENTS = events.EventPattern(source=["com.example.orders"], detail_type=["OrderPlaced"])
#: The detail of a documented ``OrderPlaced`` event (the catalog page sends it).
EXAMPLE_ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "sku": "book-42",
    "quantity": 2,
    "amount_cents": 4200,
    "payment_token": "tok_visa",
    "shipping_address": "1 Main St, Springfield",
}
ORDER_FIELDS = (
    "order_id",
    "customer_id",
    "sku",
    "quantity",
    "amount_cents",
    "payment_token",
    "shipping_address",
)


def key(name: str, path: str) -> dict[str, tasks.DynamoAttributeValue]:
    return {name: tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at(path))}


def text(value: str) -> tasks.DynamoAttributeValue:
    return tasks.DynamoAttributeValue.from_string(value)


def number(path: str) -> tasks.DynamoAttributeValue:
    """The input's number at ``path`` as a DynamoDB number (which DynamoDB wants as text)."""
    return tasks.DynamoAttributeValue.number_from_string(
        sfn.JsonPath.json_to_string(sfn.JsonPath.number_at(path))
    )


QUANTITY = number("$.quantity")
#: The stock item's attribute that holds one order's reservation: ``reserved_<order id>``.
RESERVATION = {
    "#reservation": sfn.JsonPath.format("reserved_{}", sfn.JsonPath.string_at("$.order_id"))
}


class OrderSagaStack(Stack):
    """Orders fulfilled by a saga across the inventory, payment, shipping and order services."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope, construct_id, description="serverless-patterns: Saga reference (order saga)"
        )
        inventory = table(
            self,
            "Inventory",
            props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(name="sku", type=dynamodb.AttributeType.STRING)
            ),
        )
        by_order = dynamodb.TablePropsV2(
            partition_key=dynamodb.Attribute(name="order_id", type=dynamodb.AttributeType.STRING)
        )
        payments = table(self, "Payments", props=by_order)
        shipments = table(self, "Shipments", props=by_order)
        orders = table(self, "Orders", props=by_order)

        payment_function = python_function(
            self,
            "PaymentFunction",
            code=asset_code(str(HANDLERS / "payment")),
            handler="app.handler",
            service_name="payments",
            environment={"PAYMENTS_TABLE": payments.table_name},
        )
        grant(payments, payment_function, TableAccess.READ_WRITE)
        justify(payment_function, "invoked-synchronously")

        # The claim: the order is recorded once. A second execution for the same order (a
        # duplicate or redriven event) fails this condition and ends as a duplicate.
        record_order = tasks.DynamoPutItem(
            self,
            "RecordOrder",
            table=orders,
            item={
                "order_id": text(sfn.JsonPath.string_at("$.order_id")),
                "status": text("PENDING"),
                "customer_id": text(sfn.JsonPath.string_at("$.customer_id")),
                "sku": text(sfn.JsonPath.string_at("$.sku")),
                "quantity": QUANTITY,
                "amount_cents": number("$.amount_cents"),
            },
            condition_expression="attribute_not_exists(order_id)",
        )
        # Also when the customer cancelled meanwhile (then it changes nothing); never after
        # the order was confirmed.
        cancel_order = tasks.DynamoUpdateItem(
            self,
            "CancelOrder",
            table=orders,
            key=key("order_id", "$.order_id"),
            update_expression="SET #status = :cancelled",
            condition_expression="#status IN (:pending, :cancelled)",
            expression_attribute_names={"#status": "status"},
            expression_attribute_values={
                ":cancelled": text("CANCELLED"),
                ":pending": text("PENDING"),
            },
        )

        # Stock: `available` counts what can be sold (the only attribute to load); each
        # order's reservation is its own attribute, so it is made once and released once.
        reserve = tasks.DynamoUpdateItem(
            self,
            "ReserveInventory",
            table=inventory,
            key=key("sku", "$.sku"),
            update_expression="SET available = available - :quantity, #reservation = :quantity",
            condition_expression="available >= :quantity AND attribute_not_exists(#reservation)",
            expression_attribute_names=RESERVATION,
            expression_attribute_values={":quantity": QUANTITY},
        )
        release = tasks.DynamoUpdateItem(
            self,
            "ReleaseInventory",
            table=inventory,
            key=key("sku", "$.sku"),
            update_expression="SET available = available + :quantity REMOVE #reservation",
            condition_expression="attribute_exists(#reservation)",
            expression_attribute_names=RESERVATION,
            expression_attribute_values={":quantity": QUANTITY},
        )

        def payment(construct_id: str, operation: str, **fields: str) -> tasks.LambdaInvoke:
            return tasks.LambdaInvoke(
                self,
                construct_id,
                lambda_function=payment_function,
                payload=sfn.TaskInput.from_object(
                    {
                        "operation": operation,
                        **{name: sfn.JsonPath.string_at(path) for name, path in fields.items()},
                    }
                ),
                result_selector={"payment": sfn.JsonPath.object_at("$.Payload")},
                retry_on_service_exceptions=False,  # the saga's retry policy applies
            )

        charge = payment(
            "ChargePayment",
            "charge",
            order_id="$.order_id",
            customer_id="$.customer_id",
            amount_cents="$.amount_cents",
            payment_token="$.payment_token",
        )
        refund = payment("RefundPayment", "refund", order_id="$.order_id")

        create_shipment = tasks.DynamoPutItem(
            self,
            "CreateShipment",
            table=shipments,
            item={
                "order_id": text(sfn.JsonPath.string_at("$.order_id")),
                "sku": text(sfn.JsonPath.string_at("$.sku")),
                "quantity": QUANTITY,
                "address": text(sfn.JsonPath.string_at("$.shipping_address")),
                "status": text("CREATED"),
            },
            condition_expression="attribute_not_exists(order_id)",
        )
        cancel_shipment = tasks.DynamoUpdateItem(
            self,
            "CancelShipment",
            table=shipments,
            key=key("order_id", "$.order_id"),
            update_expression="SET #status = :cancelled",
            condition_expression="attribute_exists(order_id)",
            expression_attribute_names={"#status": "status"},
            expression_attribute_values={":cancelled": text("CANCELLED")},
        )
        # The point of no return: fails if the customer cancelled the order meanwhile.
        confirm = tasks.DynamoUpdateItem(
            self,
            "ConfirmOrder",
            table=orders,
            key=key("order_id", "$.order_id"),
            update_expression="SET #status = :confirmed",
            condition_expression="#status = :pending",
            expression_attribute_names={"#status": "status"},
            expression_attribute_values={
                ":confirmed": text("CONFIRMED"),
                ":pending": text("PENDING"),
            },
        )

        saga = Saga(
            self,
            "OrderSaga",
            steps=[
                SagaStep("RecordOrder", action=record_order, compensation=cancel_order),
                SagaStep("ReserveInventory", action=reserve, compensation=release),
                SagaStep(
                    "ChargePayment",
                    action=charge,
                    compensation=refund,
                    # The provider's outage is transient too; a charge is safe to repeat.
                    retry=sfn.RetryProps(errors=[*TRANSIENT_ERRORS, "PaymentProviderUnavailable"]),
                    # A charge that timed out may have gone through: refund is a no-op if not.
                    compensate_on_failure=True,
                ),
                SagaStep("CreateShipment", action=create_shipment, compensation=cancel_shipment),
                SagaStep("ConfirmOrder", action=confirm),
            ],
            # Every path a step reads: an order missing one is refused before any step runs.
            required_input=[f"$.{field}" for field in ORDER_FIELDS],
            # EventBridge cannot name the execution after the order: the claim makes it once.
            duplicate_errors=["DynamoDB.ConditionalCheckFailedException"],
            trigger_pattern=ORDER_EVENTS,
            trigger_input=events.RuleTargetInput.from_event_path("$.detail"),
        )
        CfnOutput(self, "StateMachineArn", value=saga.state_machine.state_machine_arn)
        CfnOutput(self, INVENTORY_OUTPUT, value=inventory.table_name)
        CfnOutput(self, "OrdersTableName", value=orders.table_name)
        # Every alarm tells someone: subscribe the on-call address to the operations topic,
        # or pass a platform team's own topic to notify_every_alarm instead.
        notify_every_alarm(self, operations_topic(self))
