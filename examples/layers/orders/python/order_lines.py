"""What the example order handlers share: the rules of an order's lines.

Deployed as a Lambda layer (``examples/layers/orders``), so that the orders API, the order
placement, the order confirmation and shipping check an order's items in one place.
"""

from collections.abc import Collection
from typing import Any, TypeGuard

MAX_ITEMS = 50
MAX_QUANTITY = 100


def short_text(value: Any) -> TypeGuard[str]:
    """Whether ``value`` is a string of 1 to 64 characters (an id, a SKU, a token)."""
    return isinstance(value, str) and 1 <= len(value) <= 64


def line_problems(
    items: Any, *, path: str = "items", skus: Collection[str] | None = None
) -> list[str]:
    """What is wrong with an order's ``items``, one sentence per problem naming its ``path``.

    Each item is a ``sku`` (one of ``skus``; without them, any string of 1 to 64 characters)
    and an integer ``quantity`` from 1 to :data:`MAX_QUANTITY`.
    """
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        return [f"{path} must be a list of 1 to {MAX_ITEMS} items"]
    sku_rule = "a string of 1 to 64 characters" if skus is None else f"one of {sorted(skus)}"
    problems = []
    for index, item in enumerate(items):
        sku = item.get("sku") if isinstance(item, dict) else None
        if not short_text(sku) or (skus is not None and sku not in skus):
            problems.append(f"{path}[{index}].sku must be {sku_rule}")
            continue
        quantity = item.get("quantity")
        if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
            problems.append(f"{path}[{index}].quantity must be an integer from 1 to {MAX_QUANTITY}")
    return problems
