"""One order, placed both ways, in moto: the same business module, the same stored order.

The sync side is the SyncApi function (``sync_app.handler``) called with REST proxy events;
the async side is what follows ``POST /orders`` on the AsyncApi: the message API Gateway
queues, the AsyncApi runtime's worker wrapping ``async_app.process`` (run by its queue's
event source mapping), the jobs table's stream event source with the template's filter, and
the notifier posting the outcome to a WebSocket subscriber. The ``OrdersBothWays`` template
is deployed by tests/support/emulation; each function runs with the environment it declares.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.async_api.jobs import Queues
from tests.support.cdk import ROOT
from tests.support.emulation import Emulation, posted, receive_all
from tests.support.events import rest_api_event, websocket_event

STACK = "OrdersBothWays"
ORDER = {
    "customer_id": "c-7",
    "items": [{"sku": "book-42", "quantity": 2}, {"sku": "pen-1", "quantity": 3}],
}
#: Passes both APIs' schema (a well-formed SKU), but the catalogue has no such product.
UNKNOWN_SKU = {"customer_id": "c-7", "items": [{"sku": "gift-card-9", "quantity": 1}]}


@dataclass
class BothWays:
    emulation: Emulation
    queues: Queues
    orders: Any
    jobs: Any

    def call(self, path: str, event: dict[str, Any]) -> Any:
        return self.emulation.function(path).invoke(event)

    def place_sync(self, request: dict[str, Any]) -> tuple[int, Any]:
        response = self.call("SyncOrders/Function", rest_api_event("POST", "/orders", body=request))
        return response["statusCode"], json.loads(response["body"])

    def get_sync(self, order_id: str) -> tuple[int, Any]:
        event = rest_api_event(
            "GET",
            f"/orders/{order_id}",
            resource="/orders/{order_id}",
            path_parameters={"order_id": order_id},
        )
        response = self.call("SyncOrders/Function", event)
        return response["statusCode"], json.loads(response["body"])

    def place_async(self, request: dict[str, Any], connection_id: str) -> str:
        """POST as API Gateway queues it, with a WebSocket client following the job."""
        job_id = str(uuid.uuid4())
        self.call(
            "AsyncOrders/ConnectionsFunction",
            websocket_event("$connect", connection_id, query={"job_id": job_id}),
        )
        self.queues.send(request, job_id)
        return job_id

    def work(self) -> None:
        """The worker drains the queue; the notifier tells subscribers what finished."""
        self.queues.poll()
        notifier = self.emulation.stream("AsyncOrders/NotifierFunction")
        before = len(self.emulation.invocations)
        notifier.run()
        answers = [
            call.result
            for call in self.emulation.invocations[before:]
            if call.function == notifier.function.logical_id
        ]
        assert answers and all(answer == {"batchItemFailures": []} for answer in answers)

    def job(self, job_id: str) -> dict[str, Any]:
        return plain(self.jobs.get_item(Key={"pk": job_id, "sk": "job"})["Item"])

    def stored_orders(self) -> list[dict[str, Any]]:
        return [plain(item) for item in self.orders.scan()["Items"]]


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as JSON numbers, as the APIs answer them."""
    return json.loads(json.dumps(value, default=lambda number: int(number)))


@pytest.fixture
def both(emulate: Callable[[str], Emulation]) -> BothWays:
    emulation = emulate(STACK)
    # The AsyncApi's functions: TABLE_NAME is the jobs table there.
    variables = emulation.function("AsyncOrders/Function").environment
    dynamodb = boto3.resource("dynamodb")
    return BothWays(
        emulation=emulation,
        queues=Queues.of(emulation),
        orders=dynamodb.Table(variables["ORDERS_TABLE"]),
        jobs=dynamodb.Table(variables["TABLE_NAME"]),
    )


def test_the_same_order_placed_both_ways_is_one_stored_order(both: BothWays) -> None:
    request = {**ORDER, "client_token": "cart-2026-11-03"}
    status, placed = both.place_sync(request)
    assert status == 201
    assert placed["total_cents"] == 2 * 1999 + 3 * 150 and placed["status"] == "PLACED"

    job_id = both.place_async(request, "conn-a")
    both.work()

    job = both.job(job_id)
    assert job["status"] == "succeeded"
    assert job["result"] == placed  # the async side found the order the sync side stored
    assert both.stored_orders() == [placed]
    [told] = posted("conn-a")
    assert (told["job_id"], told["status"], told["result"]) == (job_id, "succeeded", placed)
    # Both ways read back the same order; a retry of the sync call changes nothing.
    assert both.get_sync(placed["id"]) == (200, placed)
    assert both.place_sync(request) == (200, placed)
    # The token names this order: other items under it are a conflict, not a second order.
    status, conflict = both.place_sync({**request, "items": [{"sku": "mug-7", "quantity": 1}]})
    assert status == 409 and "already names order" in conflict["message"]
    assert both.stored_orders() == [placed]


def test_without_a_token_each_way_stores_an_identical_order_of_its_own(both: BothWays) -> None:
    status, placed_sync = both.place_sync(ORDER)
    assert status == 201
    job_id = both.place_async(ORDER, "conn-b")
    both.work()
    placed_async = both.job(job_id)["result"]

    assert placed_async["id"] == job_id  # the job id keys it: the worker's retries keep one
    stored = {order["id"]: order for order in both.stored_orders()}
    assert stored == {placed_sync["id"]: placed_sync, job_id: placed_async}

    def business(order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if k not in {"id", "placed_at"}}

    assert business(placed_sync) == business(placed_async)


def test_an_order_that_cannot_be_placed_fails_fast_sync_and_for_good_async(
    both: BothWays,
) -> None:
    status, refused = both.place_sync(UNKNOWN_SKU)
    assert status == 400
    refusal = "items[0].sku must be one of ['book-42', 'mug-7', 'pen-1', 'poster-3']"
    assert refused["message"] == refusal

    job_id = both.place_async(UNKNOWN_SKU, "conn-c")
    both.work()

    job = both.job(job_id)
    assert (job["status"], job["attempts"]) == ("failed", 5)
    assert job["error"].startswith(f"InvalidOrder: {refusal}")
    [dead] = receive_all(both.queues.dead_letter_url)
    assert json.loads(dead["Body"]) == UNKNOWN_SKU
    [told] = posted("conn-c")
    assert (told["status"], told["error"]) == ("failed", job["error"])
    assert both.stored_orders() == []


def side_by_side(page: str) -> dict[str, tuple[str, str]]:
    """The page's hand-written comparison: ``{row: (sync, async)}``."""
    section = page.split("## Side by side", 1)[1].split("###", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {name.strip(): (sync.strip(), async_.strip()) for name, sync, async_ in rows[1:]}


def test_the_catalog_pages_comparison_is_what_the_template_says(
    templates: dict[str, dict[str, Any]],
) -> None:
    sides: dict[str, list[str]] = {"SyncOrders": [], "AsyncOrders": []}
    for resource in templates[STACK]["Resources"].values():
        side = resource["Metadata"]["aws:cdk:path"].split("/")[1]
        sides.get(side, []).append(resource["Type"])

    def count(side: str, resource_type: str | None = None) -> str:
        return str(sum(1 for t in sides[side] if resource_type in (None, t)))

    def figures(side: str) -> tuple[str, ...]:
        alarms = int(count(side, "AWS::CloudWatch::Alarm"))
        return (
            count(side),
            count(side, "AWS::Lambda::Function"),
            count(side, "AWS::SQS::Queue"),
            count(side, "AWS::DynamoDB::GlobalTable"),
            str(alarms),
            f"${alarms * 0.10:.2f}",  # a standard alarm: $0.10 a month
        )

    page = (ROOT / "patterns" / "orders-both-ways.md").read_text()
    table = side_by_side(page)
    assert list(table) == [
        "Resources in the template",
        "Lambda functions",
        "SQS queues",
        "DynamoDB tables of its own",
        "Alarms",
        "Idle cost / month (alarms)",
    ]
    assert tuple(sync for sync, _ in table.values()) == figures("SyncOrders")
    assert tuple(async_ for _, async_ in table.values()) == figures("AsyncOrders")
