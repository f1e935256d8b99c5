"""EventRouter reference (commerce events): each rule's targets receive its events; an event
no rule matches goes nowhere."""

import json
import uuid

import pytest

pytestmark = pytest.mark.e2e

STACK = "EventRouter"
TIMEOUT = 30


@pytest.fixture(scope="module")
def router(stack, client, listen, queue):
    deployed = stack(STACK)
    return {
        "bus": deployed.outputs["EventBusName"],
        # The warehouse consumes this queue: the test reads it as the warehouse would.
        "fulfilment": queue(deployed.outputs["FulfilmentQueueUrl"]),
        # Customers and the payments team: a queue of the test's own on each topic.
        "customers": listen(deployed.resource("CustomerNotifications")),
        "payments_team": listen(deployed.resource("PaymentAlerts")),
    }


def put(client, bus: str, source: str, detail_type: str, detail: dict) -> None:
    answer = client("events").put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0, answer


def placed(order_id: str) -> dict:
    return {
        "order_id": order_id,
        "customer_id": "c-e2e",
        "items": [{"sku": "book-42", "quantity": 2}, {"sku": "mug-7", "quantity": 1}],
    }


def test_rules_route_each_event_to_its_targets_and_nothing_else(client, router):
    order_id, unpaid_id, shipped_id = (f"e2e-{uuid.uuid4()}" for _ in range(3))
    put(client, router["bus"], "commerce.orders", "Order Shipped", placed(shipped_id))
    put(client, router["bus"], "commerce.orders", "Order Placed", placed(order_id))
    put(
        client,
        router["bus"],
        "commerce.payments",
        "Payment Failed",
        {"order_id": unpaid_id, "reason": "card expired"},
    )

    warehouse = router["fulfilment"].bodies_until(
        lambda body: order_id in body, timeout=TIMEOUT, what="the warehouse gets the order"
    )
    event = next(json.loads(body) for body in warehouse if order_id in body)
    assert event["detail-type"] == "Order Placed"
    assert event["detail"] == placed(order_id)

    customers = router["customers"].bodies_until(
        lambda body: order_id in body, timeout=TIMEOUT, what="the customer is told"
    )
    assert any(f"We received your order {order_id} (3 items)" in body for body in customers)

    alerts = router["payments_team"].bodies_until(
        lambda body: unpaid_id in body, timeout=TIMEOUT, what="the payments team is alerted"
    )
    # RuleTargetInput.from_text is an input template that is a JSON string: EventBridge
    # delivers it as one ("Transforming input", EventBridge User Guide).
    expected = f"Payment failed for order {unpaid_id}: card expired"
    assert [json.loads(body) for body in alerts if unpaid_id in body] == [expected]

    # Everything routed has arrived; the unrouted event would have arrived with it.
    everything = warehouse + customers + alerts
    everything += [
        m["Body"]
        for q in ("fulfilment", "customers", "payments_team")
        for m in router[q].receive(wait=1)
    ]
    assert not [body for body in everything if shipped_id in body]
    assert not [body for body in alerts if order_id in body]
