"""NotificationServiceFargate: a request accepted at once, then recorded and published by a
Fargate task that the queue's backlog started.

Covered: a signed ``POST /notifications`` answers 202 ``pending`` with a job id; within the
wait (the service scales from 0 on one-minute SQS metrics, then pulls and starts the image:
a few minutes) the records table holds the request as ``sent`` under that id, and the
worker's dead-letter queue is empty.

Not covered: the texts themselves (see ``integ_notification_service.py``), and scale-in back
to 0 (it follows a quiet minute; CloudWatch shows it).
"""

from aws_cdk import App, Duration
from aws_cdk.integ_tests_alpha import ExpectedResult

from integ import harness

REQUEST = {"audience": "on-call", "message": "Integration test: please ignore."}


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "NotificationServiceFargate")
    accepted = test.call_api(test.part("Api"), "POST", "/notifications", REQUEST)
    accepted.assert_at_path("Payload.body.status", ExpectedResult.string_like_regexp("^pending$"))
    job_id = accepted.get_att_string("Payload.body.job_id")
    recorded = test.eventually(
        test.assertions.aws_api_call(
            "DynamoDB",
            "getItem",
            {
                "TableName": test.part("NotificationRecords").table_name,
                "Key": {"id": {"S": job_id}},
            },
        ),
        ExpectedResult.object_like({"Item": {"status": {"S": "sent"}}}),
        total_timeout=Duration.minutes(15),
        interval=Duration.seconds(30),
    )
    worker = test.part("Worker")
    nothing_dead_lettered = test.assertions.aws_api_call(
        "SQS",
        "getQueueAttributes",
        {
            "QueueUrl": worker.dead_letter_queue.queue_url,
            "AttributeNames": ["ApproximateNumberOfMessages"],
        },
    )
    nothing_dead_lettered.expect(
        ExpectedResult.object_like({"Attributes": {"ApproximateNumberOfMessages": "0"}})
    )
    accepted.next(recorded).next(nothing_dead_lettered)
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
