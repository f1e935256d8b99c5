"""AsyncApi (email notifications): a job accepted at once; a poison job ends failed, in the
dead-letter queue, with its alarm raised.

Covered: a signed ``POST /notifications`` answers 202 ``pending`` with the job id; a
``receipt`` job without the order data the template needs (the poison job the handler's
docstring describes) fails on every receive, the status API reports it ``failed``, the
message is in the dead-letter queue and the dead-letter alarm goes to ALARM.

Not covered here, and why:
- ``succeeded``: sending needs the SES identity ``example.com`` verified in the account, which
  a test account does not have (a welcome job would fail like the poison one). The
  ``succeeded`` path of the same construct is asserted in ``integ_orders_both_ways.py``.
- The WebSocket message: the assertion functions cannot hold a WebSocket connection open, so
  no client is subscribed when the job ends. The status API reads the same job record the
  notifier is fed from (the table's stream); the notifier itself is covered by the emulated
  tests only.
"""

from aws_cdk import App
from aws_cdk.integ_tests_alpha import ExpectedResult

from integ import harness

#: Passes the API's schema, can never be rendered: no ``order_id`` or ``amount``.
POISON_JOB = {"to": "integ@example.com", "template": "receipt", "data": {"name": "Integ"}}


def build(app: App) -> harness.ReferenceTest:
    test = harness.ReferenceTest(app, "AsyncApi")
    notifications = test.part("Notifications")

    accepted = test.call_api(notifications.api, "POST", "/notifications", POISON_JOB)
    accepted.assert_at_path("Payload.body.status", ExpectedResult.string_like_regexp("^pending$"))
    job_id = accepted.get_att_string("Payload.body.job_id")
    failed = test.eventually(
        test.call_api(notifications.api, "GET", f"/notifications/{job_id}"),
        harness.answered(200, {"job_id": job_id, "status": "failed"}),
        **harness.DEAD_LETTERED,
    )
    test.dead_lettered_and_alarmed(
        accepted.next(failed),
        notifications.dead_letter_queue,
        notifications.node.find_child("DeadLetterQueueMessages"),
    )
    return test


if __name__ == "__main__":
    build(app := harness.app())
    app.synth()
