"""The commerce router in moto, built from its template: routing, archive and failure paths."""

import copy
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.event_router.emulated import EmulatedRouter, drain, emulate, reference
from tests.support.aws import load_handler
from tests.support.cdk import resources
from tests.support.events import LambdaContext, eventbridge_event

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


@pytest.fixture
def commerce(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["EventRouter"]


@pytest.fixture
def router(aws: None, commerce: dict[str, Any]) -> EmulatedRouter:
    return emulate(commerce)


def target_of(commerce: dict[str, Any], prefix: str) -> str:
    """The logical id of the rule target whose id starts with ``prefix``."""
    return next(
        reference(target["Arn"])
        for rule in resources(commerce, "AWS::Events::Rule").values()
        for target in rule["Targets"]
        if reference(target["Arn"]).startswith(prefix)
    )


def dead_letter_queue_of(commerce: dict[str, Any], target: str) -> str:
    return next(
        reference(each["DeadLetterConfig"]["Arn"])
        for rule in resources(commerce, "AWS::Events::Rule").values()
        for each in rule["Targets"]
        if reference(each["Arn"]) == target
    )


def test_each_target_receives_exactly_the_matching_events(
    router: EmulatedRouter, commerce: dict[str, Any]
) -> None:
    router.put(UNMATCHED[0], ORDER_PLACED, UNMATCHED[1], PAYMENT_FAILED, *UNMATCHED[2:])

    fulfilment = router.received(target_of(commerce, "FulfilmentQueue"))
    confirmation = router.received(target_of(commerce, "OrderConfirmation"))
    alerts = router.received(target_of(commerce, "PaymentAlerts"))

    for delivered in (fulfilment, confirmation):  # the whole event, envelope and all
        assert len(delivered) == 1
        assert delivered[0]["source"] == "commerce.orders"
        assert delivered[0]["detail-type"] == "Order Placed"
        assert delivered[0]["detail"] == ORDER
        assert delivered[0]["id"]  # consumers deduplicate on it
    assert alerts == ["Payment failed for order o-2: card declined"]  # the input transformer


def test_the_archive_keeps_every_event_matched_or_not(router: EmulatedRouter) -> None:
    router.put(ORDER_PLACED, PAYMENT_FAILED, *UNMATCHED)
    archive = boto3.client("events").describe_archive(ArchiveName=router.archive_name)
    assert archive["EventCount"] == 2 + len(UNMATCHED)
    assert archive["RetentionDays"] == 30


def test_an_order_the_warehouse_keeps_failing_on_ends_in_the_fulfilment_dlq(
    router: EmulatedRouter, commerce: dict[str, Any]
) -> None:
    fulfilment = target_of(commerce, "FulfilmentQueue")
    redrive = commerce["Resources"][fulfilment]["Properties"]["RedrivePolicy"]
    router.put(ORDER_PLACED)
    sqs = boto3.client("sqs")
    for _ in range(redrive["maxReceiveCount"]):  # the consumer fails: it never deletes
        [message] = sqs.receive_message(
            QueueUrl=router.queue_urls[fulfilment], VisibilityTimeout=0
        )["Messages"]
    assert json.loads(message["Body"])["detail"] == ORDER
    assert "Messages" not in sqs.receive_message(QueueUrl=router.queue_urls[fulfilment])
    [parked] = drain(router.queue_urls[reference(redrive["deadLetterTargetArn"])])
    assert parked["detail"] == ORDER


# --- a Lambda target's failure path --------------------------------------------------------


@pytest.fixture
def confirmation(
    router: EmulatedRouter, commerce: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    topic = next(k for k in resources(commerce, "AWS::SNS::Topic") if "Customer" in k)
    monkeypatch.setenv("TOPIC_ARN", boto3.client("sns").create_topic(Name=topic)["TopicArn"])
    yield load_handler("examples/handlers/order_confirmation/app.py")


def invoke_asynchronously(
    handler: ModuleType, event: dict[str, Any], config: dict[str, Any], queue_urls: dict[str, str]
) -> int:
    """Lambda's asynchronous invocation, as AWS documents it, driven by ``config`` (the
    template's EventInvokeConfig): up to 1 + MaximumRetryAttempts attempts, then a record
    of the event and the error to the on-failure destination. Returns the attempts made.

    moto cannot invoke a Lambda target from EventBridge; this emulates the Lambda side only.
    """
    attempts = 1 + config["MaximumRetryAttempts"]
    for attempt in range(1, attempts + 1):
        try:
            handler.handler(copy.deepcopy(event), LambdaContext())
            return attempt
        except Exception as error:
            failure = error
    record = {
        "version": "1.0",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": attempts},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "responsePayload": {"errorType": type(failure).__name__, "errorMessage": str(failure)},
    }
    destination = reference(config["DestinationConfig"]["OnFailure"]["Destination"])
    boto3.client("sqs").send_message(
        QueueUrl=queue_urls[destination], MessageBody=json.dumps(record)
    )
    return attempts


def test_an_event_the_confirmation_cannot_handle_ends_in_its_routes_dlq_with_the_error(
    router: EmulatedRouter, commerce: dict[str, Any], confirmation: ModuleType
) -> None:
    function = target_of(commerce, "OrderConfirmation")
    [config] = [
        c
        for c in resources(commerce, "AWS::Lambda::EventInvokeConfig").values()
        if reference(c["FunctionName"]) == function
    ]
    dlq = dead_letter_queue_of(commerce, function)
    bad_order = {**ORDER, "items": [{"sku": "book-42", "quantity": 0}]}
    router.put(eventbridge_event("commerce.orders", "Order Placed", bad_order))
    [delivered] = router.received(function)  # what EventBridge hands to Lambda

    attempts = invoke_asynchronously(confirmation, delivered, config, router.queue_urls)

    assert attempts == 3  # the first try and Lambda's two retries
    [record] = drain(router.queue_urls[dlq])
    assert record["requestPayload"] == delivered
    assert record["responsePayload"]["errorType"] == "InvalidEvent"
    assert "detail.items[0].quantity" in record["responsePayload"]["errorMessage"]


def test_a_placed_order_flows_from_the_bus_through_the_function_to_the_customer_topic(
    router: EmulatedRouter, commerce: dict[str, Any], confirmation: ModuleType
) -> None:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    inbox = sqs.create_queue(QueueName="customer-inbox")["QueueUrl"]
    sns.subscribe(
        TopicArn=confirmation.TOPIC_ARN,
        Protocol="sqs",
        Endpoint=sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"],
    )
    router.put(ORDER_PLACED)
    [delivered] = router.received(target_of(commerce, "OrderConfirmation"))

    answer = confirmation.handler(delivered, LambdaContext())

    [notification] = drain(inbox)
    assert answer["order_id"] == "o-1"
    assert notification["Subject"] == "Your order o-1 is placed"
    assert "2 x book-42" in notification["Message"]
    assert notification["MessageAttributes"]["event_id"]["Value"] == delivered["id"]
