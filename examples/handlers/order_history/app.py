"""Order history: the customer order-history service keeps its own copy of each order.

A purpose-built store: one item per customer and order (``customer_id``, ``order_id``) with
what the history page shows. It is fed by the orders table's change events (ChangeCapture,
routed by an EventBridge rule), so it is **eventually consistent**: each item records the
change it reflects (``sequence``, the stream's sequence number, and ``changed_at``), and a
change older than the one already applied is ignored (a conditional write), so events that
arrive late or twice never roll the history back. A removed order leaves a tombstone
(``deleted``) that keeps older changes out too.

EventBridge invokes it asynchronously: an event it cannot handle raises ``InvalidEvent``,
and after Lambda's retries the route's dead-letter queue receives it.
"""

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

SOURCE = "shop.orders"
CHANGES = ("INSERT", "MODIFY", "REMOVE")
#: What the history keeps of an order (the enrichment validated them).
FIELDS = ("customer_id", "order_id", "status", "total_cents")

logger = Logger()
tracer = Tracer()
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


class InvalidEvent(ValueError):
    """An event this function cannot handle: retrying will not help; it ends in the DLQ."""


def summary(event: EventBridgeEvent) -> dict[str, Any]:
    """The history item an order change event leads to."""
    detail = event.detail
    change = detail.get("dynamodb") if isinstance(detail, dict) else None
    enrichment = detail.get("enrichment") if isinstance(detail, dict) else None
    if not isinstance(change, dict) or not isinstance(enrichment, dict):
        raise InvalidEvent("detail must hold the change (dynamodb) and its enrichment")
    sequence = change.get("SequenceNumber")
    if not isinstance(sequence, str) or not sequence.isdigit():
        raise InvalidEvent("detail.dynamodb.SequenceNumber must be a string of digits")
    removed = event.detail_type == "REMOVE"
    image = "previous" if removed else "order"
    order = enrichment.get(image)
    needed = ("customer_id", "order_id") if removed else FIELDS
    if not isinstance(order, dict) or any(order.get(field) is None for field in needed):
        raise InvalidEvent(f"detail.enrichment.{image} must hold {', '.join(needed)}")
    item = {
        "customer_id": order["customer_id"],
        "order_id": order["order_id"],
        "sequence": int(sequence),
        "changed_at": change.get("ApproximateCreationDateTime"),
        "event_id": event.get_id,
        "deleted": removed,
    }
    if not removed:
        item.update(status=order["status"], total_cents=order["total_cents"])
        item["units"] = enrichment.get("units")
    return item


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    if event.source != SOURCE or event.detail_type not in CHANGES:
        raise InvalidEvent(
            f"expected an order change from {SOURCE!r}, got {event.detail_type!r} "
            f"from {event.source!r}"
        )
    item = summary(event)
    try:
        table.put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(order_id) OR #sequence < :sequence",
            ExpressionAttributeNames={"#sequence": "sequence"},
            ExpressionAttributeValues={":sequence": item["sequence"]},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.info("stale change ignored", extra={"order_id": item["order_id"]})
        return {"order_id": item["order_id"], "applied": False}
    logger.info(
        "history updated", extra={"order_id": item["order_id"], "sequence": item["sequence"]}
    )
    return {"order_id": item["order_id"], "applied": True}
