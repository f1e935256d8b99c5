"""The order-event handlers with real event shapes: what they do, and what they refuse."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from tests.support.emulation import Deployed, Emulation
from tests.support.events import LambdaContext, sns_event, sqs_event

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:order-events"
ORDER = {
    "id": "o-1",
    "customer_id": "c-1",
    "total": 120.5,
    "currency": "EUR",
    "delivery": "express",
    "items": [{"sku": "book-42", "quantity": 2}],
}


def placed(**order: Any) -> dict[str, Any]:
    return {"event_type": "OrderPlaced", "order": {**ORDER, **order}}


def envelope(message: Any, message_id: str = "5e2f-1") -> dict[str, Any]:
    """SNS's JSON envelope, as a queue without raw delivery receives it."""
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC_ARN,
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": "2026-11-02T10:00:00.000Z",
        "SignatureVersion": "1",
        "MessageAttributes": {"event_type": {"Type": "String", "Value": "OrderPlaced"}},
    }


@pytest.fixture
def queue(aws: None) -> Iterator[str]:
    yield boto3.client("sqs").create_queue(QueueName="orders")["QueueUrl"]


def batch(queue_url: str, bodies: list[str]) -> tuple[dict[str, Any], list[str]]:
    """An SQS event holding ``bodies`` (sent and received through moto), and their ids."""
    sqs = boto3.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )["Messages"]
    by_body = {m["Body"]: m for m in messages}
    ordered = [by_body[body] for body in bodies]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return sqs_event(ordered, arn["Attributes"]["QueueArn"]), [m["MessageId"] for m in ordered]


@pytest.fixture
def deployment(emulate: Callable[[str], Emulation]) -> Emulation:
    """The FanOut stack: each handler is its deployed function (``handler`` invokes it)."""
    return emulate("FanOut")


# --- billing ----------------------------------------------------------------------------------


@pytest.fixture
def billing(deployment: Emulation) -> Deployed:
    return Deployed(deployment.function("OrderEvents/billing/Consumer"))


def test_billing_charges_placed_orders_keyed_by_the_sns_message_id(billing: Deployed) -> None:
    assert billing.billing_entry(envelope(placed(), "m-42")) == {
        "action": "charge",
        "order_id": "o-1",
        "customer_id": "c-1",
        "amount": "120.50",
        "currency": "EUR",
        "idempotency_key": "m-42",
    }
    cancelled = {**placed(), "event_type": "OrderCancelled"}
    assert billing.billing_entry(envelope(cancelled))["action"] == "refund"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**envelope(placed()), "MessageId": ""}, "no MessageId"),
        (envelope("{not json"), "the SNS message is not JSON"),
        (envelope([1, 2]), "the SNS message is not a JSON object"),
        (envelope({**placed(), "event_type": "OrderShipped"}), "event_type must be one of"),
        (envelope({"event_type": "OrderPlaced", "order": "o-1"}), "order must be an object"),
        (envelope(placed(customer_id="")), "order.customer_id must be a string"),
        (envelope(placed(total="120")), "order.total must be a number"),
        (envelope(placed(total=True)), "order.total must be a number"),
        (envelope(placed(total=-1)), "order.total must be between 0"),
        (envelope(placed(total=2_000_000)), "order.total must be between 0"),
        (
            envelope(
                '{"event_type": "OrderPlaced", "order": {"id": "o", "customer_id": "c", '
                '"total": NaN}}'
            ),
            "order.total must be a finite number",
        ),
        (envelope(placed(currency="euro")), "order.currency must be an ISO 4217 code"),
    ],
)
def test_billing_refuses_what_it_cannot_bill(
    billing: Deployed, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(billing.InvalidOrderEvent, match=message):
        billing.billing_entry(body)


def test_billing_reports_exactly_the_failed_messages_of_a_batch(
    billing: Deployed, queue: str
) -> None:
    bodies = [
        json.dumps(envelope(placed(id="o-1"), "m-1")),
        "not json at all",
        json.dumps(envelope(placed(id="o-3", currency="??"), "m-3")),
        json.dumps(envelope(placed(id="o-4"), "m-4")),
    ]
    event, ids = batch(queue, bodies)
    response = billing.handler(event, LambdaContext())
    assert response == {
        "batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]
    }
    billed = [record["messageId"] for record in billing.processor.success_messages]
    assert billed == [ids[0], ids[3]]


# --- shipping ---------------------------------------------------------------------------------


@pytest.fixture
def shipping(deployment: Emulation) -> Deployed:
    return Deployed(deployment.function("OrderEvents/shipping/Consumer"))


def test_shipping_creates_and_cancels_shipments(shipping: Deployed) -> None:
    assert shipping.shipping_request(json.dumps(placed())) == {
        "action": "create_shipment",
        "order_id": "o-1",
        "delivery": "express",
        "items": [{"sku": "book-42", "quantity": 2}],
    }
    cancelled = {"event_type": "OrderCancelled", "order": {"id": "o-1", "delivery": "standard"}}
    assert shipping.shipping_request(json.dumps(cancelled)) == {
        "action": "cancel_shipment",
        "order_id": "o-1",
    }


SKU_RULE = "order.items[0].sku must be a string of 1 to 64 characters"
QUANTITY_RULE = "order.items[0].quantity must be an integer from 1 to 100"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"event_type": "OrderPlaced"}), "a JSON object with an order"),
        (json.dumps({**placed(), "event_type": "OrderPaid"}), "event_type must be one of"),
        (json.dumps(placed(id="")), "order.id must be a non-empty string"),
        (json.dumps(placed(delivery="download")), "order.delivery must be one of"),
        (json.dumps(placed(items=[])), "order.items must be a list of 1 to 50"),
        (json.dumps(placed(items=[{"sku": "", "quantity": 1}])), SKU_RULE),
        (json.dumps(placed(items=[{"sku": "x" * 65, "quantity": 1}])), SKU_RULE),
        (json.dumps(placed(items=[{"sku": "a", "quantity": 101}])), QUANTITY_RULE),
        (json.dumps(placed(items=[{"sku": "a", "quantity": 1.5}])), QUANTITY_RULE),
    ],
)
def test_shipping_refuses_what_it_cannot_ship(shipping: Deployed, body: str, message: str) -> None:
    with pytest.raises(shipping.InvalidOrderEvent) as error:
        shipping.shipping_request(body)
    assert message in str(error.value)


def test_shipping_fails_the_whole_batch_when_nothing_can_be_shipped(
    shipping: Deployed, queue: str
) -> None:
    event, _ = batch(queue, ["{not json", json.dumps(placed(items=[]))])
    # Powertools raises when every record failed: Lambda returns the whole batch to the queue.
    with pytest.raises(Exception, match="All records failed"):
        shipping.handler(event, LambdaContext())


# --- analytics --------------------------------------------------------------------------------


@pytest.fixture
def analytics(deployment: Emulation) -> Deployed:
    return Deployed(deployment.function("OrderEvents/analytics/Function"))


def test_analytics_counts_a_high_value_order(
    analytics: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    event = sns_event(envelope(placed(total=1500)), f"{TOPIC_ARN}:sub-1")
    assert analytics.handler(event, LambdaContext()) == {"high_value_orders": 1}
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf["HighValueOrders"] == [1.0]


# The handler raises before any metric: Powertools warns that it has nothing to publish.
@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("{not json", "not JSON"),
        ({**placed(total=5000), "event_type": "OrderCancelled"}, "expected an OrderPlaced event"),
        (placed(id=None), "order.id must be a string"),
        (placed(total=999.99), "order.total must be a number of at least 1000"),
        (placed(total="5000"), "order.total must be a number of at least 1000"),
        (
            '{"event_type": "OrderPlaced", "order": {"id": "o", "total": NaN}}',
            "order.total must be a number of at least 1000",
        ),
    ],
)
def test_analytics_raises_on_what_is_not_a_high_value_order(
    analytics: Deployed, message: Any, error: str
) -> None:
    # Raising makes Lambda retry twice, then send the event to the subscriber's DLQ.
    event = sns_event(envelope(message), f"{TOPIC_ARN}:sub-1")
    with pytest.raises(analytics.InvalidOrderEvent, match=error):
        analytics.handler(event, LambdaContext())
