"""OrderSaga: the documented order completes; a declined payment is compensated.

Covered: the stock the catalog page loads first (``python -m examples.seed_inventory``, the
same update here as an assertion call); the documented ``OrderPlaced`` event put on the
default bus starts the saga, which records, reserves, charges, ships and confirms the order
(``CONFIRMED``, shipment ``CREATED``); the same event with a declined card ends with the
order ``CANCELLED`` and its stock released (of 10 units, only the confirmed order's 2 stay
taken).
"""

import json

from aws_cdk import App
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.integ_tests_alpha import ExpectedResult

from examples.saga_stack import EXAMPLE_ORDER
from examples.seed_inventory import STOCK
from integ import harness

PAID = {**EXAMPLE_ORDER, "order_id": "integ-paid"}
DECLINED = {**EXAMPLE_ORDER, "order_id": "integ-declined", "payment_token": "tok_declined"}


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "OrderSaga")
    inventory, orders = test.part("Inventory"), test.part("Orders")

    seeded = None
    for sku, available in STOCK.items():
        seed = test.assertions.aws_api_call(
            "DynamoDB",
            "updateItem",
            {
                "TableName": inventory.table_name,
                "Key": {"sku": {"S": sku}},
                "UpdateExpression": "SET available = :available",
                "ExpressionAttributeValues": {":available": {"N": str(available)}},
            },
        )
        seeded = seed if seeded is None else seeded.next(seed)
    assert seeded is not None
    placed = test.assertions.aws_api_call(
        "EventBridge",
        "putEvents",
        {
            "Entries": [
                {
                    "Source": "com.example.orders",
                    "DetailType": "OrderPlaced",
                    "Detail": json.dumps(o),
                }
                for o in (PAID, DECLINED)
            ]
        },
    )
    placed.expect(ExpectedResult.object_like({"FailedEntryCount": 0}))

    def item(
        table: dynamodb.ITable, key: dict[str, str], expected: dict[str, object]
    ) -> harness.IApiCall:
        call = test.assertions.aws_api_call(
            "DynamoDB",
            "getItem",
            {
                "TableName": table.table_name,
                "Key": {name: {"S": value} for name, value in key.items()},
                "ConsistentRead": True,
            },
        )
        return test.eventually(call, ExpectedResult.object_like({"Item": expected}))

    confirmed = item(orders, {"order_id": "integ-paid"}, {"status": {"S": "CONFIRMED"}})
    shipped = item(test.part("Shipments"), {"order_id": "integ-paid"}, {"status": {"S": "CREATED"}})
    cancelled = item(orders, {"order_id": "integ-declined"}, {"status": {"S": "CANCELLED"}})
    left = STOCK[EXAMPLE_ORDER["sku"]] - EXAMPLE_ORDER["quantity"]
    released = item(inventory, {"sku": EXAMPLE_ORDER["sku"]}, {"available": {"N": str(left)}})
    seeded.next(placed).next(confirmed).next(shipped).next(cancelled).next(released)
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
