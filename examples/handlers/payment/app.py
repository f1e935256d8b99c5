"""Payments for the order saga: charge an order, refund it. Both are safe to repeat.

Step Functions invokes this function directly (``LambdaInvoke``) with
``{"operation": "charge" | "refund", "order_id": ..., ...}``. A failure is raised as an
exception: its class name becomes the error the saga sees (``PaymentDeclined``,
``PaymentRefunded``, ``InvalidPaymentRequest``, ``PaymentProviderUnavailable``), so the state
machine can retry the transient one and compensate after the others.

Only a ``CHARGED`` payment counts as paid: a repeated charge returns it (charge once). A
``REFUNDED`` one is money given back, never a payment: charging that order again fails.

The payment provider is simulated: payment tokens name the outcome, as a provider's test
tokens do (``tok_declined`` is declined, ``tok_unavailable`` finds the provider down, any
other ``tok_...`` is charged).
"""

import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeGuard

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

MAX_AMOUNT_CENTS = 1_000_000
DECLINED_TOKEN = "tok_declined"
UNAVAILABLE_TOKEN = "tok_unavailable"

logger = Logger()
tracer = Tracer()
table = boto3.resource("dynamodb").Table(os.environ["PAYMENTS_TABLE"])


class InvalidPaymentRequest(Exception):
    """The request cannot be a payment: a bug upstream; retrying will not help."""


class PaymentDeclined(Exception):
    """The provider declined the charge: the order cannot go on."""


class PaymentRefunded(Exception):
    """The order's payment was refunded (the saga compensated it): it is not paid."""


class PaymentProviderUnavailable(Exception):
    """The provider could not be reached: transient, the saga retries it."""


def short_text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 1 <= len(value) <= 64


def request_problems(event: Any, fields: tuple[str, ...]) -> list[str]:
    if not isinstance(event, dict):
        return ["the request must be a JSON object"]
    problems = []
    if "order_id" in fields and not short_text(event.get("order_id")):
        problems.append("order_id must be a string of 1 to 64 characters")
    if "customer_id" in fields and not short_text(event.get("customer_id")):
        problems.append("customer_id must be a string of 1 to 64 characters")
    if "amount_cents" in fields:
        amount = event.get("amount_cents")
        if type(amount) is not int or not 1 <= amount <= MAX_AMOUNT_CENTS:
            problems.append(f"amount_cents must be an integer from 1 to {MAX_AMOUNT_CENTS}")
    if "payment_token" in fields:
        token = event.get("payment_token")
        if not short_text(token) or not token.startswith("tok_"):
            problems.append("payment_token must be a token starting with 'tok_'")
    return problems


def answer(item: dict[str, Any]) -> dict[str, Any]:
    """The stored payment as the saga's step result (JSON numbers, not Decimals)."""
    return {
        "order_id": item["order_id"],
        "status": item["status"],
        "amount_cents": int(item["amount_cents"]),
        **({"charge_id": item["charge_id"]} if "charge_id" in item else {}),
    }


@tracer.capture_method
def charge(event: dict[str, Any]) -> dict[str, Any]:
    fields = ("order_id", "customer_id", "amount_cents", "payment_token")
    problems = request_problems(event, fields)
    if problems:
        raise InvalidPaymentRequest("; ".join(problems))
    order_id = event["order_id"]
    existing = table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
    status = existing["status"] if existing is not None else None
    if status == "CHARGED":
        logger.info("order already charged", extra={"order_id": order_id})
        return answer(existing)  # a retry of a charge that went through: charge once only
    if status == "REFUNDED":
        raise PaymentRefunded(f"the payment of order {order_id} was refunded: place a new order")
    token = event["payment_token"]
    if token == UNAVAILABLE_TOKEN:
        raise PaymentProviderUnavailable("the payment provider did not answer; try again")
    payment = {
        "order_id": order_id,
        "customer_id": event["customer_id"],
        "amount_cents": Decimal(event["amount_cents"]),
        "updated_at": datetime.now(UTC).isoformat(),
    }
    if token == DECLINED_TOKEN:
        table.put_item(Item={**payment, "status": "DECLINED"})
        logger.info("payment declined", extra={"order_id": order_id})
        raise PaymentDeclined(f"the card was declined for order {order_id}")
    payment.update(status="CHARGED", charge_id=f"ch_{uuid.uuid4().hex}")
    table.put_item(Item=payment)
    logger.info("payment charged", extra={"order_id": order_id})
    return answer(payment)


@tracer.capture_method
def refund(event: dict[str, Any]) -> dict[str, Any]:
    problems = request_problems(event, ("order_id",))
    if problems:
        raise InvalidPaymentRequest("; ".join(problems))
    order_id = event["order_id"]
    existing = table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
    if existing is None or existing["status"] != "CHARGED":
        # Nothing was charged (declined, never reached) or it is already refunded.
        logger.info("nothing to refund", extra={"order_id": order_id})
        return {"order_id": order_id, "status": existing["status"] if existing else "NONE"}
    # The condition makes a concurrent refund fail (and the saga retry it, finding it done).
    updated = table.update_item(
        Key={"order_id": order_id},
        UpdateExpression="SET #status = :refunded, updated_at = :now",
        ConditionExpression="#status = :charged",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":refunded": "REFUNDED",
            ":charged": "CHARGED",
            ":now": datetime.now(UTC).isoformat(),
        },
        ReturnValues="ALL_NEW",
    )["Attributes"]
    logger.info("payment refunded", extra={"order_id": order_id})
    return answer(updated)


OPERATIONS = {"charge": charge, "refund": refund}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    operation = OPERATIONS.get(event.get("operation", "")) if isinstance(event, dict) else None
    if operation is None:
        raise InvalidPaymentRequest(f"operation must be one of {sorted(OPERATIONS)}")
    return operation(event)
