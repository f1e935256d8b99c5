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

from tests.async_api.jobs import (
    CONTEXT,
    POISON,
    RECEIPT,
    WELCOME,
    WORKER_HANDLER,
    Queues,
    fifo,
    function_id,
)
from tests.support.aws import load_handler
from tests.support.cdk import ROOT
from tests.support.emulation import Deployed, Emulation, FunctionError
from tests.support.events import rest_api_event, sqs_event


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
        assert message["Attributes"]["ApproximateReceiveCount"] == "1"  # the recorder's copy
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


def test_a_duplicate_delivered_while_the_job_runs_waits_for_the_running_invocation(
    worker: ModuleType, queues: Queues, jobs: Any
) -> None:
    """The running invocation's lease lasts until it times out (the context's remaining time,
    20 s here): a duplicate delivered meanwhile ("at-least-once delivery", SQS developer guide)
    finds it held and is reported failed for a later receive, not run twice."""
    job_id = new_id()
    queues.send(WELCOME, job_id)
    [message] = queues.receive()
    event = sqs_event([message], queues.arn)
    leases: list[float] = []
    duplicates: list[dict[str, Any]] = []

    def process(payload: dict[str, Any]) -> dict[str, Any]:
        leases.append(float(job(jobs, job_id)["lease_expires_at"]) - time.time())
        duplicates.append(worker.handle(event, CONTEXT, lambda _: pytest.fail("ran twice")))
        return {"ok": True}

    answer = worker.handle(event, CONTEXT, process)

    assert answer == {"batchItemFailures": []}
    assert duplicates == [{"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}]
    [lease] = leases
    assert 19 < lease <= 22
    assert job(jobs, job_id)["status"] == "succeeded"


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


def fifo_deployment(
    template: dict[str, Any], reference_app: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[Emulation, ModuleType, Any]:
    """The stack on FIFO queues; its worker module (environment set here) and jobs table."""
    emulation = Emulation(fifo(template), monkeypatch, reference_app.outdir)
    function = emulation.functions[function_id(template, WORKER_HANDLER)]
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    [table] = emulation.of_type("AWS::DynamoDB::GlobalTable")
    return emulation, function.module, emulation.table(table)


def test_fifo_queues_keep_order_within_a_group_after_a_failure(
    aws: None, template: dict[str, Any], reference_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulation, worker, jobs = fifo_deployment(template, reference_app, monkeypatch)
    queues = Queues.of(emulation)
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


# --- every job that leaves the queue ends succeeded or failed -----------------------------


class Killed(BaseException):
    """The Lambda runtime stops the invocation (timeout, out of memory): no code runs after."""


def dies(job: dict[str, Any]) -> Any:
    raise Killed


def killed(worker: ModuleType) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        try:
            return worker.handle(event, CONTEXT, dies)
        except Killed:
            raise FunctionError from None

    return invoke


def test_a_job_whose_worker_dies_on_every_receive_is_marked_failed_and_kept(
    worker: ModuleType, queues: Queues, jobs: Any, status: ModuleType
) -> None:
    """SQS moves a message to the redrive target once its receive count exceeds
    ``maxReceiveCount``, whatever the consumer did ("Using dead-letter queues in Amazon SQS",
    AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html): the
    recorder on that path marks the job failed, and the message reaches the DLQ unchanged."""
    job_id = new_id()
    queues.send(RECEIPT, job_id)

    assert queues.poll(killed(worker)) == queues.max_receive_count

    record = job(jobs, job_id)
    assert record["status"] == "failed" and "owner" not in record
    assert record["error"].startswith("the worker recorded no outcome on the last allowed")
    assert record["attempts"] == 1  # the claim of the first receive; later ones found it leased
    [dead_letter] = queues.receive(queues.dead_letter_url)
    assert json.loads(dead_letter["Body"]) == RECEIPT
    assert dead_letter["MessageAttributes"]["job_id"]["StringValue"] == job_id
    assert queues.count(queues.url) == queues.count(queues.recorder_url) == 0
    answer = status.handler(
        rest_api_event("GET", f"/notifications/{job_id}", path_parameters={"job_id": job_id}),
        CONTEXT,
    )
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["status"] == "failed"


def test_a_job_whose_function_never_starts_is_created_failed(queues: Queues, jobs: Any) -> None:
    """A worker that fails before its handler runs (an import error) records nothing; the
    recorder still gives the job a final record instead of a 404 forever."""
    job_id = new_id()
    queues.send(WELCOME, job_id)

    def import_error(event: dict[str, Any]) -> dict[str, Any]:
        raise FunctionError("Runtime.ImportModuleError")

    queues.poll(import_error)

    record = job(jobs, job_id)
    assert record["status"] == "failed" and "submitted_at" in record
    assert queues.count(queues.dead_letter_url) == 1


def test_the_recorder_never_overwrites_a_job_that_succeeded_or_failed_with_its_error(
    queues: Queues, jobs: Any
) -> None:
    done, failed = new_id(), new_id()
    jobs.put_item(Item={"pk": done, "sk": "job", "status": "succeeded", "result": {"n": 1}})
    jobs.put_item(Item={"pk": failed, "sk": "job", "status": "failed", "error": "Boom: x"})
    for job_id in (done, failed):
        queues.sqs.send_message(
            QueueUrl=queues.recorder_url,
            MessageBody=json.dumps(WELCOME),
            MessageAttributes={"job_id": {"DataType": "String", "StringValue": job_id}},
        )

    queues.poll(lambda event: {"batchItemFailures": []})

    assert job(jobs, done) == {"pk": done, "sk": "job", "status": "succeeded", "result": {"n": 1}}
    assert job(jobs, failed)["error"] == "Boom: x"
    assert queues.count(queues.dead_letter_url) == 2  # both kept for redrive all the same


def test_a_recorder_that_keeps_failing_still_ends_in_the_dead_letter_queue(
    queues: Queues, jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder queue's own redrive policy ends in the DLQ: nothing is lost."""
    recorder = queues.emulation.functions[queues.consumer(queues.recorder_queue)]
    recorder.environment["DEAD_LETTER_QUEUE_URL"] = "https://sqs.us-east-1.amazonaws.com/1/none"
    queues.sqs.send_message(QueueUrl=queues.recorder_url, MessageBody="{}")

    queues.poll(lambda event: {"batchItemFailures": []})

    assert queues.count(queues.recorder_url) == 0
    assert queues.count(queues.dead_letter_url) == 1


def test_an_unloadable_processor_fails_each_job_with_the_reason(
    worker: Deployed, queues: Queues, jobs: Any
) -> None:
    worker.function.environment["PROCESSOR"] = "no_such_module.process"
    job_id = new_id()
    message_id = queues.send(WELCOME, job_id)

    answer = worker.handler(sqs_event(queues.receive(), queues.arn), CONTEXT)

    assert answer == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    record = job(jobs, job_id)
    assert record["status"] == "pending"
    assert record["error"] == (
        "ProcessorUnavailable: no_such_module.process could not be loaded: "
        "ModuleNotFoundError: No module named 'no_such_module'"
    )


def test_every_job_record_expires_after_the_retention(
    worker: ModuleType, queues: Queues, jobs: Any
) -> None:
    """DynamoDB deletes an item after the epoch-seconds Number in its TTL attribute ("Time to
    Live (TTL)", amazondynamodb/latest/developerguide/TTL.html); every write renews it."""
    retention = int(os.environ["JOB_RETENTION_SECONDS"])
    assert retention == 30 * 24 * 3600
    ok, dead = new_id(), new_id()
    queues.send(WELCOME, ok)
    queues.send(WELCOME, dead)
    before = int(time.time())

    def half(job_body: dict[str, Any], job_id: str) -> dict[str, Any]:
        if job_id == dead:
            raise Killed
        return {}

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        try:
            return worker.handle(event, CONTEXT, half)
        except Killed:
            raise FunctionError from None

    queues.poll(invoke)

    for job_id in (ok, dead):
        record = job(jobs, job_id)
        assert record["status"] in ("succeeded", "failed")
        assert before + retention <= record["expires_at"] <= int(time.time()) + retention


def test_a_fifo_job_is_recorded_and_kept_in_its_message_group(
    aws: None, template: dict[str, Any], reference_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FIFO queue's dead-letter queue is FIFO too ("Using dead-letter queues in Amazon
    SQS"): the recorder forwards with the message's group, deduplicated by its message id."""
    emulation, worker, jobs = fifo_deployment(template, reference_app, monkeypatch)
    queues = Queues.of(emulation)
    job_id = new_id()
    queues.sqs.send_message(
        QueueUrl=queues.url,
        MessageBody=json.dumps(WELCOME),
        MessageGroupId="customer-7",
        MessageDeduplicationId=job_id,
        MessageAttributes={"job_id": {"DataType": "String", "StringValue": job_id}},
    )

    queues.poll(killed(worker))

    assert job(jobs, job_id)["status"] == "failed"
    [dead_letter] = queues.receive(queues.dead_letter_url)
    assert dead_letter["Attributes"]["MessageGroupId"] == "customer-7"
    assert dead_letter["MessageAttributes"]["job_id"]["StringValue"] == job_id
