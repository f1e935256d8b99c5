"""EventRouter (commerce events): each route's events reach each of its targets.

Covered: an ``Order Placed`` event put on the bus reaches the fulfilment queue (the message is
received there) and the order-confirmation function (its confirmation is published to the
customer-notifications topic); a ``Payment Failed`` event reaches the payment-alerts topic as
the route's text. The topics have no subscribers in the stack, so the assertions stack
subscribes a probe queue to each. The nightly schedule is not waited for (02:00 UTC): its
target, the sales-report function, is invoked with a scheduled event's shape instead.
"""

import json

from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult, Match

from integ import harness

ORDER_PLACED = {
    "order_id": "integ-order-1",
    "customer_id": "integ-customer",
    "items": [{"sku": "book-42", "quantity": 2}],
}
PAYMENT_FAILED = {"order_id": "integ-order-2", "reason": "card declined"}
SCHEDULED_EVENT = {
    "version": "0",
    "id": "00000000-0000-0000-0000-000000000001",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-02T02:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {},
}


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "EventRouter")
    bus = test.part("Commerce").event_bus
    confirmations = test.probe(test.part("CustomerNotifications"))
    alerts = test.probe(test.part("PaymentAlerts"))

    def event(source: str, detail_type: str, detail: dict[str, object]) -> dict[str, str]:
        return {
            "EventBusName": bus.event_bus_name,
            "Source": source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
        }

    put = test.assertions.aws_api_call(
        "EventBridge",
        "putEvents",
        {
            "Entries": [
                event("commerce.orders", "Order Placed", ORDER_PLACED),
                event("commerce.payments", "Payment Failed", PAYMENT_FAILED),
            ]
        },
    )
    put.expect(ExpectedResult.object_like({"FailedEntryCount": 0}))
    order_id = Match.object_like({"detail": {"order_id": "integ-order-1"}})
    put.next(test.received(test.part("FulfilmentQueue"), Match.serialized_json(order_id))).next(
        test.received(confirmations, Match.string_like_regexp("integ-order-1"))
    ).next(
        test.received(alerts, Match.string_like_regexp("^Payment failed for order integ-order-2"))
    )

    report = test.invoke(test.part("SalesReport"), SCHEDULED_EVENT)
    # The provider hands Lambda's Payload over as the JSON text it is.
    answer = Match.object_like({"report_id": "sales-2026-12-01"})
    report.expect(ExpectedResult.object_like({"Payload": Match.serialized_json(answer)}))
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
