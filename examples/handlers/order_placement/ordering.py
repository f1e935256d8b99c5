"""Placing an order: the business logic both entry points share, word for word.

``sync_app`` (behind a SyncApi: the caller waits) and ``async_app`` (behind an AsyncApi: the
caller gets a job id and is told later) both call :func:`place`, so the same request yields
the same stored order whichever way it came in.

An order is priced from :data:`PRICES_CENTS` and stored once: its id is derived from the
caller's ``client_token`` when there is one (``uuid5`` of customer and token), so a retry —
or the same order placed the other way — finds the stored order instead of creating a second
one. A token reused for a *different* order is a conflict.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from order_lines import line_problems, short_text

#: The catalogue: SKU -> unit price in cents (EUR).
PRICES_CENTS = {"book-42": 1999, "mug-7": 899, "poster-3": 1250, "pen-1": 150}
CURRENCY = "EUR"
FIELDS = frozenset({"customer_id", "items", "client_token"})
#: Order ids derived from client tokens live in this namespace.
ORDERS_NAMESPACE = uuid.UUID("6f1c9a52-3d5e-4b7a-9a51-0c2f4e8b7d13")
PLACED = "PLACED"


class InvalidOrder(ValueError):
    """The request is not an order that can be placed: the caller must change it."""


class OrderConflict(ValueError):
    """The client token names a stored order with different contents."""


def problems(request: Any) -> list[str]:
    """What is wrong with an order request, one sentence per problem."""
    if not isinstance(request, dict):
        return ["the order must be a JSON object with customer_id and items"]
    found = []
    unknown = sorted(set(request) - FIELDS)
    if unknown:
        found.append(f"unknown fields: {', '.join(unknown)}")
    if not short_text(request.get("customer_id")):
        found.append("customer_id must be a string of 1 to 64 characters")
    if "client_token" in request and not short_text(request["client_token"]):
        found.append("client_token must be a string of 1 to 64 characters")
    return found + line_problems(request.get("items"), skus=PRICES_CENTS.keys())


def order_id(request: dict[str, Any], default: str) -> str:
    """The id of the order ``request`` asks for: derived from its client token, else ``default``."""
    token = request.get("client_token")
    if token is None:
        return default
    return str(uuid.uuid5(ORDERS_NAMESPACE, f"{request['customer_id']}/{token}"))


def priced(request: dict[str, Any], order_id: str, placed_at: str) -> dict[str, Any]:
    """The order to store for a valid ``request``."""
    lines = [
        {
            "sku": item["sku"],
            "quantity": item["quantity"],
            "unit_price_cents": PRICES_CENTS[item["sku"]],
            "line_total_cents": PRICES_CENTS[item["sku"]] * item["quantity"],
        }
        for item in request["items"]
    ]
    return {
        "id": order_id,
        "customer_id": request["customer_id"],
        "lines": lines,
        "total_cents": sum(line["line_total_cents"] for line in lines),
        "currency": CURRENCY,
        "status": PLACED,
        "placed_at": placed_at,
    }


def same_request(stored: dict[str, Any], order: dict[str, Any]) -> bool:
    def asked(each: dict[str, Any]) -> list[tuple[str, int]]:
        return [(line["sku"], int(line["quantity"])) for line in each["lines"]]

    return stored["customer_id"] == order["customer_id"] and asked(stored) == asked(order)


def place(table: Any, request: Any, *, default_id: str) -> tuple[dict[str, Any], bool]:
    """Store the order ``request`` asks for; answer it and whether it is new.

    ``InvalidOrder`` if the request is not an order; ``OrderConflict`` if its client token
    already names a different order.
    """
    found = problems(request)
    if found:
        raise InvalidOrder("; ".join(found))
    order = priced(
        request,
        order_id(request, default_id),
        datetime.now(UTC).isoformat(timespec="milliseconds"),
    )
    try:
        table.put_item(Item=order, ConditionExpression="attribute_not_exists(id)")
        return order, True
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    stored = table.get_item(Key={"id": order["id"]}, ConsistentRead=True)["Item"]
    if not same_request(stored, order):
        raise OrderConflict(
            f"client_token {request['client_token']!r} already names order {order['id']} "
            "with other items: use a new token for a new order"
        )
    return stored, False
