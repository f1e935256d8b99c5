"""The queue worker: runs your ``process(job)`` for each SQS message, at most once to success.

Your code is one function, ``process(job: dict) -> Any`` (optionally with a ``job_id`` keyword:
the id the API answered, else the message id). This module does the rest:

1. **Receive** up to ``BATCH_SIZE`` messages with long polling (``WaitTimeSeconds`` 20).
2. **Protect** the task from scale-in while the batch is in hand (the ECS agent's task
   scale-in protection endpoint, ``$ECS_AGENT_URI/task-protection/v1/state``), and keep every
   message of the batch invisible (``ChangeMessageVisibility`` every third of the visibility
   timeout: the heartbeat) however long a job runs.
3. **Claim** each message with a conditional write to the jobs table, keyed by the SQS message
   id: a message that already succeeded is a duplicate delivery (standard queues deliver at
   least once) and is deleted without running ``process``; one another worker is running
   is left alone.
4. **Run** ``process`` with the message body (a JSON object). On success record ``succeeded``
   and delete the message. On an error record it (``pending`` while receives remain,
   ``failed`` on the queue's last allowed receive) and make the message visible again after
   ``RETRY_DELAY_SECONDS``; after ``MAX_RECEIVE_COUNT`` receives SQS moves it to the
   dead-letter queue. Nothing is deleted before it succeeded; the succeeded messages of a
   batch are deleted together at its end (one ``DeleteMessageBatch``), kept invisible until
   then, and a worker that dies in between leaves only duplicates the jobs table skips.
5. **Stop** on SIGTERM (ECS sends it before stopping a task, then SIGKILL after the stop
   timeout): the job in hand is finished, the rest of the batch is released at once
   (visibility 0) for another task, and the loop ends.

Logs are JSON lines on stdout (``timestamp``, ``level``, ``message``, ``service`` and the
message's ``message_id`` and ``receive_count``).

Environment: ``QUEUE_URL``, ``TABLE_NAME``, ``PROCESSOR`` (``module.function``),
``MAX_RECEIVE_COUNT``, ``VISIBILITY_TIMEOUT_SECONDS`` (the queue's), ``BATCH_SIZE``,
``RETRY_DELAY_SECONDS``, ``JOB_RETENTION_SECONDS``, ``SERVICE_NAME``; ``ECS_AGENT_URI`` is set
by ECS.
"""

import importlib
import inspect
import json
import os
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

#: The message attribute API Gateway's SendMessage integration sets (``core.integrations``).
JOB_ID = "job_id"
PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"
MAX_ERROR_CHARS = 1_000
#: How long a task stays protected after each renewal: lapses soon after a worker hangs.
PROTECTION_MINUTES = 5

#: ``process(job)``, or ``process(job, *, job_id)`` when it asks for the id.
Process = Callable[..., Any]


def log(level: str, message: str, **fields: Any) -> None:
    """One structured JSON log line on stdout."""
    line = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "message": message,
        "service": os.environ.get("SERVICE_NAME", "queue-worker"),
        **fields,
    }
    print(json.dumps(line, default=str), flush=True)


class TaskProtection:
    """ECS task scale-in protection through the container agent's endpoint.

    Outside ECS (no ``ECS_AGENT_URI``) it does nothing. A failed request is logged, never
    fatal: the heartbeat's visibility extension still keeps the messages of a killed task.
    """

    def __init__(self, agent_uri: str | None) -> None:
        self._url = f"{agent_uri}/task-protection/v1/state" if agent_uri else None
        self._renewed = 0.0

    def set(self, enabled: bool) -> None:
        if self._url is None:
            return
        state: dict[str, Any] = {"ProtectionEnabled": enabled}
        if enabled:
            state["ExpiresInMinutes"] = PROTECTION_MINUTES
        request = urllib.request.Request(
            self._url,
            data=json.dumps(state).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5):
                self._renewed = time.monotonic() if enabled else 0.0
        except OSError as error:
            log("WARNING", "task protection not updated", enabled=enabled, error=str(error))

    def renew(self) -> None:
        """Enable it again once half of its window has passed."""
        if time.monotonic() - self._renewed > PROTECTION_MINUTES * 30:
            self.set(True)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.set(True)
        try:
            yield
        finally:
            self.set(False)


class Worker:
    """Consume ``queue_url`` with ``process`` until :meth:`stop` (SIGTERM) is called."""

    def __init__(
        self,
        process: Process,
        *,
        queue_url: str,
        table_name: str,
        max_receive_count: int,
        visibility_timeout: int,
        batch_size: int = 10,
        wait_seconds: int = 20,
        retry_delay: int = 30,
        retention_seconds: int = 14 * 24 * 3600,
        protection: TaskProtection | None = None,
        heartbeat_seconds: float | None = None,
    ) -> None:
        self.process = process
        self._passes_job_id = "job_id" in inspect.signature(process).parameters
        self.queue_url = queue_url
        self.max_receive_count = max_receive_count
        self.visibility_timeout = visibility_timeout
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.retry_delay = retry_delay
        self.retention_seconds = retention_seconds
        self.protection = protection or TaskProtection(None)
        self.heartbeat_seconds = heartbeat_seconds or visibility_timeout / 3
        self.sqs = boto3.client("sqs")
        self.jobs = boto3.client("dynamodb")
        self.table_name = table_name
        self.stopping = threading.Event()
        self._in_hand: dict[str, str] = {}  # message id -> receipt handle
        self._running: tuple[str, str] | None = None  # (message id, owner) of the job in hand
        self._done: list[dict[str, Any]] = []  # succeeded or duplicate: deleted after the batch
        self._lock = threading.Lock()

    # --- the loop ---------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        for each in (signal.SIGTERM, signal.SIGINT):
            signal.signal(each, lambda number, _frame: self.stop(signal.Signals(number).name))

    def stop(self, reason: str = "stop requested") -> None:
        log("INFO", "stopping: finishing the job in hand, releasing the rest", reason=reason)
        self.stopping.set()

    def run(self) -> None:
        log("INFO", "worker started", queue_url=self.queue_url)
        while not self.stopping.is_set():
            self.poll()
        log("INFO", "worker stopped")

    def poll(self) -> int:
        """Receive one batch and handle it; answer how many messages came."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            VisibilityTimeout=self.visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=[JOB_ID],
        ).get("Messages", [])
        if messages:
            self.handle_batch(messages)
        return len(messages)

    def handle_batch(self, messages: list[dict[str, Any]]) -> None:
        """Handle received ``messages`` one by one while protected and kept invisible; then
        delete the succeeded ones together."""
        with self._lock:
            self._in_hand = {each["MessageId"]: each["ReceiptHandle"] for each in messages}
        with self.protection.held(), self._heartbeat():
            try:
                for index, message in enumerate(messages):
                    if self.stopping.is_set():
                        self._release(messages[index:])
                        break
                    self.handle(message)
            finally:
                self._delete_done()

    def handle(self, message: dict[str, Any]) -> None:
        message_id = message["MessageId"]
        receive_count = int(message["Attributes"]["ApproximateReceiveCount"])
        context = {"message_id": message_id, "receive_count": receive_count}
        owner = f"{message_id}:{receive_count}"
        claimed = self._claim(message_id, owner, receive_count)
        if claimed == SUCCEEDED:
            log("INFO", "duplicate delivery of a job that already succeeded: deleted", **context)
            self._delete(message)
            return
        if claimed == RUNNING:
            log("INFO", "another worker is running this job: left to it", **context)
            self._forget(message)
            return
        self._running = (message_id, owner)
        try:
            job = json.loads(message["Body"])
            if not isinstance(job, dict):
                raise ValueError("the message body is not a JSON object")
            if self._passes_job_id:
                self.process(job, job_id=_job_id(message))
            else:
                self.process(job)
        except Exception as error:
            final = receive_count >= self.max_receive_count
            self._record(message_id, owner, FAILED if final else PENDING, error)
            log(
                "ERROR",
                "job failed for good: SQS moves it to the dead-letter queue"
                if final
                else "job failed: it will be retried",
                error=f"{type(error).__name__}: {error}",
                **context,
            )
            self._release([message], delay=self.retry_delay)
            return
        finally:
            self._running = None
        self._record(message_id, owner, SUCCEEDED)
        self._delete(message)
        log("INFO", "job succeeded", **context)

    # --- SQS --------------------------------------------------------------------------------

    @contextmanager
    def _heartbeat(self) -> Iterator[None]:
        """Keep the messages in hand invisible (and the task protected) while the batch runs."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.heartbeat_seconds):
                with self._lock:
                    entries = [
                        {
                            "Id": str(index),
                            "ReceiptHandle": handle,
                            "VisibilityTimeout": self.visibility_timeout,
                        }
                        for index, handle in enumerate(self._in_hand.values())
                    ]
                if entries:
                    try:
                        self.sqs.change_message_visibility_batch(
                            QueueUrl=self.queue_url, Entries=entries
                        )
                    except ClientError as error:
                        log("WARNING", "visibility not extended", error=str(error))
                    self._extend_lease()
                    self.protection.renew()

        thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _forget(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._in_hand.pop(message["MessageId"], None)

    def _delete(self, message: dict[str, Any]) -> None:
        """Delete ``message`` with the rest of the batch; the heartbeat covers it until then."""
        self._done.append(message)

    def _delete_done(self) -> None:
        done, self._done = self._done, []
        for start in range(0, len(done), 10):  # DeleteMessageBatch takes 10 entries
            chunk = done[start : start + 10]
            try:
                answer = self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                        for index, message in enumerate(chunk)
                    ],
                )
                failed = answer.get("Failed", [])
            except ClientError as error:
                failed = [{"Id": "*", "Message": str(error)}]
            for failure in failed:  # e.g. a stale receipt handle: the job is recorded anyway
                log("WARNING", "message not deleted", error=failure.get("Message"))
            for message in chunk:
                self._forget(message)

    def _release(self, messages: list[dict[str, Any]], delay: int = 0) -> None:
        """Make ``messages`` visible again after ``delay`` seconds (0: at once)."""
        for message in messages:
            self._forget(message)
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=delay,
                )
            except ClientError as error:
                log("WARNING", "message not released", error=str(error))
        if delay == 0:
            log("INFO", "released unstarted messages", count=len(messages))

    # --- the jobs table ---------------------------------------------------------------------

    def _claim(self, message_id: str, owner: str, receive_count: int) -> str | None:
        """Mark the job running for ``owner``; answer the status that prevents it, if any."""
        epoch = int(time.time())
        try:
            self.jobs.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": message_id}},
                UpdateExpression=(
                    "SET #status = :running, #owner = :owner, lease_expires_at = :lease, "
                    "attempts = :attempts, updated_at = :now, expires_at = :expires"
                ),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR #status IN (:pending, :failed) "
                    "OR (#status = :running AND lease_expires_at < :epoch)"
                ),
                ExpressionAttributeNames={"#status": "status", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":running": {"S": RUNNING},
                    ":pending": {"S": PENDING},
                    ":failed": {"S": FAILED},
                    ":owner": {"S": owner},
                    ":lease": {"N": str(epoch + self.visibility_timeout)},
                    ":epoch": {"N": str(epoch)},
                    ":attempts": {"N": str(receive_count)},
                    ":now": {"S": _now()},
                    ":expires": {"N": str(epoch + self.retention_seconds)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return error.response.get("Item", {}).get("status", {}).get("S", RUNNING)
        return None

    def _extend_lease(self) -> None:
        """The running job's claim lasts as long as its message stays invisible."""
        running = self._running
        if running is None:
            return
        message_id, owner = running
        try:
            self.jobs.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": message_id}},
                UpdateExpression="SET lease_expires_at = :lease",
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={
                    ":lease": {"N": str(int(time.time()) + self.visibility_timeout)},
                    ":owner": {"S": owner},
                },
            )
        except ClientError as error:
            log("WARNING", "lease not extended", message_id=message_id, error=str(error))

    def _record(
        self, message_id: str, owner: str, status: str, error: Exception | None = None
    ) -> None:
        values: dict[str, Any] = {
            ":status": {"S": status},
            ":owner": {"S": owner},
            ":now": {"S": _now()},
            ":expires": {"N": str(int(time.time()) + self.retention_seconds)},
        }
        update = "SET #status = :status, updated_at = :now, expires_at = :expires"
        if error is not None:
            values[":error"] = {"S": f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]}
            update += ", #error = :error REMOVE #owner, lease_expires_at"
        else:
            update += " REMOVE #owner, lease_expires_at, #error"
        try:
            self.jobs.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": message_id}},
                UpdateExpression=update,
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#owner": "owner",
                    "#error": "error",
                },
                ExpressionAttributeValues=values,
            )
        except ClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            log(
                "WARNING",
                "lost the job's lease before recording its outcome",
                message_id=message_id,
            )


def _job_id(message: dict[str, Any]) -> str:
    """The job id the API answered (message attribute ``job_id``), else the message id."""
    attribute = message.get("MessageAttributes", {}).get(JOB_ID, {})
    return attribute.get("StringValue") or message["MessageId"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def load(processor: str) -> Process:
    """``module.function`` -> the function (``app.process``)."""
    module, _, name = processor.rpartition(".")
    return getattr(importlib.import_module(module), name)


def main() -> None:
    """Run the worker the container's environment describes; exit 1 if it cannot start."""
    try:
        process = load(os.environ["PROCESSOR"])
    except Exception as error:
        log(
            "CRITICAL",
            "the processor could not be loaded",
            error=f"{type(error).__name__}: {error}",
        )
        sys.exit(1)
    worker = Worker(
        process,
        queue_url=os.environ["QUEUE_URL"],
        table_name=os.environ["TABLE_NAME"],
        max_receive_count=int(os.environ["MAX_RECEIVE_COUNT"]),
        visibility_timeout=int(os.environ["VISIBILITY_TIMEOUT_SECONDS"]),
        batch_size=int(os.environ.get("BATCH_SIZE", "10")),
        retry_delay=int(os.environ.get("RETRY_DELAY_SECONDS", "30")),
        retention_seconds=int(os.environ.get("JOB_RETENTION_SECONDS", str(14 * 24 * 3600))),
        protection=TaskProtection(os.environ.get("ECS_AGENT_URI")),
    )
    worker.install_signal_handlers()
    worker.run()
