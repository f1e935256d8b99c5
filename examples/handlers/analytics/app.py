"""Analytics: count high-value orders, invoked by SNS for each one.

The subscription's body filter lets only placed orders of 1,000 or more through, so this
function runs rarely. SNS invokes it asynchronously: a message it cannot read raises, Lambda
retries twice, then the event goes to the analytics dead-letter queue (alarmed).
"""

import json
import math
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

HIGH_VALUE = 1000

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class InvalidOrderEvent(ValueError):
    """The message is not a high-value order event."""


def high_value_order(message: str) -> dict[str, Any]:
    """The order a placed-order message carries, if it is a high-value one."""
    try:
        event = json.loads(message)
    except json.JSONDecodeError:
        raise InvalidOrderEvent("the SNS message is not JSON") from None
    if not isinstance(event, dict) or event.get("event_type") != "OrderPlaced":
        raise InvalidOrderEvent("expected an OrderPlaced event")
    order = event.get("order")
    if not isinstance(order, dict) or not isinstance(order.get("id"), str):
        raise InvalidOrderEvent("order.id must be a string")
    total = order.get("total")
    if (
        isinstance(total, bool)
        or not isinstance(total, int | float)
        or not math.isfinite(total)
        or total < HIGH_VALUE
    ):
        raise InvalidOrderEvent(f"order.total must be a number of at least {HIGH_VALUE}")
    return {"order_id": order["id"], "total": total, "currency": order.get("currency")}


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> dict[str, int]:
    orders = [high_value_order(record.sns.message) for record in event.records]
    for order in orders:
        logger.info("high-value order", extra=order)
        metrics.add_metric(name="HighValueOrders", unit=MetricUnit.Count, value=1)
    return {"high_value_orders": len(orders)}
