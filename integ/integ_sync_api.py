"""SyncApi (orders service): an order created, read back and stored; unsigned callers refused.

Covered: a signed ``POST /orders`` answers the stored order (``PLACED``); a signed
``GET /orders/{id}`` answers it; the orders table holds it; an unsigned request gets 403 (the
methods use IAM authorization). Not covered: the list route and its paging.
"""

from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult

from integ import harness

ORDER = {"customer_id": "integ-customer", "items": [{"sku": "book-42", "quantity": 2}]}


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "SyncApi")
    orders = test.part("Orders")

    test.assertions.http_api_call(orders.api.url_for_path("/orders")).expect(
        ExpectedResult.object_like({"status": 403})
    )
    created = test.call_api(orders.api, "POST", "/orders", ORDER)
    created.assert_at_path("Payload.body.status", ExpectedResult.string_like_regexp("^PLACED$"))
    order_id = created.get_att_string("Payload.body.id")
    read = test.call_api(orders.api, "GET", f"/orders/{order_id}")
    read.expect(harness.answered(200, {"id": order_id, "customer_id": ORDER["customer_id"]}))
    stored = test.assertions.aws_api_call(
        "DynamoDB",
        "getItem",
        {"TableName": orders.table.table_name, "Key": {"id": {"S": order_id}}},
    )
    stored.expect(ExpectedResult.object_like({"Item": {"id": {"S": order_id}}}))
    created.next(read).next(stored)
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
