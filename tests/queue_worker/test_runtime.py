"""The worker runtime the QueueWorkerService image runs, in-process against moto.

Each test names the AWS behaviour it relies on:
- "Amazon SQS visibility timeout" (AWSSimpleQueueService/latest/SQSDeveloperGuide/
  sqs-visibility-timeout.html): a received message is hidden for the visibility timeout, which
  ChangeMessageVisibility extends (the heartbeat) or ends (0: release); a message not deleted
  is received again after it.
- "Using dead-letter queues in Amazon SQS" (SQSDeveloperGuide/sqs-dead-letter-queues.html):
  after maxReceiveCount receives SQS moves the message to the dead-letter queue.
- "Amazon SQS at-least-once delivery" (SQSDeveloperGuide/standard-queues-at-least-once-
  delivery.html): a standard queue may deliver a message more than once, with one message id.
- "Amazon ECS task lifecycle" / "Stopping a task" (AmazonECS/latest/developerguide/
  task-lifecycle-explanation.html): ECS sends SIGTERM, then SIGKILL after the stop timeout.
- "Amazon ECS task scale-in protection endpoint" (AmazonECS/latest/developerguide/
  task-scale-in-protection-endpoint.html): PUT {"ProtectionEnabled", "ExpiresInMinutes"} to
  ``$ECS_AGENT_URI/task-protection/v1/state``.
"""

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import ModuleType
from typing import Any, ClassVar

import boto3
import pytest

from tests.queue_worker.conftest import Queues


def worker_for(runtime: ModuleType, queues: Queues, process: Callable, **options: Any) -> Any:
    settings = {
        "queue_url": queues.url,
        "table_name": queues.table,
        "max_receive_count": 2,
        "visibility_timeout": 1,
        "wait_seconds": 0,
        "retry_delay": 0,
        **options,
    }
    return runtime.Worker(process, **settings)


def messages_left(url: str) -> int:
    counts = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in counts.values())


def test_a_job_delivered_twice_is_processed_and_recorded_once(
    runtime: ModuleType, queues: Queues, capsys: pytest.CaptureFixture[str]
) -> None:
    """At-least-once delivery: the second copy (same message id) finds the job succeeded."""
    processed: list[dict] = []
    worker = worker_for(runtime, queues, processed.append)
    message_id = queues.send({"n": 1})
    first = queues.receive(visibility=0)  # visible again at once: a second delivery follows
    second = queues.receive(visibility=30)
    assert [first[0]["MessageId"], second[0]["MessageId"]] == [message_id, message_id]

    worker.handle_batch(first)
    worker.handle_batch(second)

    assert processed == [{"n": 1}]
    record = queues.record(message_id)
    assert (record["status"], record["attempts"]) == ("succeeded", "1")
    assert messages_left(queues.url) == 0
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["level"], line["message"], line["message_id"]) for line in logs] == [
        ("INFO", "job succeeded", message_id),
        ("INFO", "duplicate delivery of a job that already succeeded: deleted", message_id),
    ]


def test_a_failing_job_is_retried_then_dead_lettered(runtime: ModuleType, queues: Queues) -> None:
    """Failed: released, received again; after maxReceiveCount (2) SQS moves it to the DLQ."""
    attempts: list[dict] = []

    def process(job: dict) -> None:
        attempts.append(job)
        raise RuntimeError("the SMS gateway refused it")

    worker = worker_for(runtime, queues, process)
    message_id = queues.send({"n": 2})

    assert [worker.poll(), worker.poll(), worker.poll()] == [1, 1, 0]

    assert len(attempts) == 2
    record = queues.record(message_id)
    assert (record["status"], record["attempts"]) == ("failed", "2")
    assert record["error"] == "RuntimeError: the SMS gateway refused it"
    dead = queues.receive(queues.dead_letter_url)
    assert [(each["MessageId"], json.loads(each["Body"])) for each in dead] == [
        (message_id, {"n": 2})
    ]
    assert messages_left(queues.url) == 0


@pytest.fixture
def restore_signals() -> Iterator[None]:
    handlers = {each: signal.getsignal(each) for each in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in handlers.items():
        signal.signal(number, handler)


def test_sigterm_during_a_job_loses_nothing(
    runtime: ModuleType, queues: Queues, restore_signals: None
) -> None:
    """ECS stops a task with SIGTERM: the job in hand finishes and is deleted, the rest of the
    batch is released (visibility 0) for another task at once, and the loop ends."""
    processed: list[dict] = []

    def process(job: dict) -> None:
        if not processed:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)  # the job goes on after the signal
        processed.append(job)

    worker = worker_for(runtime, queues, process, visibility_timeout=30)
    worker.install_signal_handlers()
    sent = [queues.send({"n": n}) for n in range(3)]

    worker.run()  # returns once SIGTERM was handled

    assert processed == [{"n": 0}]
    assert queues.record(sent[0])["status"] == "succeeded"
    released = queues.receive()  # at once, although the visibility timeout is 30 s
    assert sorted(each["MessageId"] for each in released) == sorted(sent[1:])
    assert messages_left(queues.dead_letter_url) == 0


def test_a_long_job_extends_its_visibility_and_is_not_received_twice(
    runtime: ModuleType, queues: Queues
) -> None:
    """The job outlasts the 1 s visibility timeout; the heartbeat keeps it invisible."""
    seen_by_others: list[list[dict]] = []
    processed: list[dict] = []

    def process(job: dict) -> None:
        time.sleep(1.25)  # past the 1 s visibility timeout
        seen_by_others.append(queues.receive())
        processed.append(job)

    worker = worker_for(runtime, queues, process, heartbeat_seconds=0.25)
    queues.send({"n": 3})

    assert worker.poll() == 1

    assert seen_by_others == [[]]
    assert processed == [{"n": 3}]
    assert messages_left(queues.url) == 0


class AgentEndpoint(BaseHTTPRequestHandler):
    """The ECS agent's task-protection endpoint as documented: records each PUT body."""

    states: ClassVar[list[dict]] = []

    def do_PUT(self) -> None:  # http.server's naming
        length = int(self.headers["Content-Length"])
        assert self.path == "/task-protection/v1/state"
        assert self.headers["Content-Type"] == "application/json"
        self.states.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def test_the_task_is_protected_from_scale_in_while_it_holds_work(
    runtime: ModuleType, queues: Queues
) -> None:
    AgentEndpoint.states = []
    server = HTTPServer(("127.0.0.1", 0), AgentEndpoint)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    protected_while_working: list[list[dict]] = []
    try:
        protection = runtime.TaskProtection(f"http://127.0.0.1:{server.server_port}")
        worker = worker_for(
            runtime,
            queues,
            lambda job: protected_while_working.append(list(AgentEndpoint.states)),
            protection=protection,
        )
        queues.send({"n": 4})
        assert worker.poll() == 1
        assert worker.poll() == 0  # idle: no protection asked
    finally:
        server.shutdown()
    enabled = {"ProtectionEnabled": True, "ExpiresInMinutes": runtime.PROTECTION_MINUTES}
    assert protected_while_working == [[enabled]]
    assert AgentEndpoint.states == [enabled, {"ProtectionEnabled": False}]


def test_a_processor_that_cannot_be_loaded_stops_the_task(
    runtime: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The container exits 1 (ECS restarts it; the task-failure alarm fires), messages stay."""
    monkeypatch.setenv("PROCESSOR", "no_such_module.process")
    with pytest.raises(SystemExit) as stopped:
        runtime.main()
    assert stopped.value.code == 1
    line = json.loads(capsys.readouterr().out)
    assert (line["level"], line["message"]) == ("CRITICAL", "the processor could not be loaded")
