"""Pub/sub service: register, subscribe, publish; delivery to subscribers; popular terms."""

import random
import string
import uuid

import pytest

from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e

STACK = "PubSubService"

TIMEOUT = 60


@pytest.fixture(scope="module")
def api(stack):
    return stack(STACK).api("ApiUrl")


def registered(api, kind: str, name: str) -> str:
    answer = api.call("POST", kind, {"name": name})
    assert answer.status == 201, answer
    assert answer.json["name"] == name
    return answer.json[f"{kind[:-1]}_id"]


def word() -> str:
    """A term nobody else publishes: letters only, as the counter reads words."""
    return "zz" + "".join(random.choices(string.ascii_lowercase, k=12))


def test_a_published_message_reaches_subscribers_and_counts_its_terms(api):
    topic = f"e2e-{uuid.uuid4().hex[:8]}"
    publisher = registered(api, "publishers", "e2e publisher")
    reader = registered(api, "subscribers", "e2e reader")
    bystander = registered(api, "subscribers", "e2e bystander")
    answer = api.call("PUT", f"subscribers/{reader}/topics/{topic}")
    assert answer.status == 200, answer
    assert answer.json == {"subscriber_id": reader, "topic": topic, "subscribed": True}

    rare, common = word(), word()
    text = f"{common} {rare} and {common}: {common} the"
    published = api.call(
        "POST", f"topics/{topic}/messages", {"publisher_id": publisher, "text": text}
    )
    assert published.status == 202, published
    message_id = published.json["message_id"]

    # The delivery consumer stores the message (the publish path only publishes).
    stored = eventually(
        lambda: (answer := api.call("GET", f"messages/{message_id}")).status == 200 and answer,
        timeout=TIMEOUT,
        what="the message is stored",
    )
    assert stored.json["text"] == text and stored.json["topic"] == topic

    inbox = eventually(
        lambda: api.call("GET", f"subscribers/{reader}/messages").json["messages"],
        timeout=TIMEOUT,
        what="the message is delivered to the subscriber's inbox",
    )
    assert [(each["message_id"], each["text"]) for each in inbox] == [(message_id, text)]
    assert api.call("GET", f"subscribers/{bystander}/messages").json["messages"] == []

    def counts() -> dict[str, int]:
        terms = api.call("GET", "terms?limit=100")
        assert terms.status == 200, terms
        return {each["term"]: each["count"] for each in terms.json["terms"]}

    # The top terms are read from a global secondary index: "All reads from GSIs and streams
    # are eventually consistent" (DynamoDB developer guide, "DynamoDB read consistency",
    # HowItWorks.ReadConsistency.html), so one transaction's terms may show up one by one.
    counted = eventually(
        lambda: (found := counts()).get(common) and rare in found and found,
        timeout=TIMEOUT,
        what="the message's terms are counted",
    )
    assert counted[common] == 3 and counted[rare] == 1
    assert "the" not in counted and "and" not in counted  # stop words
    most = list(counted)
    assert most.index(common) < most.index(rare)  # most popular first


def test_bad_requests_get_4xx_json_errors(api):
    publisher = registered(api, "publishers", "e2e publisher")
    unknown = str(uuid.uuid4())
    cases = [
        ("POST", "topics/e2e/messages", {"publisher_id": unknown, "text": "hi"}, 404),
        ("POST", "topics/Not%20A%20Topic/messages", {"publisher_id": publisher, "text": "x"}, 400),
        ("PUT", f"subscribers/{unknown}/topics/e2e", None, 404),
        ("GET", f"messages/{unknown}", None, 404),
        ("GET", "terms?limit=0", None, 400),
    ]
    for method, path, body, status in cases:
        answer = api.call(method, path, body)
        assert answer.status == status, (method, path, answer)
        assert answer.json["message"], answer
