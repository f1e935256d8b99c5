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
from order_lines import line_problems

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

ACTIONS = {"OrderPlaced": "create_shipment", "OrderCancelled": "cancel_shipment"}
DELIVERIES = {"standard", "express"}

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)


class InvalidOrderEvent(ValueError):
    """The message is not an order event shipping can act on; retrying will not help."""


def items_of(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's lines to ship; ``InvalidOrderEvent`` naming the first problem."""
    problems = line_problems(order.get("items"), path="order.items")
    if problems:
        raise InvalidOrderEvent(problems[0])
    return [{"sku": item["sku"], "quantity": item["quantity"]} for item in order["items"]]


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
