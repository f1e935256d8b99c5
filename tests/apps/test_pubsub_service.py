"""The pub/sub service end to end in moto: register, subscribe, publish, deliver, count.

Tables, topic, queues and subscriptions come from the synthesized ``PubSubService`` template
(the FanOut emulation deploys the topic side); the three handlers run with the environment
the template gives them. API calls are REST proxy events; queue consumers are fed by the
FanOut emulation's poller, which acts like Lambda's SQS event source mapping.
"""

import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.apps.emulation import (
    create_tables,
    environment,
    function_at,
    logical_id_at,
    set_environment,
)
from tests.fan_out.emulation import Deployment, deploy, drain, receive_all
from tests.support.aws import load_handler
from tests.support.events import LambdaContext, rest_api_event

STACK = "PubSubService"
SERVERLESS = "Serverless queues absorb bursts. Queues retry; the queues never lose a message!"
DATABASES = "Databases scale; serverless databases scale to zero."


@dataclass
class PubSub:
    api: ModuleType
    delivery: ModuleType
    counter: ModuleType
    topic: Deployment

    def call(self, method: str, path: str, **event: Any) -> tuple[int, Any]:
        response = self.api.handler(rest_api_event(method, path, **event), LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def queue(self, subscriber: str) -> str:
        return self.topic.subscribers[subscriber].queue_url

    def dead_letters(self, subscriber: str) -> list[dict[str, Any]]:
        return receive_all(self.topic.subscribers[subscriber].dead_letter_queue_url)


@pytest.fixture
def template(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates[STACK]


@pytest.fixture
def pubsub(aws: None, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> PubSub:
    refs = create_tables(template)
    topic = deploy(template)
    refs[logical_id_at(template, "PublishedMessages/Topic")] = topic.topic_arn
    modules = {}
    for name, path, folder in (
        ("api", "Api/Function", "pubsub_api"),
        ("delivery", "PublishedMessages/delivery/Consumer", "pubsub_delivery"),
        ("counter", "PublishedMessages/popular-terms/Consumer", "popular_terms"),
    ):
        set_environment(monkeypatch, environment(function_at(template, path), refs))
        modules[name] = load_handler(f"examples/handlers/{folder}/app.py")
    return PubSub(topic=topic, **modules)


def register(pubsub: PubSub, kind: str, name: str) -> str:
    status, body = pubsub.call("POST", f"/{kind}s", body={"name": name})
    assert status == 201, body
    return body[f"{kind}_id"]


def subscribe(pubsub: PubSub, subscriber_id: str, topic: str) -> None:
    path = f"/subscribers/{subscriber_id}/topics/{topic}"
    status, body = pubsub.call(
        "PUT",
        path,
        resource="/subscribers/{subscriber_id}/topics/{topic}",
        path_parameters={"subscriber_id": subscriber_id, "topic": topic},
    )
    assert (status, body["subscribed"]) == (200, True), body


def publish(pubsub: PubSub, publisher_id: str, topic: str, text: str) -> tuple[int, Any]:
    return pubsub.call(
        "POST",
        f"/topics/{topic}/messages",
        resource="/topics/{topic}/messages",
        path_parameters={"topic": topic},
        body={"publisher_id": publisher_id, "text": text},
    )


def inbox(pubsub: PubSub, subscriber_id: str) -> list[str]:
    status, body = pubsub.call(
        "GET",
        f"/subscribers/{subscriber_id}/messages",
        resource="/subscribers/{subscriber_id}/messages",
        path_parameters={"subscriber_id": subscriber_id},
    )
    assert status == 200, body
    return [message["text"] for message in body["messages"]]


def popular(pubsub: PubSub, limit: str = "5") -> list[tuple[str, int]]:
    status, body = pubsub.call("GET", "/terms", query={"limit": limit})
    assert status == 200, body
    return [(term["term"], term["count"]) for term in body["terms"]]


def resend(messages: list[dict[str, Any]], queue_url: str) -> None:
    """Deliver ``messages`` again, as SNS/SQS may (at-least-once delivery)."""
    for message in messages:
        boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody=message["Body"])


def publish_one_message_per_topic(pubsub: PubSub) -> dict[str, str]:
    """Ada follows "serverless", Alan "databases"; one message published on each."""
    ada, alan = register(pubsub, "subscriber", "ada"), register(pubsub, "subscriber", "alan")
    subscribe(pubsub, ada, "serverless")
    subscribe(pubsub, alan, "databases")
    newsroom = register(pubsub, "publisher", "newsroom")
    for topic, text in (("serverless", SERVERLESS), ("databases", DATABASES)):
        status, body = publish(pubsub, newsroom, topic, text)
        assert status == 202 and body["topic"] == topic, body
    return {"ada": ada, "alan": alan, "newsroom": newsroom}


def test_subscribers_receive_the_messages_of_their_topics_only(pubsub: PubSub) -> None:
    ids = publish_one_message_per_topic(pubsub)
    # The publish path did nothing but store and publish: the inboxes are still empty.
    assert inbox(pubsub, ids["ada"]) == inbox(pubsub, ids["alan"]) == []

    delivered = drain(pubsub.queue("delivery"), pubsub.delivery)

    assert len(delivered.processed) == 2 and delivered.failed_invocations == 0
    assert inbox(pubsub, ids["ada"]) == [SERVERLESS]
    assert inbox(pubsub, ids["alan"]) == [DATABASES]
    # A duplicate delivery writes the same inbox entry again: still one copy each.
    resend(delivered.processed, pubsub.queue("delivery"))
    drain(pubsub.queue("delivery"), pubsub.delivery)
    assert inbox(pubsub, ids["ada"]) == [SERVERLESS]
    assert inbox(pubsub, ids["alan"]) == [DATABASES]
    # The messages table keeps what was published.
    [message] = [json.loads(m["Body"]) for m in delivered.processed if "Databases" in m["Body"]]
    status, stored = pubsub.call(
        "GET",
        f"/messages/{message['id']}",
        resource="/messages/{message_id}",
        path_parameters={"message_id": message["id"]},
    )
    assert status == 200 and stored == message
    assert stored["publisher_id"] == ids["newsroom"]


def test_popular_terms_count_every_message_once_even_when_delivered_twice(
    pubsub: PubSub,
) -> None:
    publish_one_message_per_topic(pubsub)
    counted = drain(pubsub.queue("popular-terms"), pubsub.counter)
    assert len(counted.processed) == 2 and counted.failed_invocations == 0

    # "queues" 3x, "serverless" 2x (once per message), "databases" 2x, "scale" 2x; stop
    # words ("the", "a", "to") are not terms.
    top = popular(pubsub, limit="4")
    assert sorted(top) == [("databases", 2), ("queues", 3), ("scale", 2), ("serverless", 2)]
    assert top[0] == ("queues", 3)

    resend(counted.processed, pubsub.queue("popular-terms"))
    resend(counted.processed[:1], pubsub.queue("popular-terms"))
    again = drain(pubsub.queue("popular-terms"), pubsub.counter)
    assert len(again.processed) == 3 and again.failed_invocations == 0
    assert popular(pubsub, limit="4") == top
    assert dict(popular(pubsub, limit="100"))["bursts"] == 1


def test_a_long_message_is_counted_in_parts_each_exactly_once(
    pubsub: PubSub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A transaction holds the marker and 99 terms (DynamoDB: 100 actions). moto takes about a
    # second per 100-action transaction, so this test splits into parts of 10 terms instead.
    assert pubsub.counter.TERMS_PER_TRANSACTION == 99
    monkeypatch.setattr(pubsub.counter, "TERMS_PER_TRANSACTION", 10)
    newsroom = register(pubsub, "publisher", "newsroom")
    words = [f"lex{chr(97 + i)}" for i in range(15)]
    status, _ = publish(pubsub, newsroom, "long-reads", " ".join(words))
    assert status == 202
    [message] = receive_all(pubsub.queue("popular-terms"))
    message_id = json.loads(message["Body"])["id"]
    # A first attempt counted part 0, then crashed: its marker and counts are stored.
    assert pubsub.counter.count_once(f"counted#{message_id}#0", [(w, 1) for w in words[:10]])

    resend([message, message], pubsub.queue("popular-terms"))
    drain(pubsub.queue("popular-terms"), pubsub.counter)

    assert sorted(popular(pubsub, limit="100")) == [(word, 1) for word in words]
    table = pubsub.counter.word_counts
    for part in (0, 1):
        assert "Item" in table.get_item(Key={"pk": f"counted#{message_id}#{part}"})
    assert "Item" not in table.get_item(Key={"pk": f"counted#{message_id}#2"})


def test_unreadable_messages_end_in_the_dead_letter_queues_and_count_nothing(
    pubsub: PubSub,
) -> None:
    for subscriber in ("delivery", "popular-terms"):
        boto3.client("sqs").send_message(
            QueueUrl=pubsub.queue(subscriber), MessageBody='{"text": "no id here"}'
        )
    drain(pubsub.queue("delivery"), pubsub.delivery)
    drain(pubsub.queue("popular-terms"), pubsub.counter)

    for subscriber in ("delivery", "popular-terms"):
        [dead] = pubsub.dead_letters(subscriber)
        assert json.loads(dead["Body"]) == {"text": "no id here"}
    assert popular(pubsub) == []


#: (method, path, event, status, message) of requests the API must refuse.
BAD_REQUESTS = [
    (
        "POST",
        "/topics/news/messages",
        {
            "resource": "/topics/{topic}/messages",
            "path_parameters": {"topic": "news"},
            "body": {"publisher_id": "no-such-publisher", "text": "hello"},
        },
        404,
        "publisher no-such-publisher is not registered",
    ),
    (
        "POST",
        "/topics/News!/messages",
        {
            "resource": "/topics/{topic}/messages",
            "path_parameters": {"topic": "News!"},
            "body": {"publisher_id": "p-1", "text": "hello"},
        },
        400,
        "topic must be 1 to 64 lowercase letters, digits, '-' or '_', starting with a "
        "letter or digit",
    ),
    (
        "POST",
        "/publishers",
        {"body": {"name": "   "}},
        400,
        "name must be a non-blank string of at most 64 characters",
    ),
    ("POST", "/subscribers", {"body": "{not json"}, 400, None),
    (
        "PUT",
        "/subscribers/nobody/topics/news",
        {
            "resource": "/subscribers/{subscriber_id}/topics/{topic}",
            "path_parameters": {"subscriber_id": "nobody", "topic": "news"},
        },
        404,
        "subscriber nobody is not registered",
    ),
    (
        "GET",
        "/terms",
        {"query": {"limit": "0"}},
        400,
        "limit must be a whole number from 1 to 100",
    ),
]


def test_refused_requests_get_a_json_error_and_leave_nothing_behind(
    pubsub: PubSub, monkeypatch: pytest.MonkeyPatch
) -> None:
    for method, path, event, status, message in BAD_REQUESTS:
        answered, body = pubsub.call(method, path, **event)
        assert (answered, body["statusCode"]) == (status, status), (path, body)
        if message is None:
            assert body["message"].startswith("request body is not valid JSON"), body
        else:
            assert body["message"] == message
    # SNS refuses the publish (here: the topic is gone): 503, and the message is not kept.
    newsroom = register(pubsub, "publisher", "newsroom")
    monkeypatch.setenv("TOPIC_ARN", pubsub.topic.topic_arn + "-gone")
    status, body = publish(pubsub, newsroom, "news", "hello")
    assert (status, body["message"]) == (503, "the message could not be published: try again")
    assert pubsub.api.messages.scan()["Items"] == []
    assert receive_all(pubsub.queue("delivery")) == []
