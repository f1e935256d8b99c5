"""Order saga: after the documented one-command seed, the documented OrderPlaced event
completes an order; a declined payment compensates (stock released, order cancelled).

The seed and the event are patterns/workflow.md's "Try it" commands.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import CREDENTIALS, eventually

pytestmark = pytest.mark.e2e

STACK = "OrderSaga"
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


@pytest.fixture(scope="module")
def tables(stack, session, endpoint):
    dynamodb = session.resource("dynamodb", endpoint_url=endpoint)
    deployed = stack(STACK)
    return {
        name: dynamodb.Table(deployed.resource(name))
        for name in ("Inventory", "Payments", "Shipments", "Orders")
    }


@pytest.fixture(scope="module")
def seeded(tables, endpoint):
    """The documented seed, as the page says: ``python -m examples.seed_inventory OrderSaga``."""
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
    done = subprocess.run(
        [sys.executable, "-m", "examples.seed_inventory", STACK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return tables["Inventory"].get_item(Key={"sku": "book-42"}, ConsistentRead=True)["Item"]


def place(client, order_id: str, token: str) -> dict:
    detail = {
        "order_id": order_id,
        "customer_id": "c-e2e",
        "sku": "book-42",
        "quantity": 2,
        "amount_cents": 4200,
        "payment_token": token,
        "shipping_address": "1 Main St, Springfield",
    }
    answer = client("events").put_events(
        Entries=[
            {
                "Source": "com.example.orders",
                "DetailType": "OrderPlaced",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0, answer
    return detail


def order_status(tables, order_id: str, wanted: set[str]):
    item = tables["Orders"].get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
    return item if item and item.get("status") in wanted else None


def available(tables) -> int:
    return int(
        tables["Inventory"].get_item(Key={"sku": "book-42"}, ConsistentRead=True)["Item"][
            "available"
        ]
    )


def test_the_documented_event_completes_an_order(client, tables, seeded):
    before = available(tables)
    order_id = f"o-e2e-{uuid.uuid4().hex[:8]}"
    place(client, order_id, "tok_visa")
    order = eventually(
        lambda: order_status(tables, order_id, {"CONFIRMED", "CANCELLED"}),
        timeout=TIMEOUT,
        what=f"order {order_id} is confirmed or cancelled",
    )
    assert order["status"] == "CONFIRMED", order
    assert available(tables) == before - 2
    payment = tables["Payments"].get_item(Key={"order_id": order_id}, ConsistentRead=True)["Item"]
    assert payment["status"] == "CHARGED"
    shipment = tables["Shipments"].get_item(Key={"order_id": order_id}, ConsistentRead=True)["Item"]
    assert shipment["status"] == "CREATED"


def test_a_declined_payment_compensates(client, tables, seeded):
    before = available(tables)
    order_id = f"o-e2e-{uuid.uuid4().hex[:8]}"
    place(client, order_id, "tok_declined")
    order = eventually(
        lambda: order_status(tables, order_id, {"CONFIRMED", "CANCELLED"}),
        timeout=TIMEOUT,
        what=f"order {order_id} is confirmed or cancelled",
    )
    assert order["status"] == "CANCELLED", order
    assert available(tables) == before  # the reservation was released
    payment = tables["Payments"].get_item(Key={"order_id": order_id}, ConsistentRead=True)["Item"]
    assert payment["status"] == "DECLINED"
    assert "Item" not in tables["Shipments"].get_item(
        Key={"order_id": order_id}, ConsistentRead=True
    )
