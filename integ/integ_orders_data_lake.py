"""OrdersDataLake (orders to the data lake): a write to the orders table becomes an event that
updates the order history and lands in S3; an invalid order ends in the pipe's DLQ.

Covered: an ``ORDER#`` item written with ``PutItem`` (as the ordering service writes it)
reaches the order-history table through the pipe, the bus and the order-history rule; the
same change is copied by Firehose to the data-lake bucket under ``data/year=...`` (after
Firehose's 5-minute buffer); an order with an unknown status fails the enrichment, is retried,
then described in the pipe's dead-letter queue, whose alarm fires. Not covered: the filter
(an ``IDEMPOTENCY#`` item would have to be shown never to arrive) and the archive.
"""

from aws_cdk import App, Duration
from aws_cdk.integ_tests_alpha import ExpectedResult, Match

from integ import harness

#: Firehose writes an object when its 5-minute buffer (or 5 MiB) fills.
HOURLY_OBJECT = r"^data/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/.+\.gz$"
BUFFERED = {"interval": Duration.minutes(1), "total_timeout": Duration.minutes(15)}


def order_item(order_id: str, status: str) -> dict[str, object]:
    return {
        "pk": {"S": f"ORDER#{order_id}"},
        "order_id": {"S": order_id},
        "customer_id": {"S": "integ-customer"},
        "status": {"S": status},
        "total_cents": {"N": "4200"},
        "items": {"L": [{"M": {"sku": {"S": "book-42"}, "quantity": {"N": "2"}}}]},
    }


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "OrdersDataLake")
    changes = test.part("OrderChanges")
    written = test.assertions.aws_api_call(
        "DynamoDB",
        "putItem",
        {"TableName": changes.table.table_name, "Item": order_item("integ-1", "PLACED")},
    )
    history = test.assertions.aws_api_call(
        "DynamoDB",
        "getItem",
        {
            "TableName": test.part("OrderHistoryTable").table_name,
            "Key": {"customer_id": {"S": "integ-customer"}, "order_id": {"S": "integ-1"}},
        },
    )
    test.eventually(history, ExpectedResult.object_like({"Item": {"status": {"S": "PLACED"}}}))
    copied = test.assertions.aws_api_call(
        "S3",
        "listObjectsV2",
        {"Bucket": test.part("DataLakeBucket").bucket_name, "Prefix": "data/year="},
    )
    test.eventually(
        copied,
        ExpectedResult.object_like(
            {"Contents": Match.array_with([{"Key": Match.string_like_regexp(HOURLY_OBJECT)}])}
        ),
        **BUFFERED,
    )
    written.next(history).next(copied)

    poison = test.assertions.aws_api_call(
        "DynamoDB",
        "putItem",
        {"TableName": changes.table.table_name, "Item": order_item("integ-2", "LOST")},
    )
    test.dead_lettered_and_alarmed(poison, changes.dead_letter_queue, changes.alarms[0])
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
