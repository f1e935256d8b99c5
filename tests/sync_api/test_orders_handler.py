"""The orders handler against moto DynamoDB, with the table the stack really defines, under
the function's own execution role (tests/support/iam.py): a call its role does not allow
fails here as in AWS."""

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.support.aws import create_table_from_template, load_handler
from tests.support.cdk import resources
from tests.support.events import LambdaContext, rest_api_event
from tests.support.iam import acting_as, by_logical_id

ORDER = {"customer_id": "c-1", "items": [{"sku": "book-42", "quantity": 2}]}


@pytest.fixture
def orders(
    aws: None, templates: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """The handler, loaded as a cold start does; the test runs as the function's role."""
    template = templates["SyncApi"]
    monkeypatch.setenv("TABLE_NAME", create_table_from_template(template))
    [function] = resources(template, "AWS::Lambda::Function")
    handler = load_handler("examples/handlers/orders/app.py")
    with acting_as(template, function, by_logical_id(template)):
        yield handler


def call(handler: ModuleType, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler.handler(event, LambdaContext())
    # REST (v1) proxy responses carry headers as lists.
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    return response["statusCode"], json.loads(response["body"])


def place(handler: ModuleType, body: Any) -> tuple[int, Any]:
    return call(handler, rest_api_event("POST", "/orders", body=body))


def get(handler: ModuleType, order_id: str) -> tuple[int, Any]:
    return call(
        handler,
        rest_api_event(
            "GET",
            f"/orders/{order_id}",
            resource="/orders/{order_id}",
            path_parameters={"order_id": order_id},
        ),
    )


def test_create_then_get_returns_the_stored_order(orders: ModuleType) -> None:
    status, created = place(orders, ORDER)
    assert status == 201
    assert created["customer_id"] == "c-1" and created["status"] == "PLACED"
    assert created["items"] == [{"sku": "book-42", "quantity": 2}]
    status, fetched = get(orders, created["id"])
    assert status == 200
    assert fetched == created


def test_unknown_order_is_404_with_a_message(orders: ModuleType) -> None:
    status, body = get(orders, "no-such-order")
    assert status == 404
    assert body["message"] == "order no-such-order not found"


def test_list_returns_a_customers_orders_newest_first_in_pages(
    orders: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders, "PAGE_SIZE", 2)
    placed = [place(orders, ORDER)[1]["id"] for _ in range(3)]
    place(orders, {**ORDER, "customer_id": "someone-else"})
    status, first = call(orders, rest_api_event("GET", "/orders", query={"customer_id": "c-1"}))
    assert status == 200 and len(first["orders"]) == 2 and "next_token" in first
    status, second = call(
        orders,
        rest_api_event(
            "GET", "/orders", query={"customer_id": "c-1", "next_token": first["next_token"]}
        ),
    )
    assert status == 200 and "next_token" not in second
    listed = [order["id"] for order in first["orders"] + second["orders"]]
    assert sorted(listed) == sorted(placed)
    created = [order["created_at"] for order in first["orders"] + second["orders"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (None, "query parameter customer_id is required"),
        ({"customer_id": "c-1", "next_token": "!!not-base64!!"}, "next_token is not a token"),
        ({"customer_id": "c-1", "next_token": "WzFd"}, "next_token is not a token"),  # "[1]"
    ],
)
def test_bad_list_queries_are_400(orders: ModuleType, query: Any, message: str) -> None:
    status, body = call(orders, rest_api_event("GET", "/orders", query=query))
    assert status == 400
    assert message in body["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "request body is required"),
        ("{not json", "request body is not valid JSON"),
        ("[1, 2]", "body must be a JSON object"),
        ({"items": ORDER["items"]}, "customer_id must be a string"),
        ({"customer_id": "c-1", "items": []}, "items must be a list of 1 to 50 items"),
        (
            {"customer_id": "c-1", "items": [{"sku": "a", "quantity": 0}]},
            "items[0].quantity must be an integer from 1 to 100",
        ),
        (
            {"customer_id": "c-1", "items": [{"sku": "a", "quantity": True}]},
            "items[0].quantity must be an integer from 1 to 100",
        ),
        (
            {"customer_id": "c-1", "items": [{"quantity": 1}]},
            "items[0].sku must be a string of 1 to 64 characters",
        ),
        ({**ORDER, "discount": 99}, "unknown fields: discount"),
    ],
)
def test_malformed_or_invalid_orders_are_400_and_store_nothing(
    orders: ModuleType, body: Any, message: str
) -> None:
    status, answer = place(orders, body)
    assert status == 400
    assert message in answer["message"]
    assert orders.table.scan()["Items"] == []


def test_unknown_route_is_404(orders: ModuleType) -> None:
    status, _ = call(orders, rest_api_event("DELETE", "/orders"))
    assert status == 404
