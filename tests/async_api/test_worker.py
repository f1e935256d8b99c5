"""The worker runtime wrapping the reference ``process(job)``, against moto SQS, DynamoDB, SES."""

import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.async_api.emulation import (
    CONTEXT,
    POISON,
    RECEIPT,
    WELCOME,
    Queues,
    create_queues,
    load_runtime,
)
from tests.support.aws import load_handler
from tests.support.cdk import ROOT
from tests.support.events import sqs_event


def new_id() -> str:
    return str(uuid.uuid4())


def run_batch(
    worker: ModuleType, process: Callable[..., Any], queues: Queues
) -> tuple[list[dict[str, Any]], set[str]]:
    """Receive one batch, run it; answer the messages and the reported failures' ids."""
    messages = queues.receive()
    answer = worker.handle(sqs_event(messages, queues.arn), CONTEXT, process)
    return messages, {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}


def job(jobs: Any, job_id: str) -> dict[str, Any]:
    return jobs.get_item(Key={"pk": job_id, "sk": "job"}, ConsistentRead=True).get("Item")


def test_good_jobs_succeed_and_poison_ones_are_reported_as_batch_item_failures(
    worker: ModuleType, notifications: ModuleType, queues: Queues, jobs: Any, sent_emails: Any
) -> None:
    good = {new_id(): WELCOME, new_id(): RECEIPT, new_id(): WELCOME}
    poison_id = new_id()
    message_ids = {queues.send(body, job_id): job_id for job_id, body in good.items()}
    poison_message = queues.send(POISON, poison_id)

    messages, failed = run_batch(worker, notifications.process, queues)

    assert len(messages) == 4
    assert failed == {poison_message}
    for message_id, job_id in message_ids.items():
        record = job(jobs, job_id)
        assert record["status"] == "succeeded", record
        assert record["attempts"] == 1 and "owner" not in record and "error" not in record
        assert record["result"]["template"] == good[job_id]["template"]
        assert message_id != record["result"]["message_id"]  # SES's id, not SQS's
    poison = job(jobs, poison_id)
    assert poison["status"] == "pending"  # retries remain
    assert poison["error"] == "InvalidJob: template 'receipt' needs data: amount, order_id"
    assert "finished_at" not in poison
    emails = sent_emails()
    assert sorted(email.destinations["ToAddresses"][0] for email in emails) == sorted(
        body["to"] for body in good.values()
    )
    receipt = next(email for email in emails if "o-42" in email.subject)
    assert "we received your payment of 12.50 EUR for order o-42" in receipt.body


def test_poison_jobs_reach_the_dead_letter_queue_after_max_receive_count_marked_failed(
    worker: ModuleType, notifications: ModuleType, queues: Queues, jobs: Any, sent_emails: Any
) -> None:
    good_ids = [new_id() for _ in range(7)]
    poison_ids = [new_id() for _ in range(3)]
    for job_id in good_ids:
        queues.send(WELCOME, job_id)
    for job_id in poison_ids:
        queues.send(POISON, job_id)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return worker.handle(event, CONTEXT, notifications.process)

    queues.poll(invoke)

    assert queues.max_receive_count == 5
    assert queues.count(queues.url) == 0
    dead_letters = queues.receive(queues.dead_letter_url)
    succeeded = [job_id for job_id in good_ids if job(jobs, job_id)["status"] == "succeeded"]
    # Nothing is lost: every job sent either succeeded or waits in the dead-letter queue.
    assert len(good_ids) + len(poison_ids) == len(succeeded) + len(dead_letters)
    assert sorted(m["MessageAttributes"]["job_id"]["StringValue"] for m in dead_letters) == sorted(
        poison_ids
    )
    for message in dead_letters:
        # every receive the queue allows, plus this look
        assert message["Attributes"]["ApproximateReceiveCount"] == str(queues.max_receive_count + 1)
        assert json.loads(message["Body"]) == POISON  # kept as sent, ready for redrive
    for job_id in poison_ids:
        record = job(jobs, job_id)
        assert record["status"] == "failed" and record["attempts"] == 5
        assert record["error"].startswith("InvalidJob: template 'receipt' needs data")
        assert "finished_at" in record and "owner" not in record
    assert len(sent_emails()) == len(good_ids)  # each good job sent exactly once


def test_a_redriven_job_runs_again_once_the_cause_is_fixed(
    worker: ModuleType, queues: Queues, jobs: Any, sent_emails: Any
) -> None:
    sender = load_handler("examples/handlers/notifications/app.py")  # no verified identity yet
    job_id = new_id()
    queues.send(WELCOME, job_id)

    queues.poll(lambda event: worker.handle(event, CONTEXT, sender.process))

    record = job(jobs, job_id)
    assert record["status"] == "failed" and "MessageRejected" in record["error"]
    assert sent_emails() == []
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")  # the fix
    assert queues.redrive() == 1
    queues.poll(lambda event: worker.handle(event, CONTEXT, sender.process))

    record = job(jobs, job_id)
    assert record["status"] == "succeeded" and "error" not in record
    assert len(sent_emails()) == 1
    assert queues.count(queues.dead_letter_url) == 0


def test_a_duplicate_delivery_sends_one_email(
    worker: ModuleType, notifications: ModuleType, queues: Queues, jobs: Any, sent_emails: Any
) -> None:
    job_id = new_id()
    queues.send(RECEIPT, job_id)
    queues.send(RECEIPT, job_id)  # the same job twice (at-least-once delivery)

    messages, failed = run_batch(worker, notifications.process, queues)
    first = job(jobs, job_id)
    again = worker.handle(sqs_event(messages, queues.arn), CONTEXT, notifications.process)

    assert len(messages) == 2 and failed == set()
    assert again == {"batchItemFailures": []}
    assert len(sent_emails()) == 1
    assert job(jobs, job_id) == first and first["status"] == "succeeded"


def test_a_job_another_invocation_is_running_waits_for_a_later_receive(
    worker: ModuleType, queues: Queues, jobs: Any
) -> None:
    running, abandoned = new_id(), new_id()
    lease = int(time.time())
    jobs.put_item(
        Item={"pk": running, "sk": "job", "status": "running", "owner": "other:1"}
        | {"lease_expires_at": lease + 600}
    )
    jobs.put_item(
        Item={"pk": abandoned, "sk": "job", "status": "running", "owner": "crashed:1"}
        | {"lease_expires_at": lease - 5}
    )
    calls: list[dict[str, Any]] = []
    running_message = queues.send(WELCOME, running)
    queues.send(RECEIPT, abandoned)

    _, failed = run_batch(worker, lambda job: calls.append(job) or {"ok": True}, queues)

    assert failed == {running_message}
    assert calls == [RECEIPT]  # the crashed invocation's lease ran out: taken over
    assert job(jobs, running)["owner"] == "other:1"
    assert job(jobs, abandoned)["status"] == "succeeded"


def test_the_last_allowed_receive_marks_the_job_failed(
    worker: ModuleType, queues: Queues, jobs: Any
) -> None:
    job_id = new_id()
    queues.send(WELCOME, job_id)
    statuses = []

    def broken(job: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("renderer crashed")

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        answer = worker.handle(event, CONTEXT, broken)
        statuses.append(job(jobs, job_id)["status"])
        return answer

    assert queues.poll(invoke) == queues.max_receive_count
    assert statuses == ["pending"] * (queues.max_receive_count - 1) + ["failed"]
    assert job(jobs, job_id)["error"] == "RuntimeError: renderer crashed"
    assert queues.count(queues.dead_letter_url) == 1


def test_a_whole_failed_batch_is_reported_not_raised(
    worker: ModuleType, notifications: ModuleType, queues: Queues
) -> None:
    sent = {queues.send(POISON, new_id()) for _ in range(3)}
    _, failed = run_batch(worker, notifications.process, queues)
    assert failed == sent


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("[1, 2]", "ValueError: the message body is not a JSON object"),
        ("{not json", "JSONDecodeError"),
    ],
)
def test_a_malformed_message_fails_like_any_job(
    worker: ModuleType, queues: Queues, jobs: Any, body: str, error: str
) -> None:
    job_id = new_id()
    message_id = queues.send(body, job_id)
    _, failed = run_batch(worker, lambda job: {}, queues)
    assert failed == {message_id}
    assert job(jobs, job_id)["error"].startswith(error)


def test_a_message_without_a_job_id_is_tracked_by_its_message_id(
    worker: ModuleType, queues: Queues, jobs: Any
) -> None:
    message_id = queues.send({"n": 1.5}, None)
    _, failed = run_batch(worker, lambda job: {"doubled": job["n"] * 2}, queues)
    assert failed == set()
    record = job(jobs, message_id)
    assert record["status"] == "succeeded" and float(record["result"]["doubled"]) == 3.0


@pytest.mark.parametrize(
    ("result", "note"),
    [
        (object(), "the result was not stored: it is not JSON"),
        ({"blob": "x" * 400_000}, "the result was not stored: 400012 bytes"),
    ],
)
def test_a_result_that_cannot_be_stored_still_marks_the_job_succeeded(
    worker: ModuleType, queues: Queues, jobs: Any, result: Any, note: str
) -> None:
    job_id = new_id()
    queues.send(WELCOME, job_id)
    _, failed = run_batch(worker, lambda job: result, queues)
    record = job(jobs, job_id)
    assert failed == set()
    assert record["status"] == "succeeded" and "result" not in record
    assert record["error"].startswith(note)


def test_the_lambda_handler_runs_the_processor_named_in_the_environment(
    worker: ModuleType,
    queues: Queues,
    jobs: Any,
    sent_emails: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    assert os.environ["PROCESSOR"] == "app.process"
    monkeypatch.syspath_prepend(str(ROOT / "examples/handlers/notifications"))
    monkeypatch.delitem(sys.modules, "app", raising=False)
    job_id = new_id()
    queues.send(WELCOME, job_id)
    messages = queues.receive()

    answer = worker.handler(sqs_event(messages, queues.arn), CONTEXT)

    sys.modules.pop("app", None)
    worker.load.cache_clear()
    assert answer == {"batchItemFailures": []}
    assert job(jobs, job_id)["status"] == "succeeded"
    assert len(sent_emails()) == 1


def test_fifo_queues_keep_order_within_a_group_after_a_failure(
    aws: None, jobs: Any, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_RECEIVE_COUNT", "3")
    monkeypatch.setenv("QUEUE_FIFO", "true")
    worker = load_runtime("worker", monkeypatch)
    queues = create_queues(template, fifo=True)
    sent = []
    for group, body in [("a", {"n": 0}), ("a", {"n": 1}), ("b", {"n": 2})]:
        job_id = new_id()
        message_id = queues.sqs.send_message(
            QueueUrl=queues.url,
            MessageBody=json.dumps(body),
            MessageGroupId=group,
            MessageDeduplicationId=job_id,
            MessageAttributes={"job_id": {"DataType": "String", "StringValue": job_id}},
        )["MessageId"]
        sent.append((message_id, job_id))
    ran: list[int] = []

    def process(job: dict[str, Any]) -> dict[str, Any]:
        ran.append(job["n"])
        if job["n"] == 0:
            raise RuntimeError("first of group a fails")
        return {}

    _, failed = run_batch(worker, process, queues)

    assert ran == [0, 2]  # n=1 waits behind the failed n=0 of its group; group b goes on
    assert failed == {sent[0][0], sent[1][0]}
    assert job(jobs, sent[2][1])["status"] == "succeeded"
    assert job(jobs, sent[1][1]) is None  # never claimed
