"""What the example REST handlers share: JSON bodies in, JSON numbers out, page tokens.

Deployed as a Lambda layer (``examples/layers/rest_json``), so that each handler's asset
holds only its own code and this lives in one place.
"""

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError

BAD_TOKEN = "next_token is not a token this API returned"


def json_number(value: Any) -> int | float:
    """DynamoDB hands back numbers as Decimal; answer them as JSON numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def resolver() -> APIGatewayRestResolver:
    """A REST resolver whose answers carry DynamoDB numbers as JSON numbers."""
    return APIGatewayRestResolver(serializer=lambda body: json.dumps(body, default=json_number))


def json_body(app: APIGatewayRestResolver, expected: str) -> Any:
    """The request's parsed JSON body; a 400 naming ``expected`` when it is missing or not JSON."""
    if not app.current_event.body:
        raise BadRequestError(f"request body is required: {expected}")
    try:
        return app.current_event.json_body
    except json.JSONDecodeError as error:
        raise BadRequestError(f"request body is not valid JSON: {error.msg}") from None


def stored_item(table: Any, key: dict[str, Any], missing: str) -> dict[str, Any]:
    """The item at ``key`` in ``table``; a 404 saying ``missing`` when there is none."""
    item = table.get_item(Key=key).get("Item")
    if item is None:
        raise NotFoundError(missing)
    return item


def query_page(
    table: Any, query: dict[str, Any], next_token: str | None
) -> tuple[list, str | None]:
    """One page of ``table.query(**query)`` from ``next_token``: its items and the next token.

    Tokens are the page's last key, base64 JSON; one this API did not hand out is a 400.
    """
    if next_token:
        try:
            start = json.loads(base64.urlsafe_b64decode(next_token.encode()))
        except (binascii.Error, ValueError):
            raise BadRequestError(BAD_TOKEN) from None
        if not isinstance(start, dict):
            raise BadRequestError(BAD_TOKEN)
        query = {**query, "ExclusiveStartKey": start}
    page = table.query(**query)
    last = page.get("LastEvaluatedKey")
    token = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
    return page["Items"], token
