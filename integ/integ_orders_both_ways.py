"""Orders both ways: an order placed through the SyncApi (201) and one through the AsyncApi
(202, then ``succeeded`` with the stored order).

Covered: a signed ``POST /orders`` on each API; the async job polled on ``GET /orders/{job_id}``
until ``succeeded`` with the placed order as its result; the orders table holds that order
(without a client token its id is the job id). Not covered: the WebSocket message (the
assertion functions cannot hold a WebSocket connection open; see ``integ_async_api.py``).
"""

from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult

from integ import harness

ORDER = {"customer_id": "integ-customer", "items": [{"sku": "book-42", "quantity": 1}]}


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "OrdersBothWays")
    sync, async_ = test.part("SyncOrders"), test.part("AsyncOrders")

    placed = test.call_api(sync.api, "POST", "/orders", ORDER)
    placed.expect(harness.answered(201, {"status": "PLACED", "customer_id": "integ-customer"}))

    accepted = test.call_api(async_.api, "POST", "/orders", ORDER)
    accepted.assert_at_path("Payload.body.status", ExpectedResult.string_like_regexp("^pending$"))
    job_id = accepted.get_att_string("Payload.body.job_id")
    succeeded = test.eventually(
        test.call_api(async_.api, "GET", f"/orders/{job_id}"),
        harness.answered(200, {"job_id": job_id, "status": "succeeded", "result": {"id": job_id}}),
    )
    stored = test.assertions.aws_api_call(
        "DynamoDB",
        "getItem",
        {"TableName": test.part("Orders").table_name, "Key": {"id": {"S": job_id}}},
    )
    stored.expect(ExpectedResult.object_like({"Item": {"status": {"S": "PLACED"}}}))
    placed.next(accepted).next(succeeded).next(stored)
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
