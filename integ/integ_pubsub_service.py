"""PubSubService: register, subscribe, publish; the message reaches the subscriber's inbox, is
stored, and its words are counted among the popular terms.

Covered, all through signed calls to the API: ``POST /publishers`` and ``POST /subscribers``
(201 with the new ids), ``PUT /subscribers/{id}/topics/{topic}``, ``POST
/topics/{topic}/messages`` (202 with the message id); then, behind the topic, the delivery
consumer puts the message in the subscriber's inbox (``GET /subscribers/{id}/messages``) and
stores it (``GET /messages/{id}``), and the popular-terms consumer counts its words
(``GET /terms``).
"""

from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult, Match

from integ import harness

TOPIC = "integ-topic"
#: A term no stop-word list drops, counted once.
TERM = "zeppelins"


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "PubSubService")
    api = test.part("Api").api

    def registered(kind: str, name: str) -> tuple[harness.IApiCall, str]:
        call = test.call_api(api, "POST", f"/{kind}s", {"name": name})
        call.assert_at_path("Payload.body.name", ExpectedResult.string_like_regexp(f"^{name}$"))
        return call, call.get_att_string(f"Payload.body.{kind}_id")

    publisher, publisher_id = registered("publisher", "integ-publisher")
    subscriber, subscriber_id = registered("subscriber", "integ-subscriber")
    subscribed = test.call_api(api, "PUT", f"/subscribers/{subscriber_id}/topics/{TOPIC}")
    subscribed.expect(harness.answered(200, {"subscribed": True}))
    published = test.call_api(
        api,
        "POST",
        f"/topics/{TOPIC}/messages",
        {"publisher_id": publisher_id, "text": f"Integration test: {TERM} ahoy"},
    )
    published.assert_at_path("Payload.body.topic", ExpectedResult.string_like_regexp(f"^{TOPIC}$"))
    message_id = published.get_att_string("Payload.body.message_id")

    inbox = test.eventually(
        test.call_api(api, "GET", f"/subscribers/{subscriber_id}/messages"),
        harness.answered(200, {"messages": [{"message_id": message_id, "topic": TOPIC}]}),
    )
    stored = test.eventually(
        test.call_api(api, "GET", f"/messages/{message_id}"),
        harness.answered(200, {"id": message_id, "publisher_id": publisher_id}),
    )
    counted = test.eventually(
        test.call_api(api, "GET", "/terms?limit=100"),
        harness.answered(200, {"terms": Match.array_with([{"term": TERM, "count": 1}])}),
    )
    publisher.next(subscriber).next(subscribed).next(published).next(inbox).next(stored).next(
        counted
    )
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
