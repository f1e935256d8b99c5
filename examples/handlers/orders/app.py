"""Orders API: create, get and list orders, answering bad requests with a 4xx JSON error."""

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler.exceptions import BadRequestError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.conditions import Key
from order_lines import line_problems, short_text
from rest_json import json_body, query_page, resolver, stored_item

PAGE_SIZE = 25

logger = Logger()
tracer = Tracer()


app = resolver()
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def order_problems(body: Any) -> list[str]:
    """What is wrong with a new order, one sentence per problem."""
    if not isinstance(body, dict):
        return ["body must be a JSON object with customer_id and items"]
    problems = []
    unknown = sorted(set(body) - {"customer_id", "items"})
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    if not short_text(body.get("customer_id")):
        problems.append("customer_id must be a string of 1 to 64 characters")
    return problems + line_problems(body.get("items"))


@app.post("/orders")
@tracer.capture_method
def create_order() -> tuple[dict[str, Any], int]:
    body = json_body(app, "a JSON order")
    problems = order_problems(body)
    if problems:
        raise BadRequestError("; ".join(problems))
    order = {
        "id": str(uuid.uuid4()),
        "customer_id": body["customer_id"],
        "items": [{"sku": item["sku"], "quantity": item["quantity"]} for item in body["items"]],
        "status": "PLACED",
        "created_at": datetime.now(UTC).isoformat(),
    }
    table.put_item(Item=order, ConditionExpression="attribute_not_exists(id)")
    logger.info("order placed", extra={"order_id": order["id"]})
    return order, 201


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> dict[str, Any]:
    return stored_item(table, {"id": order_id}, f"order {order_id} not found")


@app.get("/orders")
@tracer.capture_method
def list_orders() -> dict[str, Any]:
    customer_id = app.current_event.get_query_string_value("customer_id")
    if not short_text(customer_id):
        raise BadRequestError("query parameter customer_id is required (1 to 64 characters)")
    query: dict[str, Any] = {
        "IndexName": "by_customer",
        "KeyConditionExpression": Key("customer_id").eq(customer_id),
        "ScanIndexForward": False,
        "Limit": PAGE_SIZE,
    }
    orders, next_token = query_page(
        table, query, app.current_event.get_query_string_value("next_token")
    )
    answer: dict[str, Any] = {"orders": orders}
    if next_token:
        answer["next_token"] = next_token
    return answer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
