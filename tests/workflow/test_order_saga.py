"""The synthesized order saga, executed in moto's Step Functions emulation.

Each test runs the reference template's own state machine definition against tables created
from the same template, with the real payment handler answering the Lambda invokes, and
checks by the tables' final state (and the execution history) which compensations ran. Every
test starts from the documented seed only (``examples/seed_inventory.py``'s stock) and
sends the documented order (``EXAMPLE_ORDER``): what a user who deployed the stack has.
"""

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from examples import seed_inventory
from examples.saga_stack import EXAMPLE_ORDER, ORDER_EVENTS
from tests.support.cdk import ROOT
from tests.support.emulation import Emulation, Invocation

ORDER = EXAMPLE_ORDER
STOCK = seed_inventory.STOCK[ORDER["sku"]]
CHECK = "Saga input complete?"
FORWARD = ["RecordOrder", "ReserveInventory", "ChargePayment", "CreateShipment", "ConfirmOrder"]
DUPLICATE = "Saga skipped: duplicate input"
RESERVED = "reserved_"


@pytest.fixture
def saga(emulate: Callable[[str], Emulation]) -> Iterator[Emulation]:
    emulation = emulate("OrderSaga")
    seed_inventory.seed(emulation.table("Inventory").name)
    yield emulation


def stock(saga: Emulation) -> dict[str, Any]:
    """What the stock item holds: the count available and each order's reservation."""
    [item] = saga.items("Inventory")
    reserved = {k.removeprefix(RESERVED): v for k, v in item.items() if k.startswith(RESERVED)}
    assert set(item) == {"sku", "available", *(RESERVED + k for k in reserved)}
    return {"available": item["available"], "reserved": reserved}


def payments(saga: Emulation) -> dict[str, str]:
    return {item["order_id"]: item["status"] for item in saga.items("Payments")}


def shipments(saga: Emulation) -> dict[str, str]:
    return {item["order_id"]: item["status"] for item in saga.items("Shipments")}


def orders(saga: Emulation) -> dict[str, str]:
    return {item["order_id"]: item["status"] for item in saga.items("Orders")}


def order_status(saga: Emulation) -> str:
    return orders(saga)[ORDER["order_id"]]


def calls(saga: Emulation) -> list[tuple[str, str]]:
    """``(operation, outcome)`` of every payment function invoke, in order."""
    return [(call.event["operation"], call.outcome) for call in saga.invocations]


def tables(saga: Emulation) -> dict[str, Any]:
    return {
        "stock": stock(saga),
        "payments": payments(saga),
        "shipments": shipments(saga),
        "orders": orders(saga),
    }


def test_the_documented_order_completes_from_the_documented_seed(saga: Emulation) -> None:
    execution = saga.run(ORDER)
    assert execution["status"] == "SUCCEEDED"
    assert stock(saga) == {"available": STOCK - 2, "reserved": {"o-1": 2}}
    assert payments(saga) == {"o-1": "CHARGED"}
    assert shipments(saga) == {"o-1": "CREATED"}
    [order] = saga.items("Orders")  # recorded by the saga itself, then confirmed
    assert order == {
        "order_id": "o-1",
        "status": "CONFIRMED",
        "customer_id": "c-1",
        "sku": "book-42",
        "quantity": 2,
        "amount_cents": 4200,
    }
    assert calls(saga) == [("charge", "ok")]
    assert saga.states_entered(execution) == [CHECK, *FORWARD, "Saga succeeded"]
    output = json.loads(execution["output"])
    # The input is intact; each step's result sits beside it.
    assert {key: output[key] for key in ORDER} == ORDER
    assert set(output["steps"]) == set(FORWARD)
    assert output["steps"]["ChargePayment"]["payment"]["status"] == "CHARGED"
    assert "compensations" not in output and "failure" not in output


def test_reserve_fails_out_of_stock_and_the_order_is_cancelled(saga: Emulation) -> None:
    execution = saga.run({**ORDER, "quantity": STOCK + 1})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ReserveInventoryFailed"
    assert execution["cause"].startswith("DynamoDB.ConditionalCheckFailedException: ")
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert payments(saga) == {} and shipments(saga) == {}
    assert order_status(saga) == "CANCELLED"
    assert calls(saga) == []
    assert saga.states_entered(execution) == [
        CHECK,
        "RecordOrder",
        "ReserveInventory",
        "ReserveInventory failed",
        "CancelOrder",
        "Every compensation succeeded?",
        "Saga failed",
    ]


def test_declined_payment_refunds_nothing_and_releases_the_stock(saga: Emulation) -> None:
    execution = saga.run({**ORDER, "payment_token": "tok_declined"})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ChargePaymentFailed"
    assert execution["cause"].startswith("PaymentDeclined: ")
    assert "the card was declined for order o-1" in execution["cause"]
    # compensate_on_failure: the refund ran for the failed charge, and found nothing to refund.
    assert calls(saga) == [("charge", "PaymentDeclined"), ("refund", "ok")]
    assert payments(saga) == {"o-1": "DECLINED"}
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert shipments(saga) == {}
    assert order_status(saga) == "CANCELLED"
    assert saga.states_entered(execution)[4:] == [
        "ChargePayment failed",
        "RefundPayment",
        "ReleaseInventory",
        "CancelOrder",
        "Every compensation succeeded?",
        "Saga failed",
    ]


def test_shipment_failure_refunds_then_releases_and_keeps_the_existing_shipment(
    saga: Emulation,
) -> None:
    # Someone else's shipment already uses this order id: the put's condition fails.
    saga.table("Shipments").put_item(Item={"order_id": "o-1", "status": "SHIPPED"})
    execution = saga.run(ORDER)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "CreateShipmentFailed"
    assert execution["cause"].startswith("DynamoDB.ConditionalCheckFailedException: ")
    assert shipments(saga) == {"o-1": "SHIPPED"}  # the failed step is not compensated
    assert payments(saga) == {"o-1": "REFUNDED"}
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert order_status(saga) == "CANCELLED"
    assert calls(saga) == [("charge", "ok"), ("refund", "ok")]
    assert saga.states_entered(execution)[5:] == [
        "CreateShipment failed",
        "RefundPayment",
        "ReleaseInventory",
        "CancelOrder",
        "Every compensation succeeded?",
        "Saga failed",
    ]


def cancel_after_the_charge(saga: Emulation) -> None:
    """The customer cancels the order while the saga charges it."""

    def cancel(invocation: Invocation) -> None:
        if invocation.event["operation"] == "charge":
            saga.table("Orders").update_item(
                Key={"order_id": invocation.event["order_id"]},
                UpdateExpression="SET #status = :cancelled",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":cancelled": "CANCELLED"},
            )

    saga.after_invoke = cancel


def test_confirm_failure_undoes_every_step_in_reverse_order(saga: Emulation) -> None:
    cancel_after_the_charge(saga)
    execution = saga.run(ORDER)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ConfirmOrderFailed"
    assert execution["cause"].startswith("DynamoDB.ConditionalCheckFailedException: ")
    assert shipments(saga) == {"o-1": "CANCELLED"}
    assert payments(saga) == {"o-1": "REFUNDED"}
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert order_status(saga) == "CANCELLED"  # the customer's cancellation stands
    assert calls(saga) == [("charge", "ok"), ("refund", "ok")]
    assert saga.states_entered(execution) == [
        CHECK,
        *FORWARD,
        "ConfirmOrder failed",
        "CancelShipment",
        "RefundPayment",
        "ReleaseInventory",
        "CancelOrder",
        "Every compensation succeeded?",
        "Saga failed",
    ]


def test_a_throttled_charge_is_retried_and_the_order_goes_through(saga: Emulation) -> None:
    """Step Functions, "Handling errors in Step Functions workflows" (Retrier fields): the
    first retry waits ``IntervalSeconds`` (1 s); ``JitterStrategy: FULL`` picks a wait between
    0 and that interval."""
    saga.fail_next_invoke("TooManyRequestsException", "Rate exceeded", 429)
    execution = saga.run(ORDER)
    assert execution["status"] == "SUCCEEDED"
    (wait,) = saga.retry_waits
    assert 0 <= wait <= 1
    assert calls(saga) == [("charge", "TooManyRequestsException"), ("charge", "ok")]
    assert saga.task_failures(execution) == ["Lambda.TooManyRequestsException"]
    assert payments(saga) == {"o-1": "CHARGED"}
    assert order_status(saga) == "CONFIRMED"


def test_a_second_order_for_the_same_sku_reserves_separately(saga: Emulation) -> None:
    assert saga.run(ORDER)["status"] == "SUCCEEDED"
    second = saga.run({**ORDER, "order_id": "o-2", "quantity": 3, "payment_token": "tok_declined"})
    assert second["error"] == "ChargePaymentFailed"
    # Only o-2's reservation was released; o-1's stands.
    assert stock(saga) == {"available": STOCK - 2, "reserved": {"o-1": 2}}
    assert payments(saga) == {"o-1": "CHARGED", "o-2": "DECLINED"}
    assert orders(saga) == {"o-1": "CONFIRMED", "o-2": "CANCELLED"}


@pytest.mark.parametrize("missing", ["sku", "payment_token", "shipping_address"])
def test_an_incomplete_order_is_refused_before_any_step(saga: Emulation, missing: str) -> None:
    execution = saga.run({key: value for key, value in ORDER.items() if key != missing})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "SagaInputIncomplete"
    assert "$.shipping_address" in execution["cause"]
    assert saga.states_entered(execution) == [CHECK, "Saga input incomplete"]
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert payments(saga) == {} and calls(saga) == [] and orders(saga) == {}


# --- once per order -------------------------------------------------------------------------
# EventBridge delivers an event at least once, and a dead-lettered event can be redriven
# (Amazon EventBridge User Guide, "Using dead-letter queues to process undelivered events":
# docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html). Its Step Functions
# target cannot name the execution (AWS::Events::Rule Target has no such property:
# docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-events-rule-target.html),
# so StartExecution's name-based idempotency is out of reach; each delivery starts an
# execution. The first step's conditional put claims the order id: a put whose condition
# fails raises ConditionalCheckFailedException (DynamoDB Developer Guide, "Condition
# expressions": docs.aws.amazon.com/amazondynamodb/latest/developerguide/
# Expressions.ConditionExpressions.html), which Step Functions reports as
# "DynamoDB.ConditionalCheckFailedException" (Step Functions Developer Guide, "Call DynamoDB
# with Step Functions": docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html).


def assert_skipped(saga: Emulation, execution: dict[str, Any]) -> None:
    assert execution["status"] == "SUCCEEDED"
    assert saga.states_entered(execution) == [CHECK, "RecordOrder", DUPLICATE]
    duplicate = json.loads(execution["output"])["duplicate"]
    assert duplicate["Error"] == "DynamoDB.ConditionalCheckFailedException"


def test_the_same_event_again_after_success_does_nothing(saga: Emulation) -> None:
    assert saga.run(ORDER)["status"] == "SUCCEEDED"
    before, invokes = tables(saga), len(saga.invocations)
    assert_skipped(saga, saga.run(ORDER))
    assert tables(saga) == before
    assert len(saga.invocations) == invokes  # not charged twice
    assert stock(saga) == {"available": STOCK - 2, "reserved": {"o-1": 2}}


def test_the_same_event_after_a_compensation_never_ships_unpaid(saga: Emulation) -> None:
    """The defect: a redelivery after a refund used to find REFUNDED, call it paid, ship."""
    cancel_after_the_charge(saga)
    assert saga.run(ORDER)["error"] == "ConfirmOrderFailed"
    saga.after_invoke = None
    before = tables(saga)
    assert before["payments"] == {"o-1": "REFUNDED"}
    for _ in range(2):  # a duplicate delivery, then a redrive from the dead-letter queue
        assert_skipped(saga, saga.run(ORDER))
    assert tables(saga) == before
    assert calls(saga) == [("charge", "ok"), ("refund", "ok")]


def test_a_declined_order_sent_again_stays_cancelled(saga: Emulation) -> None:
    assert saga.run({**ORDER, "payment_token": "tok_declined"})["error"] == "ChargePaymentFailed"
    before = tables(saga)
    assert_skipped(saga, saga.run(ORDER))  # even with a good card: a new order is needed
    assert tables(saga) == before


def test_a_refunded_payment_is_not_paid_even_without_the_claim(saga: Emulation) -> None:
    """Defence in depth: an operator deletes the order record to run it again."""
    saga.table("Shipments").put_item(Item={"order_id": "o-1", "status": "SHIPPED"})
    assert saga.run(ORDER)["error"] == "CreateShipmentFailed"
    saga.table("Shipments").delete_item(Key={"order_id": "o-1"})
    saga.table("Orders").delete_item(Key={"order_id": "o-1"})
    execution = saga.run(ORDER)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ChargePaymentFailed"
    assert execution["cause"].startswith("PaymentRefunded: ")
    assert shipments(saga) == {}  # nothing ships
    assert payments(saga) == {"o-1": "REFUNDED"}
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert order_status(saga) == "CANCELLED"


def test_the_catalog_page_sends_this_order_and_loads_this_seed() -> None:
    """What the user is told to run is what these tests run."""
    page = (ROOT / "patterns" / "workflow.md").read_text()
    [entries] = re.findall(r"aws events put-events --entries '(.*?)'\n", page, re.S)
    [entry] = json.loads(entries)
    assert (entry["Source"], entry["DetailType"]) == ("com.example.orders", "OrderPlaced")
    assert ORDER_EVENTS.source == [entry["Source"]]
    assert ORDER_EVENTS.detail_type == [entry["DetailType"]]
    assert json.loads(entry["Detail"]) == ORDER
    assert "python -m examples.seed_inventory OrderSaga" in page


@pytest.mark.parametrize(
    ("update", "error"),
    [
        # The old reservation: a key in a map the seed does not have.
        (
            "SET available = available - :q, reserved.#order = :q",
            "document path provided in the update expression is invalid",
        ),
        # Creating the map in the same update is no way out either.
        (
            "SET reserved = if_not_exists(reserved, :empty), reserved.#order = :q",
            "Two document paths overlap",
        ),
    ],
)
def test_why_a_reservation_is_an_attribute_and_not_a_key_of_a_map(
    saga: Emulation, update: str, error: str
) -> None:
    """DynamoDB cannot SET a key of a map that does not exist, nor create a map and set a key
    in it in one update (DynamoDB Developer Guide, "Using update expressions in DynamoDB":
    docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html).
    A `reserved` map would have to be seeded with every SKU; an attribute per order needs
    nothing but the stock count."""
    values: dict[str, Any] = {":q": 2}
    if ":empty" in update:
        values[":empty"] = {}
    with pytest.raises(saga.table("Inventory").meta.client.exceptions.ClientError, match=error):
        saga.table("Inventory").update_item(
            Key={"sku": ORDER["sku"]},
            UpdateExpression=update,
            ExpressionAttributeNames={"#order": ORDER["order_id"]},
            ExpressionAttributeValues=values,
        )
    assert stock(saga) == {"available": STOCK, "reserved": {}}
