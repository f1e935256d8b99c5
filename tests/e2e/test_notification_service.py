"""Notification service: a request is recorded and published to the SMS topic; a request
that can never be sent fails for good and waits in the dead-letter queue."""

import json
import urllib.request
import uuid

import pytest

from tests.e2e.conftest import SMS_STUB_GAP, assert_dead_lettered_failed_job, eventually

pytestmark = pytest.mark.e2e

STACK, CONSTRUCT = "NotificationService", "Notifications"
FINAL_TIMEOUT = 90


@pytest.fixture(scope="module")
def jobs(jobs_api):
    return jobs_api(STACK, "ApiUrl", "notifications", CONSTRUCT)


#: A link to a foreign domain passes the API's schema, but carriers drop such texts.
POISON = {"audience": "on-call", "message": f"e2e {uuid.uuid4()} see https://bit.ly/x"}


@pytest.fixture(scope="module", autouse=True)
def poison_job(jobs):
    """Submitted before the other tests so that its retries overlap them; checked last."""
    return jobs.submit(POISON)


@pytest.fixture(scope="module")
def records(stack, session, endpoint):
    dynamodb = session.resource("dynamodb", endpoint_url=endpoint)
    return dynamodb.Table(stack(STACK).resource("NotificationRecords"))


def test_a_request_is_recorded_and_published_to_the_audience(jobs, records):
    message = f"e2e {uuid.uuid4()}: failover at 02:00, see https://status.example.com"
    job_id = jobs.submit({"audience": "on-call", "message": message})
    done = jobs.finished(job_id, timeout=FINAL_TIMEOUT)
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert result["notification_id"] == job_id
    assert result["audience"] == "on-call"
    assert result["status"] == "sent"
    assert result["sns_message_id"]
    # Observed, not written: the service's own record of what it sent.
    record = records.get_item(Key={"id": job_id}, ConsistentRead=True)["Item"]
    assert record["status"] == "sent" and record["message"] == message
    assert record["sns_message_id"] == result["sns_message_id"]


@pytest.mark.xfail(strict=True, reason=SMS_STUB_GAP)
def test_the_audience_s_phones_receive_the_text(jobs, endpoint):
    message = f"e2e {uuid.uuid4()}: incident update"
    job_id = jobs.submit({"audience": "incident-updates", "message": message})
    assert jobs.finished(job_id, timeout=FINAL_TIMEOUT)["status"] == "succeeded"

    def texts() -> list[dict]:
        with urllib.request.urlopen(f"{endpoint}/_ministack/sns/sms-messages") as answer:
            return [m for m in json.dumps(json.loads(answer.read())).split(message)][1:]

    eventually(texts, timeout=10, what="the subscribed phones got the text")


def test_a_request_that_can_never_be_sent_fails_and_waits_in_the_dlq(
    jobs, poison_job, stack, queue
):
    assert_dead_lettered_failed_job(
        jobs,
        stack(STACK),
        queue,
        CONSTRUCT,
        (poison_job, POISON),
        "links may only point to example.com",
        FINAL_TIMEOUT,
    )
