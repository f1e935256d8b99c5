"""DeviceTelemetry: a reading put on the stream becomes its device's aggregate; a record that is
not a reading ends, described, in the consumer's on-failure dead-letter queue, alarmed.

Covered: ``PutRecord`` of ``{"device_id": DEVICE, "reading": 21.5}`` (partition key DEVICE);
the consumer adds it to the device's minute, so a query of ``device#DEVICE`` eventually finds
an item with ``count`` 1 and ``sum`` 21.5. Then a record that is not JSON: the consumer
reports it failed on every try (3 retries), Lambda sends the batch's description to the
dead-letter queue, and its alarm goes to ALARM. (Firehose's copy buffers up to 5 minutes;
its object is not waited for.)
"""

import json

from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult, Match

from integ import harness

DEVICE = "integ-thermostat-1"


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "DeviceTelemetry")
    telemetry = test.part("Telemetry")
    aggregates = test.part("Aggregates")

    def put(data: str) -> harness.IApiCall:
        return test.assertions.aws_api_call(
            "Kinesis",
            "putRecord",
            {"StreamName": telemetry.stream.stream_name, "PartitionKey": DEVICE, "Data": data},
        )

    aggregated = test.eventually(
        test.assertions.aws_api_call(
            "DynamoDB",
            "query",
            {
                "TableName": aggregates.table_name,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"device#{DEVICE}"}},
            },
        ),
        ExpectedResult.object_like(
            {
                "Items": Match.array_with(
                    [Match.object_like({"count": {"N": "1"}, "sum": {"N": "21.5"}})]
                )
            }
        ),
    )
    put_reading = put(json.dumps({"device_id": DEVICE, "reading": 21.5}))
    test.dead_lettered_and_alarmed(
        put_reading.next(aggregated).next(put("not json")),
        telemetry.dead_letter_queue,
        telemetry.node.find_child("DeadLetterQueueAlarm"),
    )
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
