"""The orders table's changes in moto, deployed from the OrdersDataLake template: what the
pipe puts on the bus, what it dead-letters, and the order-history store it feeds.

The pipe runs as tests/support/emulation/pipes.py describes (each rule named there): the
DynamoDB stream read as ``PipeSourceDynamoDBStreamParameters`` say, the ``FilterCriteria``
matched as "Event filtering in Amazon EventBridge Pipes" says, the enrichment invoked with
the batch, the ``InputTemplate`` rendered as "Amazon EventBridge Pipes input transformation"
says, one PutEvents entry per change; moto's rules then route the events.
"""

import copy
import gzip
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.support.emulation import Emulation, Invocation, plain, receive_all, receive_bodies
from tests.support.emulation.intrinsics import ACCOUNT, REGION
from tests.support.emulation.streams import STREAMS_ENDPOINT

PIPE = "OrderChangesPipe"
started = datetime.now(UTC)
ORDERS = "OrderChangesTable"
HISTORY = "OrderHistoryTable"


def order(order_id: str, **changes: Any) -> dict[str, Any]:
    """An order item as the ordering service writes it."""
    return {
        "pk": f"ORDER#{order_id}",
        "order_id": order_id,
        "customer_id": "c-1",
        "status": "PLACED",
        "total_cents": 4200,
        "items": [{"sku": "book-42", "quantity": 2}, {"sku": "pen-7", "quantity": 1}],
        **changes,
    }


@pytest.fixture
def lake(emulate: Callable[[str], Emulation]) -> Emulation:
    return emulate("OrdersDataLake")


def inbox(lake: Emulation) -> str:
    """A queue receiving every ``shop.orders`` event of the bus: what a consumer would see."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    bus = lake.ref("OrderEventsBus")
    events.put_rule(Name="inbox", EventBusName=bus, EventPattern='{"source": ["shop.orders"]}')
    events.put_targets(
        Rule="inbox",
        EventBusName=bus,
        Targets=[{"Id": "inbox", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"}],
    )
    return url


def stream_records(lake: Emulation) -> list[dict[str, Any]]:
    """Every record of the orders table's stream, read afresh from its start."""
    client = boto3.client("dynamodbstreams", endpoint_url=STREAMS_ENDPOINT)
    arn = lake.resolve.get_att(lake.logical_id(ORDERS), "StreamArn")
    [shard] = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return client.get_records(ShardIterator=iterator)["Records"]


def invocations(lake: Emulation, function: str) -> list[Invocation]:
    logical_id = lake.logical_id(function, "AWS::Lambda::Function")
    return [call for call in lake.invocations if call.function == logical_id]


def test_each_order_change_arrives_on_the_bus_with_the_documented_shape(lake: Emulation) -> None:
    """INSERT, MODIFY and REMOVE of an order each become one event; the ordering service's
    idempotency record (pk ``IDEMPOTENCY#...``) matches no filter and becomes none. The
    data-lake rule copies each event, as published, to S3."""
    received = inbox(lake)
    orders = lake.table(ORDERS)
    orders.put_item(Item=order("o-1"))
    orders.put_item(Item={"pk": "IDEMPOTENCY#r-1", "response": "{}"})
    orders.put_item(Item=order("o-1", status="PAID"))
    orders.delete_item(Key={"pk": "ORDER#o-1"})

    lake.pipe(PIPE).run()

    events = receive_bodies(received)
    records = [r for r in stream_records(lake) if r["dynamodb"]["Keys"]["pk"]["S"] == "ORDER#o-1"]
    assert [(e["source"], e["detail-type"]) for e in events] == [
        ("shop.orders", "INSERT"),
        ("shop.orders", "MODIFY"),
        ("shop.orders", "REMOVE"),
    ]
    stream_arn = lake.resolve.get_att(lake.logical_id(ORDERS), "StreamArn")
    placed = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "status": "PLACED",
        "total_cents": 4200,
        "items": [{"sku": "book-42", "quantity": 2}, {"sku": "pen-7", "quantity": 1}],
    }
    paid = {**placed, "status": "PAID"}
    for event, record in zip(events, records, strict=True):
        detail = event["detail"]
        assert set(detail) == {"eventId", "eventName", "eventSourceArn", "dynamodb", "enrichment"}
        assert detail["eventId"] == record["eventID"]
        assert detail["eventName"] == event["detail-type"]
        assert detail["eventSourceArn"] == stream_arn
        assert detail["dynamodb"]["Keys"] == {"pk": {"S": "ORDER#o-1"}}
        assert detail["dynamodb"]["SequenceNumber"] == record["dynamodb"]["SequenceNumber"]
        assert detail["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    insert, modify, remove = (event["detail"] for event in events)
    assert "OldImage" not in insert["dynamodb"]
    assert insert["dynamodb"]["NewImage"]["status"] == {"S": "PLACED"}
    assert insert["dynamodb"]["NewImage"]["total_cents"] == {"N": "4200"}
    assert insert["enrichment"] == {
        "order": {"pk": "ORDER#o-1", **placed},
        "previous": None,
        "units": 3,
    }
    assert modify["dynamodb"]["OldImage"]["status"] == {"S": "PLACED"}
    assert modify["dynamodb"]["NewImage"]["status"] == {"S": "PAID"}
    assert modify["enrichment"] == {
        "order": {"pk": "ORDER#o-1", **paid},
        "previous": {"pk": "ORDER#o-1", **placed},
        "units": 3,
    }
    assert "NewImage" not in remove["dynamodb"]
    assert remove["enrichment"] == {
        "order": None,
        "previous": {"pk": "ORDER#o-1", **paid},
        "units": 3,
    }
    assert lake.pipe(PIPE).run() == 0  # nothing is published twice
    assert copied_to_the_lake(lake) == events


def copied_to_the_lake(lake: Emulation) -> list[dict[str, Any]]:
    """The events the data-lake rule delivered to Firehose, read back from S3: each under
    ``data/year=/month=/day=/hour=`` of its arrival (core/firehose.py's prefix, "Custom
    prefixes for Amazon S3 objects", firehose/latest/dev/s3-prefixes.html), GZIP-compressed,
    one event per line (AppendDelimiterToRecord; firehose/latest/dev/basic-deliver.html)."""
    s3 = boto3.client("s3")
    bucket = lake.ref("DataLakeBucket")
    hours = {f"{t:year=%Y/month=%m/day=%d/hour=%H/}" for t in (started, datetime.now(UTC))}
    copied = []
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        folder, _, name = listed["Key"].rpartition("/")
        assert folder.startswith("data/") and f"{folder.removeprefix('data/')}/" in hours
        assert name.endswith(".gz")
        body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
        text = gzip.decompress(body).decode()
        assert text.endswith("\n")
        copied.extend(json.loads(line) for line in text.splitlines())
    return sorted(copied, key=lambda event: event["detail"]["dynamodb"]["SequenceNumber"])


def test_an_invalid_order_ends_in_the_dead_letter_queue_and_the_others_are_published(
    lake: Emulation,
) -> None:
    """The enrichment raises for an order with an unknown status: the pipe halves the batch
    (AUTOMATIC_BISECT) until that change is alone, retries it 10 times, then describes it in
    its DLQ; the changes before and after it are published."""
    received = inbox(lake)
    orders = lake.table(ORDERS)
    for each in (order("o-1"), order("o-2", status="LOST"), order("o-3")):
        orders.put_item(Item=each)

    lake.pipe(PIPE).run()

    events = receive_bodies(received)
    assert [e["detail"]["enrichment"]["order"]["order_id"] for e in events] == ["o-1", "o-3"]
    with_o2 = [
        call
        for call in invocations(lake, "OrderChanges/Enrichment")
        if any(r["dynamodb"]["Keys"]["pk"]["S"] == "ORDER#o-2" for r in call.event)
    ]
    # the batch of 3, the half [o-2, o-3], then o-2 alone: once and 10 retries
    assert len(with_o2) == 1 + 1 + 1 + 10
    assert {call.outcome for call in with_o2} == {"InvalidChange"}
    [poisoned] = [
        r for r in stream_records(lake) if r["dynamodb"]["Keys"]["pk"]["S"] == "ORDER#o-2"
    ]
    [message] = receive_all(
        lake.resolve.ref(lake.logical_id("OrderChanges/DeadLetterQueue", "AWS::SQS::Queue"))
    )
    body = json.loads(message["Body"])
    pipe_id = lake.logical_id(PIPE, "AWS::Pipes::Pipe")
    assert body["context"] == {
        "partnerResourceArn": f"arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/{pipe_id}",
        "condition": "RetryAttemptsExhausted",
    }
    assert body["version"] == "1.0"
    info = body["DDBStreamBatchInfo"]
    sequence = poisoned["dynamodb"]["SequenceNumber"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (sequence, sequence)
    assert info["batchSize"] == 1
    assert info["streamArn"] == lake.resolve.get_att(lake.logical_id(ORDERS), "StreamArn")

    enrichment = lake.function("OrderChanges/Enrichment")
    with pytest.raises(Exception, match="expected the pipe's batch: a list") as raised:
        enrichment.invoke({"Records": []})  # a Lambda stream event is not a pipe's batch
    assert type(raised.value).__name__ == "InvalidChange"


def test_the_order_history_converges_and_ignores_an_older_change(lake: Emulation) -> None:
    """Placed, paid, shipped: the history ends shipped, at the last change's sequence number.
    The "paid" event delivered again after "shipped" (EventBridge delivers at least once, in
    no order) changes nothing."""
    orders = lake.table(ORDERS)
    for status in ("PLACED", "PAID", "SHIPPED"):
        orders.put_item(Item=order("o-1", status=status))
    orders.put_item(Item=order("o-2"))
    orders.delete_item(Key={"pk": "ORDER#o-2"})

    lake.pipe(PIPE).run()

    sequences = {
        (
            r["eventName"],
            r["dynamodb"].get("NewImage", {}).get("status", {}).get("S"),
            r["dynamodb"]["Keys"]["pk"]["S"],
        ): int(r["dynamodb"]["SequenceNumber"])
        for r in stream_records(lake)
    }
    history = {item["order_id"]: item for item in lake.items(HISTORY)}
    shipped = history["o-1"]
    assert (
        shipped["customer_id"],
        shipped["status"],
        shipped["total_cents"],
        shipped["units"],
    ) == ("c-1", "SHIPPED", 4200, 3)
    assert shipped["sequence"] == sequences["MODIFY", "SHIPPED", "ORDER#o-1"]
    assert shipped["deleted"] is False
    assert history["o-2"]["deleted"] is True
    assert history["o-2"]["sequence"] == sequences["REMOVE", None, "ORDER#o-2"]

    consumer = lake.function("OrderHistory")
    [paid_event] = [
        call.event
        for call in invocations(lake, "OrderHistory")
        if call.event["detail"]["enrichment"]["order"]
        and call.event["detail"]["enrichment"]["order"]["status"] == "PAID"
    ]
    assert consumer.invoke(paid_event) == {"order_id": "o-1", "applied": False}
    assert (
        plain(lake.table(HISTORY).get_item(Key={"customer_id": "c-1", "order_id": "o-1"})["Item"])[
            "status"
        ]
        == "SHIPPED"
    )

    with pytest.raises(
        Exception, match=re.escape("expected an order change from 'shop.orders'")
    ) as raised:
        consumer.invoke({**paid_event, "source": "shop.payments"})
    assert type(raised.value).__name__ == "InvalidEvent"
    truncated = copy.deepcopy(paid_event)
    truncated["detail"]["enrichment"]["order"] = {"order_id": "o-1"}
    with pytest.raises(
        Exception,
        match=re.escape(
            "detail.enrichment.order must hold customer_id, order_id, status, total_cents"
        ),
    ):
        consumer.invoke(truncated)
