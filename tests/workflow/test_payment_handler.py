"""The payment handler on its own, against moto DynamoDB with the table the stack defines.

Step Functions invokes it with the payload the saga's tasks build (``operation`` plus the
order's fields); these tests send exactly those payloads.
"""

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.cdk import resources
from tests.support.emulation import Deployed, Emulation, plain

CHARGE = {
    "operation": "charge",
    "order_id": "o-1",
    "customer_id": "c-1",
    "amount_cents": 4200,
    "payment_token": "tok_visa",
}
REFUND = {"operation": "refund", "order_id": "o-1"}


@pytest.fixture
def payment(emulate: Callable[[str], Emulation]) -> Deployed:
    """The saga's deployed payment function (its table created from the template)."""
    return Deployed(emulate("OrderSaga").function("PaymentFunction"))


def call(payment: Deployed, event: Any) -> Any:
    return payment.handler(event)


def stored(payment: Deployed) -> list[dict[str, Any]]:
    return [plain(item) for item in payment.table.scan()["Items"]]


def test_payment_function_reads_its_table_from_the_environment(
    templates: dict[str, dict[str, Any]],
) -> None:
    [function] = resources(templates["OrderSaga"], "AWS::Lambda::Function").values()
    variables = function["Environment"]["Variables"]
    assert variables["PAYMENTS_TABLE"]["Ref"].startswith("Payments")
    assert function["Handler"] == "app.handler"


def test_charge_stores_and_answers_the_payment(payment: Deployed) -> None:
    answer = call(payment, CHARGE)
    assert answer["status"] == "CHARGED" and answer["amount_cents"] == 4200
    assert answer["charge_id"].startswith("ch_")
    [item] = stored(payment)
    assert item["status"] == "CHARGED" and item["charge_id"] == answer["charge_id"]
    assert item["customer_id"] == "c-1"


def test_a_repeated_charge_charges_once(payment: Deployed) -> None:
    first = call(payment, CHARGE)
    assert call(payment, CHARGE) == first
    assert len(stored(payment)) == 1


def test_declined_card_raises_and_records_the_decline(payment: Deployed) -> None:
    with pytest.raises(payment.PaymentDeclined, match="declined for order o-1"):
        call(payment, {**CHARGE, "payment_token": "tok_declined"})
    [item] = stored(payment)
    assert item["status"] == "DECLINED" and "charge_id" not in item


def test_provider_outage_raises_the_transient_error_and_stores_nothing(
    payment: Deployed,
) -> None:
    with pytest.raises(payment.PaymentProviderUnavailable):
        call(payment, {**CHARGE, "payment_token": "tok_unavailable"})
    assert stored(payment) == []


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (["not", "an", "object"], "operation must be one of ['charge', 'refund']"),
        ({**CHARGE, "operation": "capture"}, "operation must be one of"),
        ({**CHARGE, "order_id": ""}, "order_id must be a string"),
        ({**CHARGE, "customer_id": 7}, "customer_id must be a string"),
        ({**CHARGE, "amount_cents": 0}, "amount_cents must be an integer from 1"),
        ({**CHARGE, "amount_cents": 42.5}, "amount_cents must be an integer from 1"),
        ({**CHARGE, "amount_cents": True}, "amount_cents must be an integer from 1"),
        ({**CHARGE, "payment_token": "4111111111111111"}, "payment_token must be a token"),
        ({"operation": "refund"}, "order_id must be a string"),
    ],
)
def test_invalid_requests_raise_and_store_nothing(
    payment: Deployed, event: Any, message: str
) -> None:
    with pytest.raises(payment.InvalidPaymentRequest, match=message.replace("[", r"\[")):
        call(payment, event)
    assert stored(payment) == []


def test_refund_refunds_a_charge_once(payment: Deployed) -> None:
    charged = call(payment, CHARGE)
    refunded = call(payment, REFUND)
    assert refunded == {**charged, "status": "REFUNDED"}
    assert call(payment, REFUND) == {"order_id": "o-1", "status": "REFUNDED"}
    [item] = stored(payment)
    assert item["status"] == "REFUNDED"


def test_a_refunded_payment_is_never_paid(payment: Deployed) -> None:
    """A charge for an order whose payment was refunded fails: it neither counts as paid
    (the saga would ship) nor silently charges the customer again."""
    refunded = call(payment, CHARGE) | {"status": "REFUNDED"}
    assert call(payment, REFUND) == refunded
    with pytest.raises(payment.PaymentRefunded, match="order o-1 was refunded"):
        call(payment, CHARGE)
    [item] = stored(payment)
    assert item["status"] == "REFUNDED" and item["charge_id"] == refunded["charge_id"]


def test_a_refunded_record_alone_is_not_paid(payment: Deployed) -> None:
    """The record as the saga's compensation leaves it, whoever wrote it."""
    payment.table.put_item(
        Item={"order_id": "o-1", "status": "REFUNDED", "amount_cents": 4200, "charge_id": "ch_1"}
    )
    with pytest.raises(payment.PaymentRefunded):
        call(payment, CHARGE)
    assert [item["status"] for item in stored(payment)] == ["REFUNDED"]


def test_refund_without_a_charge_does_nothing(payment: Deployed) -> None:
    assert call(payment, REFUND) == {"order_id": "o-1", "status": "NONE"}
    assert stored(payment) == []
    with pytest.raises(payment.PaymentDeclined):
        call(payment, {**CHARGE, "payment_token": "tok_declined"})
    assert call(payment, REFUND) == {"order_id": "o-1", "status": "DECLINED"}
    assert stored(payment)[0]["status"] == "DECLINED"


def test_a_declined_order_can_be_charged_with_another_card(payment: Deployed) -> None:
    with pytest.raises(payment.PaymentDeclined):
        call(payment, {**CHARGE, "payment_token": "tok_declined"})
    assert call(payment, CHARGE)["status"] == "CHARGED"
    assert [item["status"] for item in stored(payment)] == ["CHARGED"]
