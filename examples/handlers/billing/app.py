"""Billing: charge placed orders and refund cancelled ones, from the order-events topic.

The queue receives SNS's JSON envelope (no raw delivery): the order event is its ``Message``
and its ``MessageId`` stays the same when SNS redelivers, so it keys the charge and a
redelivered event is charged once by the payment provider. A message that cannot be billed
is reported as a batch item failure: it returns to the queue and, after five receives, moves
to the billing dead-letter queue, where an alarm fires.
"""

import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

ACTIONS = {"OrderPlaced": "charge", "OrderCancelled": "refund"}
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_TOTAL = Decimal("1000000")

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)


class InvalidOrderEvent(ValueError):
    """The message is not an order event billing can act on; retrying will not help."""


def json_object(text: Any, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        raise InvalidOrderEvent(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidOrderEvent(f"{what} is not a JSON object")
    return value


def billing_entry(envelope: dict[str, Any]) -> dict[str, Any]:
    """The charge or refund an SNS envelope asks for; ``InvalidOrderEvent`` if none."""
    message_id = envelope.get("MessageId")
    if not isinstance(message_id, str) or not message_id:
        raise InvalidOrderEvent("the SNS envelope has no MessageId")
    event = json_object(envelope.get("Message"), "the SNS message")
    action = ACTIONS.get(event.get("event_type"))  # type: ignore[arg-type]
    if action is None:
        raise InvalidOrderEvent(f"event_type must be one of {sorted(ACTIONS)}")
    order = event.get("order")
    if not isinstance(order, dict):
        raise InvalidOrderEvent("order must be an object")
    for field in ("id", "customer_id"):
        if not isinstance(order.get(field), str) or not 1 <= len(order[field]) <= 64:
            raise InvalidOrderEvent(f"order.{field} must be a string of 1 to 64 characters")
    total = order.get("total")
    if isinstance(total, bool) or not isinstance(total, int | float):
        raise InvalidOrderEvent("order.total must be a number")
    amount = Decimal(str(total))
    if not amount.is_finite():
        raise InvalidOrderEvent("order.total must be a finite number")
    amount = amount.quantize(Decimal("0.01"))
    if not Decimal(0) <= amount <= MAX_TOTAL:
        raise InvalidOrderEvent(f"order.total must be between 0 and {MAX_TOTAL}")
    if not isinstance(order.get("currency"), str) or not CURRENCY.match(order["currency"]):
        raise InvalidOrderEvent("order.currency must be an ISO 4217 code such as EUR")
    return {
        "action": action,
        "order_id": order["id"],
        "customer_id": order["customer_id"],
        "amount": str(amount),
        "currency": order["currency"],
        "idempotency_key": message_id,
    }


@tracer.capture_method
def record_handler(record: SQSRecord) -> dict[str, Any]:
    entry = billing_entry(json_object(record.body, "the SQS message body"))
    logger.info("billing entry recorded", extra=entry)
    return entry


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
