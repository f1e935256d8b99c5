"""Order events through moto SNS/SQS, deployed from the FanOut template: who receives what.

The analytics subscriber is a Lambda subscription: SNS invokes the function itself
(tests/support/emulation).
"""

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_cdk import Stack
from aws_cdk import aws_sns as sns
from serverless_patterns import FanOut, QueueSubscriber

from tests.support.cdk import synth_variants
from tests.support.emulation import Emulation, receive_all

PLACED = {"event_type": sns.SubscriptionFilter.string_filter(allowlist=["OrderPlaced"])}


def order_event(
    order_id: str,
    event_type: str = "OrderPlaced",
    *,
    total: Any = 120.0,
    delivery: str = "standard",
    items: Any = None,
) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "order": {
            "id": order_id,
            "customer_id": "c-1",
            "total": total,
            "currency": "EUR",
            "delivery": delivery,
            "items": items if items is not None else [{"sku": "book-42", "quantity": 2}],
        },
    }


def publish(topic_arn: str, event: dict[str, Any], *, with_attribute: bool = True) -> str:
    """Publish as the orders service does: JSON body, ``event_type`` as a message attribute."""
    attributes = (
        {"event_type": {"DataType": "String", "StringValue": event["event_type"]}}
        if with_attribute
        else {}
    )
    return boto3.client("sns").publish(
        TopicArn=topic_arn, Message=json.dumps(event), MessageAttributes=attributes
    )["MessageId"]


#: (order id, event, whether the publisher set the event_type attribute) and who gets it.
TRAFFIC = [
    ("placed-standard", order_event("placed-standard"), True),
    ("placed-express-big", order_event("placed-express-big", total=2500, delivery="express"), True),
    (
        "placed-download-big",
        order_event("placed-download-big", total=1500, delivery="download"),
        True,
    ),
    ("placed-exactly-1000", order_event("placed-exactly-1000", total=1000), True),
    ("cancelled-standard", order_event("cancelled-standard", "OrderCancelled"), True),
    ("cancelled-big", order_event("cancelled-big", "OrderCancelled", total=3000), True),
    ("shipped", order_event("shipped", "OrderShipped"), True),
    (
        "placed-no-attribute",
        order_event("placed-no-attribute", total=5000, delivery="express"),
        False,
    ),
]
EXPECTED = {
    # attribute filter: placed or cancelled, and only if the publisher set the attribute
    "billing": {
        "placed-standard",
        "placed-express-big",
        "placed-download-big",
        "placed-exactly-1000",
        "cancelled-standard",
        "cancelled-big",
    },
    # body filter: placed or cancelled orders that travel (not downloads)
    "shipping": {
        "placed-standard",
        "placed-express-big",
        "placed-exactly-1000",
        "cancelled-standard",
        "cancelled-big",
        "placed-no-attribute",
    },
    # body filter: placed orders of 1,000 or more
    "analytics": {
        "placed-express-big",
        "placed-download-big",
        "placed-exactly-1000",
        "placed-no-attribute",
    },
}


SUBSCRIBERS = ("billing", "shipping", "analytics")


@pytest.fixture
def deployment(emulate: Callable[[str], Emulation]) -> Iterator[Emulation]:
    yield emulate("FanOut")


@pytest.fixture
def published(deployment: Emulation) -> dict[str, str]:
    """Every message of TRAFFIC published once: ``{order id: SNS message id}``."""
    return {
        order_id: publish(deployment.ref("OrderEvents/Topic"), event, with_attribute=attribute)
        for order_id, event, attribute in TRAFFIC
    }


def analytics_calls(deployment: Emulation) -> list[Any]:
    """The analytics function's invocations (SNS events), in order."""
    function = deployment.subscriber("analytics").endpoint
    return [call for call in deployment.invocations if call.function == function]


def sns_order_id(call: Any) -> str:
    return json.loads(call.event["Records"][0]["Sns"]["Message"])["order"]["id"]


def envelope_order_id(message: dict[str, Any]) -> str:
    return json.loads(json.loads(message["Body"])["Message"])["order"]["id"]


def raw_order_id(message: dict[str, Any]) -> str:
    return json.loads(message["Body"])["order"]["id"]


def test_the_stack_deploys_one_subscription_per_subscriber(deployment: Emulation) -> None:
    assert {name: deployment.subscriber(name).protocol for name in SUBSCRIBERS} == {
        "billing": "sqs",
        "shipping": "sqs",
        "analytics": "lambda",
    }
    assert len(deployment.of_type("AWS::SNS::Subscription")) == len(SUBSCRIBERS)


def test_each_subscriber_receives_exactly_what_its_filter_admits(
    deployment: Emulation, published: dict[str, str]
) -> None:
    billing = receive_all(deployment.subscriber("billing").queue_url)
    shipping = receive_all(deployment.subscriber("shipping").queue_url)
    analytics = analytics_calls(deployment)
    assert sorted(envelope_order_id(m) for m in billing) == sorted(EXPECTED["billing"])
    assert sorted(raw_order_id(m) for m in shipping) == sorted(EXPECTED["shipping"])
    assert sorted(sns_order_id(call) for call in analytics) == sorted(EXPECTED["analytics"])
    for name in SUBSCRIBERS:
        assert receive_all(deployment.subscriber(name).dead_letter_queue_url) == []


def test_billing_gets_the_envelope_and_shipping_the_raw_event(
    deployment: Emulation, published: dict[str, str]
) -> None:
    [billing] = [
        m
        for m in receive_all(deployment.subscriber("billing").queue_url)
        if envelope_order_id(m) == "placed-standard"
    ]
    envelope = json.loads(billing["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["placed-standard"]
    assert envelope["TopicArn"] == deployment.ref("OrderEvents/Topic")
    assert envelope["MessageAttributes"]["event_type"]["Value"] == "OrderPlaced"

    [shipping] = [
        m
        for m in receive_all(deployment.subscriber("shipping").queue_url)
        if json.loads(m["Body"])["order"]["id"] == "placed-standard"
    ]
    assert json.loads(shipping["Body"]) == order_event("placed-standard")
    assert shipping["MessageAttributes"]["event_type"]["StringValue"] == "OrderPlaced"


def test_consumers_process_everything_they_receive(
    deployment: Emulation, published: dict[str, str]
) -> None:
    billing = deployment.drain(deployment.subscriber("billing").endpoint)
    shipping = deployment.drain(deployment.subscriber("shipping").endpoint)
    assert sorted(envelope_order_id(m) for m in billing.processed) == sorted(EXPECTED["billing"])
    assert len(shipping.processed) == len(EXPECTED["shipping"])
    assert billing.failed_invocations == shipping.failed_invocations == 0


def test_analytics_counts_each_high_value_order_sns_hands_it(
    deployment: Emulation, published: dict[str, str]
) -> None:
    calls = analytics_calls(deployment)
    for call in calls:
        assert call.event["Records"][0]["EventSubscriptionArn"] == (
            deployment.subscriber("analytics").subscription_arn
        )
        assert (call.outcome, call.result) == ("ok", {"high_value_orders": 1})
    assert sorted(sns_order_id(call) for call in calls) == sorted(EXPECTED["analytics"])


POISON = {
    "billing": [
        # (moto's numeric filter crashes on a string total, so the poison stays numeric)
        order_event("bad-total", total=-5),
        order_event("bad-currency", total=10) | {"order": {"id": "bad-currency", "total": 10}},
    ],
    "shipping": [
        order_event("no-items", items=[]),
        order_event("bad-quantity", items=[{"sku": "x", "quantity": 0}]),
    ],
}


@pytest.mark.parametrize("name", ["billing", "shipping"])
def test_a_message_the_consumer_keeps_failing_ends_in_its_dlq_and_nothing_is_lost(
    deployment: Emulation, name: str
) -> None:
    subscriber = deployment.subscriber(name)
    good = [order_event(f"good-{index}") for index in range(5)]
    for event in [*good[:3], *POISON[name], *good[3:]]:
        publish(deployment.ref("OrderEvents/Topic"), event)

    drained = deployment.drain(subscriber.endpoint)
    dead = receive_all(subscriber.dead_letter_queue_url)

    assert len(drained.processed) + len(dead) == len(good) + len(POISON[name])
    assert len(drained.processed) == len(good)
    order_id = envelope_order_id if name == "billing" else raw_order_id
    assert sorted(order_id(m) for m in dead) == sorted(e["order"]["id"] for e in POISON[name])
    # Once only poison was left, every record of a batch failed: Powertools raised, Lambda
    # counted an error and the whole batch returned to the queue, until the redrive.
    assert drained.failed_invocations >= 1
    assert receive_all(subscriber.queue_url) == []


def build_fifo(stack: Stack) -> None:
    FanOut(
        stack,
        "Ledger",
        topic_props=sns.TopicProps(fifo=True, content_based_deduplication=True),
        subscribers=[
            QueueSubscriber("ledger", raw_message_delivery=True),
            QueueSubscriber("placed-only", filter_policy=PLACED),
        ],
    )


@pytest.fixture(scope="module")
def fifo_template() -> dict[str, Any]:
    return synth_variants({"Fifo": build_fifo})["Fifo"].to_json()


def test_a_fifo_topic_delivers_in_order_once_to_each_fifo_queue(
    aws: None, fifo_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = Emulation(fifo_template, monkeypatch)
    sns_client = boto3.client("sns")
    events = [
        order_event("o-1"),
        order_event("o-1", "OrderCancelled"),
        order_event("o-2"),
        order_event("o-1"),  # the same placement again: a duplicate within 5 minutes
    ]
    for event in events:
        sns_client.publish(
            TopicArn=deployment.ref("Ledger/Topic"),
            Message=json.dumps(event),
            MessageGroupId=event["order"]["id"],
            # explicit: moto does not derive an id from the content for the queues
            MessageDeduplicationId=f"{event['order']['id']}-{event['event_type']}",
            MessageAttributes={
                "event_type": {"DataType": "String", "StringValue": event["event_type"]}
            },
        )
    ledger = receive_all(deployment.subscriber("ledger").queue_url)
    assert [(raw_order_id(m), json.loads(m["Body"])["event_type"]) for m in ledger] == [
        ("o-1", "OrderPlaced"),
        ("o-1", "OrderCancelled"),
        ("o-2", "OrderPlaced"),
    ]
    placed_only = receive_all(deployment.subscriber("placed-only").queue_url)
    assert [envelope_order_id(m) for m in placed_only] == ["o-1", "o-2"]
