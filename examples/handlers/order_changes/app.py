"""Order changes: the enrichment of the orders table's pipe (ChangeCapture).

EventBridge Pipes invokes it synchronously with a batch of DynamoDB stream records (a JSON
list). It returns the same records, each with an ``enrichment`` object: the order after and
before the change as plain JSON (``order``, ``previous``; None where the change has no such
image) and its derived figures. A record that is not a valid order raises ``InvalidChange``:
the pipe halves the batch until that record is alone, retries it, then describes it in the
pipe's dead-letter queue; the other records of the batch are published.
"""

from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer

STATUSES = ("PLACED", "PAID", "SHIPPED", "CANCELLED")

logger = Logger()
tracer = Tracer()
deserializer = TypeDeserializer()


class InvalidChange(ValueError):
    """A change that is not a valid order: retrying will not help; it ends in the DLQ."""


def plain(image: dict[str, Any] | None) -> dict[str, Any] | None:
    """A DynamoDB-JSON image as plain JSON (numbers as int, or float for fractions)."""
    if image is None:
        return None
    return _numbers({name: deserializer.deserialize(value) for name, value in image.items()})


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [_numbers(item) for item in value]
    return value


def order_problems(order: dict[str, Any]) -> list[str]:
    """What is wrong with an order image, one sentence per problem."""
    problems = []
    for field in ("order_id", "customer_id"):
        if not isinstance(order.get(field), str) or not order[field]:
            problems.append(f"{field} must be a non-empty string")
    if order.get("status") not in STATUSES:
        problems.append(f"status must be one of {', '.join(STATUSES)}")
    total = order.get("total_cents")
    if type(total) is not int or total < 0:
        problems.append("total_cents must be a whole number of cents, 0 or more")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        problems.append("items must be a non-empty list")
    return problems


def enrich(record: dict[str, Any]) -> dict[str, Any]:
    change = record.get("dynamodb")
    if not isinstance(change, dict) or record.get("eventName") not in (
        "INSERT",
        "MODIFY",
        "REMOVE",
    ):
        raise InvalidChange(f"record {record.get('eventID')!r} is not a DynamoDB stream record")
    order, previous = plain(change.get("NewImage")), plain(change.get("OldImage"))
    current = order if order is not None else previous
    problems = order_problems(current) if current is not None else ["the record has no image"]
    if problems:
        raise InvalidChange(f"change {record['eventID']}: " + "; ".join(problems))
    assert current is not None
    return {
        **record,
        "enrichment": {
            "order": order,
            "previous": previous,
            "units": sum(item.get("quantity", 0) for item in current["items"]),
        },
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: list[dict[str, Any]], context: LambdaContext) -> list[dict[str, Any]]:
    if not isinstance(event, list):
        raise InvalidChange("expected the pipe's batch: a list of DynamoDB stream records")
    enriched = [enrich(record) for record in event]
    logger.info("changes enriched", extra={"count": len(enriched)})
    return enriched
