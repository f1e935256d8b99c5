"""NotificationService: a notification request accepted at once, recorded and published to the
SMS subscribers' topic.

Covered: a signed ``POST /notifications`` answers 202 ``pending``; the job ends ``succeeded``
(the worker recorded the request and SNS accepted the publish); the records table holds it.

Not covered: the texts themselves. The stack subscribes fictional numbers (555-01xx): in an
account in the SMS sandbox SNS does not text unverified numbers, and outside it each attempt
is charged. Nor the WebSocket message (see ``integ_async_api.py``).
"""

from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult

from integ import harness

REQUEST = {"audience": "on-call", "message": "Integration test: please ignore."}


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "NotificationService")
    api = test.part("Notifications").api

    accepted = test.call_api(api, "POST", "/notifications", REQUEST)
    accepted.assert_at_path("Payload.body.status", ExpectedResult.string_like_regexp("^pending$"))
    job_id = accepted.get_att_string("Payload.body.job_id")
    succeeded = test.eventually(
        test.call_api(api, "GET", f"/notifications/{job_id}"),
        harness.answered(200, {"job_id": job_id, "status": "succeeded"}),
    )
    recorded = test.assertions.aws_api_call(
        "DynamoDB",
        "getItem",
        {
            "TableName": test.part("NotificationRecords").table_name,
            "Key": {"id": {"S": job_id}},
        },
    )
    recorded.expect(ExpectedResult.object_like({"Item": {"status": {"S": "sent"}}}))
    accepted.next(succeeded).next(recorded)
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
