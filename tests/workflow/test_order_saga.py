"""The synthesized order saga, executed in moto's Step Functions emulation.

Each test runs the reference template's own state machine definition against tables created
from the same template, with the real payment handler answering the Lambda invokes, and
checks by the tables' final state (and the execution history) which compensations ran.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.workflow.emulation import Emulation

ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "sku": "book-42",
    "quantity": 2,
    "amount_cents": 4200,
    "payment_token": "tok_visa",
    "shipping_address": "1 Main St, Springfield",
}
STOCK = 10
CHECK = "Saga input complete?"
FORWARD = ["ReserveInventory", "ChargePayment", "CreateShipment", "ConfirmOrder"]


@pytest.fixture
def saga(
    aws: None, templates: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Emulation]:
    emulation = Emulation(
        templates["OrderSaga"],
        monkeypatch,
        handlers={"PaymentFunction": "examples/handlers/payment/app.py"},
    ).start()
    emulation.table("Inventory").put_item(
        Item={"sku": "book-42", "available": STOCK, "reserved": {}}
    )
    emulation.table("Orders").put_item(Item={"order_id": "o-1", "status": "PENDING"})
    yield emulation


def stock(saga: Emulation) -> dict[str, Any]:
    [item] = saga.items("Inventory")
    return {"available": item["available"], "reserved": item["reserved"]}


def payments(saga: Emulation) -> dict[str, str]:
    return {item["order_id"]: item["status"] for item in saga.items("Payments")}


def shipments(saga: Emulation) -> dict[str, str]:
    return {item["order_id"]: item["status"] for item in saga.items("Shipments")}


def order_status(saga: Emulation) -> str:
    [item] = saga.items("Orders")
    return str(item["status"])


def calls(saga: Emulation) -> list[tuple[str, str]]:
    """``(operation, outcome)`` of every payment function invoke, in order."""
    return [(call.event["operation"], call.outcome) for call in saga.invocations]


def test_happy_path_runs_every_step_and_no_compensation(saga: Emulation) -> None:
    execution = saga.run(ORDER)
    assert execution["status"] == "SUCCEEDED"
    assert stock(saga) == {"available": STOCK - 2, "reserved": {"o-1": 2}}
    assert payments(saga) == {"o-1": "CHARGED"}
    assert shipments(saga) == {"o-1": "CREATED"}
    assert order_status(saga) == "CONFIRMED"
    assert calls(saga) == [("charge", "ok")]
    assert saga.states_entered(execution) == [CHECK, *FORWARD, "Saga succeeded"]
    output = json.loads(execution["output"])
    # The input is intact; each step's result sits beside it.
    assert {key: output[key] for key in ORDER} == ORDER
    assert set(output["steps"]) == set(FORWARD)
    assert output["steps"]["ChargePayment"]["payment"]["status"] == "CHARGED"
    assert "compensations" not in output and "failure" not in output


def test_reserve_fails_out_of_stock_and_nothing_needs_undoing(saga: Emulation) -> None:
    execution = saga.run({**ORDER, "quantity": STOCK + 1})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ReserveInventoryFailed"
    assert execution["cause"].startswith("DynamoDB.ConditionalCheckFailedException: ")
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert payments(saga) == {} and shipments(saga) == {}
    assert order_status(saga) == "PENDING"
    assert calls(saga) == []
    assert saga.states_entered(execution) == [
        CHECK,
        "ReserveInventory",
        "ReserveInventory failed",
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
    assert order_status(saga) == "PENDING"
    assert saga.states_entered(execution)[3:] == [
        "ChargePayment failed",
        "RefundPayment",
        "ReleaseInventory",
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
    assert calls(saga) == [("charge", "ok"), ("refund", "ok")]
    assert saga.states_entered(execution)[4:] == [
        "CreateShipment failed",
        "RefundPayment",
        "ReleaseInventory",
        "Every compensation succeeded?",
        "Saga failed",
    ]


def test_confirm_failure_undoes_every_step_in_reverse_order(saga: Emulation) -> None:
    saga.table("Orders").put_item(Item={"order_id": "o-1", "status": "CANCELLED"})
    execution = saga.run(ORDER)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ConfirmOrderFailed"
    assert execution["cause"].startswith("DynamoDB.ConditionalCheckFailedException: ")
    assert shipments(saga) == {"o-1": "CANCELLED"}
    assert payments(saga) == {"o-1": "REFUNDED"}
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert order_status(saga) == "CANCELLED"
    assert calls(saga) == [("charge", "ok"), ("refund", "ok")]
    assert saga.states_entered(execution) == [
        CHECK,
        *FORWARD,
        "ConfirmOrder failed",
        "CancelShipment",
        "RefundPayment",
        "ReleaseInventory",
        "Every compensation succeeded?",
        "Saga failed",
    ]


def test_a_throttled_charge_is_retried_and_the_order_goes_through(saga: Emulation) -> None:
    saga.fail_next_invoke("TooManyRequestsException", "Rate exceeded", 429)
    execution = saga.run(ORDER)
    assert execution["status"] == "SUCCEEDED"
    assert calls(saga) == [("charge", "TooManyRequestsException"), ("charge", "ok")]
    assert saga.task_failures(execution) == ["Lambda.TooManyRequestsException"]
    assert payments(saga) == {"o-1": "CHARGED"}
    assert order_status(saga) == "CONFIRMED"


def test_a_second_order_for_the_same_sku_reserves_separately(saga: Emulation) -> None:
    assert saga.run(ORDER)["status"] == "SUCCEEDED"
    saga.table("Orders").put_item(Item={"order_id": "o-2", "status": "PENDING"})
    second = saga.run({**ORDER, "order_id": "o-2", "quantity": 3, "payment_token": "tok_declined"})
    assert second["error"] == "ChargePaymentFailed"
    # Only o-2's reservation was released; o-1's stands.
    assert stock(saga) == {"available": STOCK - 2, "reserved": {"o-1": 2}}
    assert payments(saga) == {"o-1": "CHARGED", "o-2": "DECLINED"}


@pytest.mark.parametrize("missing", ["sku", "payment_token", "shipping_address"])
def test_an_incomplete_order_is_refused_before_any_step(saga: Emulation, missing: str) -> None:
    execution = saga.run({key: value for key, value in ORDER.items() if key != missing})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "SagaInputIncomplete"
    assert "$.shipping_address" in execution["cause"]
    assert saga.states_entered(execution) == [CHECK, "Saga input incomplete"]
    assert stock(saga) == {"available": STOCK, "reserved": {}}
    assert payments(saga) == {} and calls(saga) == []
