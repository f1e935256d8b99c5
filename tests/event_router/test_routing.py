"""The commerce router in moto, deployed from its template: routing, archive, failure paths.

Every target is really delivered (tests/support/emulation): the fulfilment queue, the
order-confirmation function (asynchronously, with its EventInvokeConfig) and the
payment-alerts topic.
"""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.support.emulation import Emulation, receive_all, receive_bodies, subscribe_inbox
from tests.support.events import eventbridge_event

ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "items": [{"sku": "book-42", "quantity": 2}],
}
ORDER_PLACED = eventbridge_event("commerce.orders", "Order Placed", ORDER)
PAYMENT_FAILED = eventbridge_event(
    "commerce.payments", "Payment Failed", {"order_id": "o-2", "reason": "card declined"}
)
#: Look-alikes that no route may pick up.
UNMATCHED = [
    eventbridge_event("commerce.orders", "Order Cancelled", {"order_id": "o-3"}),
    eventbridge_event("commerce.payments", "Payment Succeeded", {"order_id": "o-4"}),
    eventbridge_event("commerce.test", "Order Placed", ORDER),  # right type, wrong source
    eventbridge_event("commerce.orders", "order placed", ORDER),  # matching is case-sensitive
]
CONFIRMATION = "OrderConfirmation"


@pytest.fixture
def router(emulate: Callable[[str], Emulation]) -> Emulation:
    return emulate("EventRouter")


def put(router: Emulation, *entries: dict[str, Any]) -> None:
    answer = boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": router.ref("CommerceBus"),
                "Source": entry["source"],
                "DetailType": entry["detail-type"],
                "Detail": json.dumps(entry["detail"]),
            }
            for entry in entries
        ]
    )
    assert answer["FailedEntryCount"] == 0, answer


def invocations(router: Emulation, function: str) -> list[Any]:
    """The events ``function`` was invoked with."""
    logical_id = router.logical_id(function, "AWS::Lambda::Function")
    return [call.event for call in router.invocations if call.function == logical_id]


def dead_letter_queue_of(router: Emulation, target: str) -> str:
    """The URL of the DLQ of the rule target ``target`` (a logical id)."""
    return next(
        router.resolve.logical_id(each["DeadLetterConfig"]["Arn"])
        for rule in router.of_type("AWS::Events::Rule").values()
        for each in rule["Targets"]
        if router.resolve.logical_id(each["Arn"]) == target
    )


def test_each_target_receives_exactly_the_matching_events(router: Emulation) -> None:
    alerts_inbox = subscribe_inbox(router.ref("PaymentAlerts"))

    put(router, UNMATCHED[0], ORDER_PLACED, UNMATCHED[1], PAYMENT_FAILED, *UNMATCHED[2:])

    fulfilment = receive_bodies(router.ref("FulfilmentQueue"))
    confirmation = invocations(router, CONFIRMATION)
    alerts = [json.loads(envelope["Message"]) for envelope in receive_bodies(alerts_inbox)]
    for delivered in (fulfilment, confirmation):  # the whole event, envelope and all
        assert len(delivered) == 1
        assert delivered[0]["source"] == "commerce.orders"
        assert delivered[0]["detail-type"] == "Order Placed"
        assert delivered[0]["detail"] == ORDER
        assert delivered[0]["id"]  # consumers deduplicate on it
    assert alerts == ["Payment failed for order o-2: card declined"]  # the input transformer


def test_the_archive_keeps_every_event_matched_or_not(router: Emulation) -> None:
    put(router, ORDER_PLACED, PAYMENT_FAILED, *UNMATCHED)
    [archive_name] = router.of_type("AWS::Events::Archive")
    archive = boto3.client("events").describe_archive(ArchiveName=archive_name)
    assert archive["EventCount"] == 2 + len(UNMATCHED)
    assert archive["RetentionDays"] == 30


def test_an_order_the_warehouse_keeps_failing_on_ends_in_the_fulfilment_dlq(
    router: Emulation,
) -> None:
    fulfilment = router.ref("FulfilmentQueue")
    redrive = router.resolve(
        router.template["Resources"][router.logical_id("FulfilmentQueue")]["Properties"][
            "RedrivePolicy"
        ]
    )
    put(router, ORDER_PLACED)
    sqs = boto3.client("sqs")
    for _ in range(redrive["maxReceiveCount"]):  # the consumer fails: it never deletes
        [message] = sqs.receive_message(QueueUrl=fulfilment, VisibilityTimeout=0)["Messages"]
    assert json.loads(message["Body"])["detail"] == ORDER
    assert "Messages" not in sqs.receive_message(QueueUrl=fulfilment)
    dead_letter_queue = router.resolve.logical_id(redrive["deadLetterTargetArn"])
    [parked] = receive_bodies(router.ref(dead_letter_queue))
    assert parked["detail"] == ORDER


# --- a Lambda target's failure path --------------------------------------------------------


def test_an_event_the_confirmation_cannot_handle_ends_in_its_routes_dlq_with_the_error(
    router: Emulation,
) -> None:
    """EventBridge invokes a Lambda target asynchronously; Lambda retries a function error
    twice (the EventInvokeConfig's ``MaximumRetryAttempts``) and then sends the invocation
    record to the ``OnFailure`` destination ("How Lambda handles errors and retries with
    asynchronous invocation", lambda/latest/dg/invocation-async-error-handling.html)."""
    function = router.logical_id(CONFIRMATION, "AWS::Lambda::Function")
    dlq = router.ref(
        router.resolve.logical_id(
            router.functions[function].async_config["DestinationConfig"]["OnFailure"]["Destination"]
        )
    )
    bad_order = {**ORDER, "items": [{"sku": "book-42", "quantity": 0}]}

    put(router, eventbridge_event("commerce.orders", "Order Placed", bad_order))

    delivered = invocations(router, CONFIRMATION)
    assert len(delivered) == 3  # the first try and Lambda's two retries
    assert delivered[0]["detail"] == bad_order
    [record] = receive_bodies(dlq)
    assert record["requestPayload"] == delivered[0]
    assert record["responsePayload"]["errorType"] == "InvalidEvent"
    assert "detail.items[0].quantity" in record["responsePayload"]["errorMessage"]
    assert receive_all(router.ref(dead_letter_queue_of(router, function))) == []


def test_a_placed_order_flows_from_the_bus_through_the_function_to_the_customer_topic(
    router: Emulation,
) -> None:
    inbox = subscribe_inbox(router.ref("CustomerNotifications"), "customer-inbox")

    put(router, ORDER_PLACED)

    [call] = [c for c in router.invocations if c.function.startswith(CONFIRMATION)]
    [notification] = receive_bodies(inbox)
    assert call.outcome == "ok" and call.result["order_id"] == "o-1"
    assert notification["Subject"] == "Your order o-1 is placed"
    assert "2 x book-42" in notification["Message"]
    assert notification["MessageAttributes"]["event_id"]["Value"] == call.event["id"]
