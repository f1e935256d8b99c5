"""Shipping: create a shipment for each placed order that needs delivery, cancel it on cancel.

The subscription filters on the message body (only standard and express deliveries reach this
queue; downloads never do) and uses raw message delivery: the SQS body is the published order
event itself and ``event_type`` arrives as an SQS message attribute. A message that cannot be
shipped is reported as a batch item failure; after five receives it waits in the shipping
dead-letter queue.
"""

import json
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

ACTIONS = {"OrderPlaced": "create_shipment", "OrderCancelled": "cancel_shipment"}
DELIVERIES = {"standard", "express"}
MAX_ITEMS = 50
MAX_QUANTITY = 100

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)


class InvalidOrderEvent(ValueError):
    """The message is not an order event shipping can act on; retrying will not help."""


def items_of(order: dict[str, Any]) -> list[dict[str, Any]]:
    items = order.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidOrderEvent(f"order.items must be a list of 1 to {MAX_ITEMS} items")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str) or not item["sku"]:
            raise InvalidOrderEvent(f"order.items[{index}].sku must be a non-empty string")
        quantity = item.get("quantity")
        if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidOrderEvent(
                f"order.items[{index}].quantity must be an integer from 1 to {MAX_QUANTITY}"
            )
    return [{"sku": item["sku"], "quantity": item["quantity"]} for item in items]


def shipping_request(body: str) -> dict[str, Any]:
    """What shipping must do for one raw order event; ``InvalidOrderEvent`` if nothing."""
    try:
        event = json.loads(body)
    except json.JSONDecodeError:
        raise InvalidOrderEvent("the message body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("order"), dict):
        raise InvalidOrderEvent("the message must be a JSON object with an order")
    action = ACTIONS.get(event.get("event_type"))  # type: ignore[arg-type]
    if action is None:
        raise InvalidOrderEvent(f"event_type must be one of {sorted(ACTIONS)}")
    order = event["order"]
    if not isinstance(order.get("id"), str) or not order["id"]:
        raise InvalidOrderEvent("order.id must be a non-empty string")
    if order.get("delivery") not in DELIVERIES:
        raise InvalidOrderEvent(f"order.delivery must be one of {sorted(DELIVERIES)}")
    request: dict[str, Any] = {"action": action, "order_id": order["id"]}
    if action == "create_shipment":
        request.update(delivery=order["delivery"], items=items_of(order))
    return request


@tracer.capture_method
def record_handler(record: SQSRecord) -> dict[str, Any]:
    request = shipping_request(record.body)
    logger.info("shipping request recorded", extra=request)
    return request


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
