"""Place an order synchronously (SyncApi): the caller waits for the stored order.

- ``POST /orders`` ``{"customer_id", "items": [{"sku", "quantity"}], "client_token"?}``: 201
  with the new order, 200 with the stored one when the client token already placed it, 400
  for an order that cannot be placed, 409 when the token names a different order.
- ``GET /orders/{order_id}``: the stored order, 404 if unknown.

The business logic is :mod:`ordering`, shared word for word with ``async_app``.
"""

import os
import uuid
from typing import Any

import boto3
import ordering
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    ServiceError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from rest_json import json_body, resolver, stored_item

logger = Logger()
tracer = Tracer()


app = resolver()
orders = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])


@app.post("/orders")
@tracer.capture_method
def place_order() -> tuple[dict[str, Any], int]:
    request = json_body(app, "a JSON order")
    try:
        order, created = ordering.place(orders, request, default_id=str(uuid.uuid4()))
    except ordering.InvalidOrder as error:
        raise BadRequestError(str(error)) from None
    except ordering.OrderConflict as error:
        raise ServiceError(409, str(error)) from None
    logger.info("order placed" if created else "order already placed", order_id=order["id"])
    return order, 201 if created else 200


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> dict[str, Any]:
    return stored_item(orders, {"id": order_id}, f"order {order_id} not found")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
