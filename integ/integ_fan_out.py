"""FanOut (order events): one publish reaches every subscriber; a poison event ends in the
billing subscriber's dead-letter queue, with its alarm raised.

Covered: an ``OrderPlaced`` event for a high-value order shipped by standard delivery matches
all three filter policies (attribute for billing, body for shipping and analytics); each
consumer logs the order (billing and shipping behind their queues, analytics invoked by SNS).
A second ``OrderPlaced`` whose ``order`` is not an object matches only billing's attribute
filter; billing's consumer fails it on every receive, so it moves to billing's dead-letter
queue and that queue's alarm goes to ALARM. The consumers keep no records, so their log lines
are the observable outcome.
"""

import json

from aws_cdk import App

from integ import harness

ORDER_ID = "integ-order-1"
HIGH_VALUE_ORDER = {
    "event_type": "OrderPlaced",
    "order": {
        "id": ORDER_ID,
        "customer_id": "integ-customer",
        "total": 1500,
        "currency": "EUR",
        "delivery": "standard",
        "items": [{"sku": "book-42", "quantity": 1}],
    },
}
POISON = {"event_type": "OrderPlaced", "order": "not an order"}


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "FanOut")
    order_events = test.part("OrderEvents")

    def publish(event: dict[str, object]) -> harness.IApiCall:
        return test.assertions.aws_api_call(
            "SNS",
            "publish",
            {
                "TopicArn": order_events.topic.topic_arn,
                "Message": json.dumps(event),
                "MessageAttributes": {
                    "event_type": {"DataType": "String", "StringValue": event["event_type"]}
                },
            },
        )

    published = publish(HIGH_VALUE_ORDER)
    received = published
    for name in ("billing", "shipping", "analytics"):
        received = received.next(test.logged(order_events.subscribers[name].function, ORDER_ID))

    billing = order_events.subscribers["billing"].dead_letter_queue
    test.dead_lettered_and_alarmed(
        received.next(publish(POISON)),
        billing,
        billing.node.scope.node.find_child("DeadLetterQueueAlarm"),
    )
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
