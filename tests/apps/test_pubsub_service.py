"""The pub/sub service end to end in moto: register, subscribe, publish, deliver, count.

Tables, topic, queues and subscriptions come from the synthesized ``PubSubService`` template
(the FanOut emulation deploys the topic side); the three handlers run with the environment
the template gives them. API calls are REST proxy events; queue consumers are fed by the
FanOut emulation's poller, which acts like Lambda's SQS event source mapping.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    BotoCoreError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from tests.support.emulation import Emulation, receive_all
from tests.support.events import rest_api_event, sqs_event
from tests.support.sqs_poller import Drained

STACK = "PubSubService"
SERVERLESS = "Serverless queues absorb bursts. Queues retry; the queues never lose a message!"
DATABASES = "Databases scale; serverless databases scale to zero."


PATHS = {
    "api": "Api/Function",
    "delivery": "PublishedMessages/delivery/Consumer",
    "counter": "PublishedMessages/popular-terms/Consumer",
}


@dataclass
class PubSub:
    emulation: Emulation
    api: ModuleType
    delivery: ModuleType
    counter: ModuleType

    def call(self, method: str, path: str, **event: Any) -> tuple[int, Any]:
        response = self.emulation.function(PATHS["api"]).invoke(
            rest_api_event(method, path, **event)
        )
        return response["statusCode"], json.loads(response["body"])

    def queue(self, subscriber: str) -> str:
        url = self.emulation.subscriber(subscriber).queue_url
        assert url is not None
        return url

    def drain(self, subscriber: str) -> Drained:
        """The subscriber's queue, consumed by its function's event source mapping."""
        return self.emulation.drain(self.emulation.subscriber(subscriber).endpoint)

    def dead_letters(self, subscriber: str) -> list[dict[str, Any]]:
        url = self.emulation.subscriber(subscriber).dead_letter_queue_url
        assert url is not None
        return receive_all(url)


@pytest.fixture
def template(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates[STACK]


@pytest.fixture
def pubsub(emulate: Callable[[str], Emulation], monkeypatch: pytest.MonkeyPatch) -> PubSub:
    """The stack deployed; each function's module, its environment also set here for the
    tests that call a module's functions directly."""
    emulation = emulate(STACK)
    modules = {}
    for name, path in PATHS.items():
        function = emulation.function(path)
        for variable, value in function.environment.items():
            monkeypatch.setenv(variable, value)
        modules[name] = function.module
    return PubSub(emulation, **modules)


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
    # The publish path did nothing but publish: the inboxes are still empty, nothing stored.
    assert inbox(pubsub, ids["ada"]) == inbox(pubsub, ids["alan"]) == []
    assert pubsub.api.messages.scan()["Items"] == []

    delivered = pubsub.drain("delivery")

    assert len(delivered.processed) == 2 and delivered.failed_invocations == 0
    assert inbox(pubsub, ids["ada"]) == [SERVERLESS]
    assert inbox(pubsub, ids["alan"]) == [DATABASES]
    # A duplicate delivery writes the same inbox entry again: still one copy each.
    resend(delivered.processed, pubsub.queue("delivery"))
    pubsub.drain("delivery")
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
    counted = pubsub.drain("popular-terms")
    assert len(counted.processed) == 2 and counted.failed_invocations == 0

    # "queues" 3x, "serverless" 2x (once per message), "databases" 2x, "scale" 2x; stop
    # words ("the", "a", "to") are not terms.
    top = popular(pubsub, limit="4")
    assert sorted(top) == [("databases", 2), ("queues", 3), ("scale", 2), ("serverless", 2)]
    assert top[0] == ("queues", 3)

    resend(counted.processed, pubsub.queue("popular-terms"))
    resend(counted.processed[:1], pubsub.queue("popular-terms"))
    again = pubsub.drain("popular-terms")
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
    pubsub.drain("popular-terms")

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
    pubsub.drain("delivery")
    pubsub.drain("popular-terms")

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


def test_refused_requests_get_a_json_error(pubsub: PubSub) -> None:
    for method, path, event, status, message in BAD_REQUESTS:
        answered, body = pubsub.call(method, path, **event)
        assert (answered, body["statusCode"]) == (status, status), (path, body)
        if message is None:
            assert body["message"].startswith("request body is not valid JSON"), body
        else:
            assert body["message"] == message


def publish_and_fail(pubsub: PubSub) -> tuple[int, Any]:
    newsroom = register(pubsub, "publisher", "newsroom")
    return publish(pubsub, newsroom, "news", "hello")


def assert_nothing_stored_or_queued(pubsub: PubSub) -> None:
    assert pubsub.api.messages.scan()["Items"] == []
    for subscriber in ("delivery", "popular-terms"):
        assert receive_all(pubsub.queue(subscriber)) == []


def test_a_publish_sns_refuses_answers_503_and_stores_nothing(
    pubsub: PubSub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SNS refuses the publish (here: the topic is gone, a ClientError).
    api = pubsub.emulation.function(PATHS["api"])
    api.environment["TOPIC_ARN"] = pubsub.emulation.ref("PublishedMessages/Topic") + "-gone"
    status, body = publish_and_fail(pubsub)
    assert (status, body) == (
        503,
        {"statusCode": 503, "message": "the message could not be published: try again"},
    )
    assert_nothing_stored_or_queued(pubsub)


@pytest.mark.parametrize(
    "failure",
    [
        ReadTimeoutError(endpoint_url="https://sns.example"),
        ConnectTimeoutError(endpoint_url="https://sns.example"),
        EndpointConnectionError(endpoint_url="https://sns.example"),
    ],
    ids=type,
)
def test_a_publish_that_times_out_answers_503_and_stores_nothing(
    pubsub: PubSub, failure: BotoCoreError
) -> None:
    """A timeout is not a ClientError: botocore raises it after its own retries.

    The failure is raised where the HTTP request is sent, so botocore's retry handler sees it
    as it would a real one (AWS SDKs and Tools reference guide, "Retry behavior",
    docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html: transient
    errors such as timeouts are retried in standard mode): two attempts, then a 503.
    """
    attempts: list[str] = []

    def fail(request: Any, **_: Any) -> None:
        attempts.append(request.url)
        raise failure

    events = pubsub.api.sns.meta.events
    events.register_first("before-send.sns.Publish", fail)
    try:
        status, body = publish_and_fail(pubsub)
    finally:
        events.unregister("before-send.sns.Publish", fail)
    assert len(attempts) == 2
    assert (status, body["message"]) == (503, "the message could not be published: try again")
    assert_nothing_stored_or_queued(pubsub)
    # The retry the 503 asks for goes through, and delivery stores the message.
    status, body = publish(pubsub, register(pubsub, "publisher", "wire"), "news", "hello")
    assert status == 202
    pubsub.drain("delivery")
    [stored] = pubsub.api.messages.scan()["Items"]
    assert stored["id"] == body["message_id"]


def test_a_slow_sns_answers_503_before_the_function_times_out(
    pubsub: PubSub, template: dict[str, Any]
) -> None:
    """A publish cut off by the function's timeout runs no error handling: the SNS client
    must give up first. Worst case in botocore's standard retry mode (AWS SDKs and Tools
    reference guide, "Retry behavior", docs.aws.amazon.com/sdkref/latest/guide/
    feature-retry-behavior.html): every attempt waits the connect and the read timeout, and
    retry n backs off at most 2^(n-1) seconds (Lambda developer guide, "Configure Lambda
    function timeout", docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html)."""
    config = pubsub.api.sns.meta.config
    assert config.retries["mode"] == "standard"
    attempts = config.retries["total_max_attempts"]
    worst = attempts * (config.connect_timeout + config.read_timeout) + sum(
        2**retry for retry in range(attempts - 1)
    )
    timeout = template["Resources"][pubsub.emulation.logical_id(PATHS["api"])]["Properties"][
        "Timeout"
    ]
    assert worst < timeout, (worst, timeout)


#: Terms whose counts differ (word i occurs i times): the top N is unambiguous.
ALPHABET = [
    *("alfa", "bravo", "charlie", "delta", "echo", "foxtrot"),
    *("golf", "hotel", "india", "juliett", "kilo", "lima"),
]


def test_popular_terms_spread_over_shards_and_merge_into_the_exact_top(pubsub: PubSub) -> None:
    """Write sharding (DynamoDB developer guide, "Using write sharding to distribute
    workloads evenly in your DynamoDB table", docs.aws.amazon.com/amazondynamodb/latest/
    developerguide/bp-partition-key-sharding.html, with a calculated suffix; and "Using Global
    Secondary Index write sharding for selective table queries", .../bp-indexes-gsi-sharding.html):
    the terms land in several index partitions, each term in one, and the top N is read from
    every shard and merged."""
    newsroom = register(pubsub, "publisher", "newsroom")
    for occurrences, word in enumerate(ALPHABET, start=1):
        assert publish(pubsub, newsroom, "radio", " ".join([word] * occurrences))[0] == 202
    pubsub.drain("popular-terms")

    items = pubsub.counter.word_counts.scan(
        FilterExpression="begins_with(pk, :term)", ExpressionAttributeValues={":term": "term#"}
    )["Items"]
    shards = {item["term"]: item["shard"] for item in items}
    assert set(shards) == set(ALPHABET)
    assert {term: pubsub.counter.shard_of(term) for term in shards} == shards
    assert len(set(shards.values())) > 1
    # 12 terms in 10 shards: some shard holds two or more, so one item per shard would not do.
    assert len(set(shards.values())) < len(shards)

    ranked = [(word, occurrences) for occurrences, word in enumerate(ALPHABET, start=1)][::-1]
    assert popular(pubsub, limit="5") == ranked[:5]
    assert popular(pubsub, limit="100") == ranked


class RawBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class Throttling:
    """DynamoDB's throttling answer to the counter's TransactWriteItems, on the wire.

    Registered before moto on the counter's client, it answers the HTTP request as DynamoDB
    does (status 400, ``__type`` and, for a cancelled transaction, ``CancellationReasons``),
    so botocore parses and retries it as a real one. A throttled request never reaches the
    table: its URL is pointed away from moto, whose handler every request also passes. The
    first ``passes`` requests and every request after the first ``passes + times`` go through
    to moto. The counter's own backoff between attempts is recorded in ``waits``, not slept.
    """

    EVENT = "before-send.dynamodb.TransactWriteItems"

    def __init__(
        self, pubsub: PubSub, code: str, reason: str = "", *, passes: int = 0, times: int = 10**6
    ) -> None:
        self.code, self.reason, self.passes, self.times = code, reason, passes, times
        self.attempts = 0
        self.waits: list[float] = []
        self.counter = pubsub.counter
        self.events = pubsub.counter.word_counts.meta.client.meta.events

    def __enter__(self) -> "Throttling":
        self.events.register_first(self.EVENT, self)
        self.clock, self.counter.time = (
            self.counter.time,
            SimpleNamespace(time=self.counter.time.time, sleep=self.waits.append),
        )
        return self

    def __exit__(self, *_: object) -> None:
        self.events.unregister(self.EVENT, self)
        self.counter.time = self.clock

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        self.attempts += 1
        if not self.passes < self.attempts <= self.passes + self.times:
            return None
        url, request.url = request.url, "https://throttled.invalid/"
        body: dict[str, Any] = {
            "__type": f"com.amazonaws.dynamodb.v20120810#{self.code}",
            "message": "Throughput exceeds the current capacity of your table or index.",
        }
        if self.reason:
            actions = json.loads(request.body)["TransactItems"]
            body["CancellationReasons"] = [{"Code": "None"}] + [
                {"Code": self.reason, "Message": body["message"]}
            ] * (len(actions) - 1)
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "throttled"}
        return AWSResponse(url, 400, headers, RawBody(json.dumps(body).encode()))


def returned_to_queue(pubsub: PubSub, messages: list[dict[str, Any]]) -> set[str]:
    """Invoke the counter with ``messages`` as Lambda's SQS poller does: the ids of the
    messages SQS makes visible again (all of them when the invocation fails)."""
    try:
        response = pubsub.emulation.function(PATHS["counter"]).invoke(
            sqs_event(messages, QUEUE_ARN)
        )
    except BatchProcessingError:  # every record failed: the invocation fails, Lambda backs off
        return {message["MessageId"] for message in messages}
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def counted_terms(pubsub: PubSub) -> dict[str, int]:
    return dict(popular(pubsub, limit="100"))


QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:popular-terms"
HOT = "hot partitions cool down"
HOT_TERMS = {"hot": 1, "partitions": 1, "cool": 1}
COLD = "cold storage stays cold"
COLD_TERMS = {"cold": 2, "storage": 1, "stays": 1}


@pytest.mark.parametrize("reason", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_a_transaction_cancelled_for_throttling_is_retried_and_counted_once(
    pubsub: PubSub, reason: str
) -> None:
    """DynamoDB cancels a transaction whose table or index is over its throughput, with a
    ``ThrottlingError`` (on-demand) or ``ProvisionedThroughputExceeded`` cancellation reason
    (DynamoDB API reference, "TransactWriteItems", docs.aws.amazon.com/amazondynamodb/latest/
    APIReference/API_TransactWriteItems.html, TransactionCanceledException); on-demand tables
    throttle too, above a partition's 1,000 writes a second (developer guide, "Troubleshooting
    throttling issues for on-demand mode", .../developerguide/
    TroubleshootingThrottlingOnDemand.html). The SDK does not retry a cancelled transaction: the
    counter does, with backoff, and counts the message once."""
    newsroom = register(pubsub, "publisher", "newsroom")
    assert publish(pubsub, newsroom, "radio", HOT)[0] == 202
    with Throttling(pubsub, "TransactionCanceledException", reason, times=2) as throttling:
        counted = pubsub.drain("popular-terms")
    assert throttling.attempts == 3
    # Full jitter: before attempt n (from 1), a wait of up to 0.05 s x 2^n.
    assert len(throttling.waits) == 2
    assert all(0 <= wait <= 0.05 * 2**n for n, wait in enumerate(throttling.waits, 1))
    assert (len(counted.processed), counted.invocations) == (1, 1)
    assert counted_terms(pubsub) == HOT_TERMS


def test_still_throttled_messages_return_to_the_queue_and_count_once_on_redelivery(
    pubsub: PubSub,
) -> None:
    """Still throttled after the retries, a message is reported as a batch item failure, and
    so are the batch's later messages, untried: SQS makes them visible again (Lambda developer
    guide, "Handling errors for an SQS event source in Lambda", docs.aws.amazon.com/lambda/
    latest/dg/services-sqs-errorhandling.html, partial batch responses). A throttled
    transaction writes nothing (API reference, "TransactWriteItems": all or nothing), so the
    redelivery counts each message once."""
    newsroom = register(pubsub, "publisher", "newsroom")
    for text in ("first come first counted", HOT, COLD):
        assert publish(pubsub, newsroom, "radio", text)[0] == 202
    queue = pubsub.queue("popular-terms")
    messages = receive_all(queue)
    assert [json.loads(message["Body"])["text"] for message in messages][1:] == [HOT, COLD]
    with Throttling(
        pubsub, "TransactionCanceledException", "ThrottlingError", passes=1
    ) as throttled:
        returned = returned_to_queue(pubsub, messages)
    # The first message went through; the second was tried 4 times; the third not at all.
    assert throttled.attempts == 1 + pubsub.counter.TRANSACTION_ATTEMPTS == 5
    assert returned == {message["MessageId"] for message in messages[1:]}
    assert counted_terms(pubsub) == {"first": 2, "come": 1, "counted": 1}

    resend(messages, queue)  # SQS delivers the batch again: DynamoDB has caught up
    again = pubsub.drain("popular-terms")
    assert len(again.processed) == 3
    assert counted_terms(pubsub) == {"first": 2, "come": 1, "counted": 1} | HOT_TERMS | COLD_TERMS


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_throttling_errors_are_retried_by_the_sdk_then_returned_to_the_queue(
    pubsub: PubSub, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB's throttling errors (developer guide, "Error handling with DynamoDB",
    docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html) are
    retried by the SDK ("The AWS SDKs for DynamoDB automatically retry requests that receive
    this exception"; standard mode retries all three: AWS SDKs and Tools reference guide,
    "Retry behavior", docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html):
    3 attempts, then the message is a batch item failure, counted once when redelivered."""
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)  # backoff only
    newsroom = register(pubsub, "publisher", "newsroom")
    assert publish(pubsub, newsroom, "radio", HOT)[0] == 202
    queue = pubsub.queue("popular-terms")
    [message] = receive_all(queue)
    with Throttling(pubsub, code) as throttling:
        assert returned_to_queue(pubsub, [message]) == {message["MessageId"]}
    assert throttling.attempts == 3
    assert counted_terms(pubsub) == {}
    resend([message, message], queue)
    pubsub.drain("popular-terms")
    assert counted_terms(pubsub) == HOT_TERMS


def test_a_message_throttled_after_its_first_part_counts_each_part_once(
    pubsub: PubSub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long message is counted in transactions of its own (one per part): when the second
    is throttled after the first committed, the redelivery counts only the second (API
    reference, "TransactWriteItems": a cancelled transaction writes nothing; the committed
    part's marker makes its repeat a ``ConditionalCheckFailed`` cancellation)."""
    monkeypatch.setattr(pubsub.counter, "TERMS_PER_TRANSACTION", 10)
    newsroom = register(pubsub, "publisher", "newsroom")
    words = [f"lex{chr(97 + i)}" for i in range(15)]
    assert publish(pubsub, newsroom, "long-reads", " ".join(words))[0] == 202
    queue = pubsub.queue("popular-terms")
    [message] = receive_all(queue)
    with Throttling(pubsub, "TransactionCanceledException", "ThrottlingError", passes=1):
        assert returned_to_queue(pubsub, [message]) == {message["MessageId"]}
    assert counted_terms(pubsub) == dict.fromkeys(words[:10], 1)

    resend([message], queue)
    pubsub.drain("popular-terms")
    assert counted_terms(pubsub) == dict.fromkeys(words, 1)
