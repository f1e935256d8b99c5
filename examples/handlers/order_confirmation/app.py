"""Order confirmation: an "Order Placed" event becomes a message to the customer (via SNS).

EventBridge invokes this function asynchronously. An event it cannot handle raises
``InvalidEvent``: Lambda retries it twice, then the route's dead-letter queue receives the
event with the error, and its alarm fires. Delivery is at least once: the ``event_id``
message attribute lets the delivery channels drop a duplicate.
"""

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from order_lines import line_problems, short_text

SOURCE = "commerce.orders"
DETAIL_TYPE = "Order Placed"

logger = Logger()
tracer = Tracer()
sns = boto3.client("sns")
TOPIC_ARN = os.environ["TOPIC_ARN"]


class InvalidEvent(ValueError):
    """An event this function cannot handle: retrying will not help; it ends in the DLQ."""


def order_problems(detail: Any) -> list[str]:
    """What is wrong with an "Order Placed" detail, one sentence per problem."""
    if not isinstance(detail, dict):
        return ["detail must be a JSON object"]
    problems = []
    for field in ("order_id", "customer_id"):
        if not short_text(detail.get(field)):
            problems.append(f"detail.{field} must be a string of 1 to 64 characters")
    return problems + line_problems(detail.get("items"), path="detail.items")


def confirmation(event: EventBridgeEvent) -> dict[str, Any]:
    """The SNS message for a valid "Order Placed" event."""
    order = event.detail
    units = sum(item["quantity"] for item in order["items"])
    lines = [f"- {item['quantity']} x {item['sku']}" for item in order["items"]]
    return {
        "Subject": f"Your order {order['order_id']} is placed",
        "Message": "\n".join(
            [f"Thank you! We received your order {order['order_id']} ({units} items):", *lines]
        ),
        "MessageAttributes": {
            "customer_id": {"DataType": "String", "StringValue": order["customer_id"]},
            "event_id": {"DataType": "String", "StringValue": event.get_id},
        },
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, str]:
    if event.source != SOURCE or event.detail_type != DETAIL_TYPE:
        raise InvalidEvent(
            f"expected {DETAIL_TYPE!r} from {SOURCE!r}, got {event.detail_type!r} "
            f"from {event.source!r}"
        )
    problems = order_problems(event.get("detail"))
    if problems:
        raise InvalidEvent("; ".join(problems))
    message_id = sns.publish(TopicArn=TOPIC_ARN, **confirmation(event))["MessageId"]
    order_id = event.detail["order_id"]
    logger.info("confirmation sent", extra={"order_id": order_id, "message_id": message_id})
    return {"order_id": order_id, "message_id": message_id}
