"""Placing an order both ways: the sync and the async front door store one and the same order."""

import uuid

import pytest
from boto3.dynamodb.conditions import Attr

from tests.e2e.conftest import assert_dead_lettered_failed_job

pytestmark = pytest.mark.e2e

STACK = "OrdersBothWays"
FINAL_TIMEOUT = 90


@pytest.fixture(scope="module")
def sync_api(stack):
    return stack(STACK).api("SyncApiUrl")


@pytest.fixture(scope="module")
def jobs(jobs_api):
    return jobs_api(STACK, "AsyncApiUrl", "orders", "AsyncOrders")


#: An unknown SKU passes the API's schema; only the business logic knows it.
UNKNOWN_SKU = {
    "customer_id": "c-e2e",
    "items": [{"sku": f"nope-{uuid.uuid4().hex[:6]}", "quantity": 1}],
}


@pytest.fixture(scope="module", autouse=True)
def poison_job(jobs):
    """Submitted before the other tests so that its retries overlap them; checked last."""
    return jobs.submit(UNKNOWN_SKU)


@pytest.fixture(scope="module")
def orders(stack, session, endpoint):
    return session.resource("dynamodb", endpoint_url=endpoint).Table(
        stack(STACK).resource("Orders")
    )


def stored_for(orders, customer_id: str) -> list[dict]:
    """Observed, not written: the orders the table holds for ``customer_id``."""
    return orders.scan(FilterExpression=Attr("customer_id").eq(customer_id), ConsistentRead=True)[
        "Items"
    ]


def test_the_same_order_placed_both_ways_is_stored_once(sync_api, jobs, orders):
    customer = f"c-e2e-{uuid.uuid4().hex[:8]}"
    request = {
        "customer_id": customer,
        "client_token": "checkout-1",
        "items": [{"sku": "book-42", "quantity": 2}, {"sku": "pen-1", "quantity": 3}],
    }
    placed = sync_api.call("POST", "orders", request)
    assert placed.status == 201, placed
    order = placed.json
    assert order["total_cents"] == 2 * 1999 + 3 * 150

    job_id = jobs.submit(request)
    done = jobs.finished(job_id, timeout=FINAL_TIMEOUT)
    assert done["status"] == "succeeded", done
    assert done["result"] == order  # found the stored order, did not place a second

    again = sync_api.call("POST", "orders", request)
    assert again.status == 200 and again.json == order
    assert sync_api.call("GET", f"orders/{order['id']}").json == order
    assert [item["id"] for item in stored_for(orders, customer)] == [order["id"]]


def test_each_way_places_an_order_without_a_token(sync_api, jobs, orders):
    customer = f"c-e2e-{uuid.uuid4().hex[:8]}"
    request = {"customer_id": customer, "items": [{"sku": "mug-7", "quantity": 1}]}
    sync_order = sync_api.call("POST", "orders", request)
    assert sync_order.status == 201, sync_order
    job_id = jobs.submit(request)
    done = jobs.finished(job_id, timeout=FINAL_TIMEOUT)
    assert done["status"] == "succeeded", done
    assert done["result"]["id"] == job_id  # the async order's id is its job id
    ids = sorted(item["id"] for item in stored_for(orders, customer))
    assert ids == sorted([sync_order.json["id"], job_id])


def test_an_order_that_cannot_be_placed_is_refused_both_ways(
    sync_api, jobs, poison_job, stack, queue
):
    refused = sync_api.call("POST", "orders", UNKNOWN_SKU)
    assert refused.status == 400, refused
    assert "sku must be one of" in refused.json["message"]

    assert_dead_lettered_failed_job(
        jobs,
        stack(STACK),
        queue,
        "AsyncOrders",
        (poison_job, UNKNOWN_SKU),
        "sku must be one of",
        FINAL_TIMEOUT,
    )
