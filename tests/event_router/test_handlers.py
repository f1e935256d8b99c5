"""The commerce handlers against moto SNS and EventBridge, with real EventBridge event shapes.

Each function is the deployed one (tests/support/emulation): its staged code and the
environment the template gives it; ``handler(...)`` invokes it.
"""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.support.emulation import Deployed, Emulation, receive_bodies, subscribe_inbox
from tests.support.events import LambdaContext, eventbridge_event, scheduled_event

ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "items": [{"sku": "book-42", "quantity": 2}, {"sku": "pen-7", "quantity": 1}],
}


# --- order confirmation ---------------------------------------------------------------------


@pytest.fixture
def router(emulate: Callable[[str], Emulation]) -> Emulation:
    return emulate("EventRouter")


@pytest.fixture
def confirmation(router: Emulation) -> Deployed:
    return Deployed(router.function("OrderConfirmation"))


def test_a_placed_order_is_confirmed_to_its_customer(confirmation: Deployed) -> None:
    inbox = subscribe_inbox(confirmation.TOPIC_ARN)
    event = eventbridge_event("commerce.orders", "Order Placed", ORDER)
    answer = confirmation.handler(event, LambdaContext())
    [message] = receive_bodies(inbox)
    assert answer == {"order_id": "o-1", "message_id": message["MessageId"]}
    assert message["Subject"] == "Your order o-1 is placed"
    assert message["Message"] == (
        "Thank you! We received your order o-1 (3 items):\n- 2 x book-42\n- 1 x pen-7"
    )
    assert message["MessageAttributes"]["customer_id"]["Value"] == "c-1"


def test_a_duplicate_delivery_carries_the_same_event_id_for_channels_to_drop_it(
    confirmation: Deployed,
) -> None:
    inbox = subscribe_inbox(confirmation.TOPIC_ARN)
    event = eventbridge_event("commerce.orders", "Order Placed", ORDER)
    confirmation.handler(event, LambdaContext())
    confirmation.handler(event, LambdaContext())  # EventBridge delivers at least once
    messages = receive_bodies(inbox)
    assert len(messages) == 2
    assert {m["MessageAttributes"]["event_id"]["Value"] for m in messages} == {event["id"]}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (eventbridge_event("commerce.orders", "Order Cancelled", ORDER), "expected 'Order Placed'"),
        (eventbridge_event("shop.orders", "Order Placed", ORDER), "from 'shop.orders'"),
        (eventbridge_event("commerce.orders", "Order Placed", "o-1"), "detail must be a JSON"),
        (
            eventbridge_event("commerce.orders", "Order Placed", {**ORDER, "order_id": ""}),
            "detail.order_id must be a string",
        ),
        (
            eventbridge_event("commerce.orders", "Order Placed", {**ORDER, "items": []}),
            "detail.items must be a list of 1 to 50 items",
        ),
        (
            eventbridge_event(
                "commerce.orders",
                "Order Placed",
                {**ORDER, "items": [{"sku": "a", "quantity": 1.5}]},
            ),
            "detail.items[0].quantity must be an integer from 1 to 100",
        ),
        (
            eventbridge_event(
                "commerce.orders", "Order Placed", {**ORDER, "items": [{"quantity": 1}]}
            ),
            "detail.items[0].sku must be a string of 1 to 64 characters",
        ),
    ],
)
def test_events_it_cannot_handle_raise_and_notify_nobody(
    confirmation: Deployed, event: dict[str, Any], message: str
) -> None:
    inbox = subscribe_inbox(confirmation.TOPIC_ARN)
    with pytest.raises(confirmation.InvalidEvent, match=message.replace("[", r"\[")):
        confirmation.handler(event, LambdaContext())
    assert receive_bodies(inbox) == []


# --- nightly sales report -----------------------------------------------------------------


@pytest.fixture
def bus(router: Emulation) -> str:
    """The commerce bus, with a rule capturing report requests."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    name = router.ref("CommerceBus")
    capture = sqs.create_queue(QueueName="report-builders")["QueueUrl"]
    events.put_rule(
        Name="report-requests",
        EventBusName=name,
        EventPattern=json.dumps({"source": ["commerce.reports"]}),
    )
    events.put_targets(
        Rule="report-requests",
        EventBusName=name,
        Targets=[
            {
                "Id": "capture",
                "Arn": sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])[
                    "Attributes"
                ]["QueueArn"],
            }
        ],
    )
    return name


@pytest.fixture
def report(bus: str, router: Emulation) -> Deployed:
    function = router.function("SalesReport")
    assert function.environment["EVENT_BUS_NAME"] == bus
    return Deployed(function)


def requests_on_the_bus() -> list[dict[str, Any]]:
    return receive_bodies(
        boto3.client("sqs").get_queue_url(QueueName="report-builders")["QueueUrl"]
    )


def test_the_nightly_tick_requests_yesterdays_report_on_the_bus(report: Deployed) -> None:
    tick = scheduled_event("2026-11-03T02:00:07Z")
    answer = report.handler(tick, LambdaContext())
    [request] = requests_on_the_bus()
    assert request["source"] == "commerce.reports"
    assert request["detail-type"] == "Sales Report Requested"
    assert (
        request["detail"]
        == answer
        == {
            "report_id": "sales-2026-11-02",
            "period_start": "2026-11-02T00:00:00Z",
            "period_end": "2026-11-03T00:00:00Z",
        }
    )


@pytest.mark.parametrize(
    ("time", "report_id"),
    [
        ("2027-01-01T00:00:30Z", "sales-2026-12-31"),  # across the new year
        ("2028-03-01T02:00:00+00:00", "sales-2028-02-29"),  # a leap day
        ("2026-11-03T01:30:00-05:00", "sales-2026-11-02"),  # an offset is read as UTC 06:30
    ],
)
def test_the_report_day_is_the_previous_utc_day(
    report: Deployed, time: str, report_id: str
) -> None:
    assert report.handler(scheduled_event(time), LambdaContext())["report_id"] == report_id


def test_a_retried_tick_requests_the_same_report_for_builders_to_drop(report: Deployed) -> None:
    tick = scheduled_event()
    report.handler(tick, LambdaContext())
    report.handler(tick, LambdaContext())
    requests = requests_on_the_bus()
    assert len(requests) == 2
    assert {r["detail"]["report_id"] for r in requests} == {"sales-2026-11-02"}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            eventbridge_event("commerce.orders", "Order Placed", ORDER),
            "expected a 'Scheduled Event'",
        ),
        ({**scheduled_event(), "time": "yesterday"}, "is not an ISO 8601 timestamp"),
        ({**scheduled_event(), "time": "2026-11-03T02:00:00"}, "has no time zone"),
    ],
)
def test_ticks_it_cannot_read_raise_and_request_nothing(
    report: Deployed, event: dict[str, Any], message: str
) -> None:
    with pytest.raises(report.InvalidEvent, match=message):
        report.handler(event, LambdaContext())
    assert requests_on_the_bus() == []


def test_a_missing_bus_raises_so_lambda_retries_then_dead_letters(
    report: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "EVENT_BUS_NAME", "no-such-bus")
    with pytest.raises(ClientError, match="no-such-bus"):
        report.handler(scheduled_event(), LambdaContext())
    assert requests_on_the_bus() == []


def test_a_rejected_entry_raises_too(report: Deployed) -> None:
    """PutEvents can answer 200 and still reject an entry; moto never does, so stub that."""
    with Stubber(report.event_bridge) as stub:
        stub.add_response(
            "put_events",
            {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
            },
        )
        with pytest.raises(RuntimeError, match="PutEvents rejected the report request"):
            report.handler(scheduled_event(), LambdaContext())
