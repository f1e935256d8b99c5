"""SyncApi reference (orders): create, read, list; unknown order 404; bad order 400; IAM."""

import pytest

pytestmark = pytest.mark.e2e

STACK = "SyncApi"

ORDER = {"customer_id": "e2e-sync", "items": [{"sku": "book-42", "quantity": 2}]}


@pytest.fixture(scope="module")
def api(stack):
    return stack(STACK).api("ApiUrl")


def test_an_order_is_created_then_read_and_listed(api):
    created = api.call("POST", "orders", ORDER)
    assert created.status == 201, created
    order = created.json
    assert order["customer_id"] == "e2e-sync"
    assert order["items"] == ORDER["items"]
    assert order["status"] == "PLACED"

    read = api.call("GET", f"orders/{order['id']}")
    assert read.status == 200, read
    assert read.json == order

    listed = api.call("GET", "orders?customer_id=e2e-sync")
    assert listed.status == 200, listed
    assert order["id"] in [each["id"] for each in listed.json["orders"]]


def test_an_unknown_order_is_a_404_json_error(api):
    answer = api.call("GET", "orders/no-such-order")
    assert answer.status == 404, answer
    assert "not found" in answer.json["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"customer_id": "e2e-sync"},  # no items
        {"customer_id": "e2e-sync", "items": [{"sku": "book-42", "quantity": 0}]},
        {"customer_id": "e2e-sync", "items": [], "extra": True},
    ],
)
def test_a_bad_order_is_a_400_json_error_and_stores_nothing(api, body):
    answer = api.call("POST", "orders", body)
    assert answer.status == 400, answer
    assert answer.json["message"]
    listed = api.call("GET", "orders?customer_id=e2e-sync")
    assert all(each["items"] for each in listed.json["orders"])


def test_a_body_that_is_not_json_is_a_400(api):
    answer = api.call("POST", "orders", raw=b"{not json")
    assert answer.status == 400, answer
    assert answer.json["message"]


def test_an_unsigned_call_is_refused(api):
    """Every method requires IAM (SigV4): API Gateway answers 403 before any code runs."""
    assert api.call("GET", "orders/anything", signed=False).status == 403
