"""Notification service on Fargate: API -> queue -> the worker image's code -> records -> SNS.

The emulator deploys the cluster, task definition and service (0 tasks) but runs no
container, and CI has no Docker to build the image (tests/e2e/EMULATOR_GAPS.md). So the test
runs the image's entry point, ``python -m queue_worker``, as ECS would: the runtime and the
worker code on ``PYTHONPATH`` as the Dockerfile puts them, the environment read from the
*deployed* task definition, SIGTERM to stop it ("Amazon ECS task lifecycle"). Only the
retry delay is shortened (like the queues' visibility timeouts, tools/e2e/adapt.py SHORTENED).
"""

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from serverless_patterns.queue_worker_service import RUNTIME

from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e

STACK = "NotificationServiceFargate"
WORKER_CODE = Path(__file__).resolve().parents[2] / "examples" / "handlers" / "sms_notifications"
TIMEOUT = 60


@pytest.fixture(scope="module")
def deployed(stack):
    return stack(STACK)


@pytest.fixture(scope="module")
def task_environment(deployed, client) -> dict[str, str]:
    """The container's environment as the deployed task definition holds it."""
    definition = client("ecs").describe_task_definition(
        taskDefinition=deployed.resource("Worker/TaskDefinition")
    )["taskDefinition"]
    [container] = definition["containerDefinitions"]
    return {pair["name"]: pair["value"] for pair in container["environment"]}


@dataclass
class Task:
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> list[dict[str, Any]]:
        """SIGTERM, as ECS stops a task; answer its JSON log lines once it exited."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)  # a long poll (20 s) ends first
        output = self.log.read_text()
        assert self.process.returncode == 0, output
        return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def worker(task_environment, endpoint, session, tmp_path_factory) -> Iterator[Task]:
    """One worker task, started before the requests (as scaling from 0 would start it)."""
    credentials = session.get_credentials()
    environment = {
        **os.environ,
        **task_environment,
        "RETRY_DELAY_SECONDS": "1",
        "PYTHONPATH": os.pathsep.join([str(WORKER_CODE), str(RUNTIME)]),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "AWS_DEFAULT_REGION": session.region_name,
    }
    log = tmp_path_factory.mktemp("worker") / "stdout.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "queue_worker"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    yield Task(process, log)
    if process.poll() is None:
        process.kill()
        process.wait()


def record_of(records: Any, message: str) -> dict[str, Any] | None:
    items = records.scan(ConsistentRead=True)["Items"]
    return next((item for item in items if item.get("message") == message), None)


@pytest.fixture(scope="module")
def records(deployed, session, endpoint):
    dynamodb = session.resource("dynamodb", endpoint_url=endpoint)
    return dynamodb.Table(deployed.resource("NotificationRecords"))


def test_a_request_is_recorded_and_published_then_a_poison_one_dead_lettered(
    deployed, worker, records, queue
):
    api = deployed.api("ApiUrl")
    good = f"e2e {uuid.uuid4()}: failover at 02:00, see https://status.example.com"
    poison = f"e2e {uuid.uuid4()} see https://bit.ly/x"  # carriers drop foreign links
    for message in (good, poison):
        answer = api.call("POST", "/notifications", {"audience": "on-call", "message": message})
        assert answer.status == 202, answer.text

    sent = eventually(
        lambda: (record := record_of(records, good)) and record["status"] == "sent" and record,
        timeout=TIMEOUT,
        what="the request recorded as sent",
    )
    assert sent["audience"] == "on-call" and sent["sns_message_id"]
    dead_letters = queue(deployed.resource("Worker/DeadLetterQueue"))
    dead_lettered = dead_letters.bodies_until(
        lambda body: json.loads(body)["message"] == poison,
        timeout=TIMEOUT,
        what="the poison request in the dead-letter queue",
    )
    assert [json.loads(body)["message"] for body in dead_lettered].count(poison) == 1
    assert record_of(records, poison) is None  # refused before it was recorded

    logs = worker.stop()
    events = [(line["level"], line["message"]) for line in logs]
    assert ("INFO", "job succeeded") in events
    failures = [line for line in logs if line["message"].startswith("job failed")]
    assert [line["receive_count"] for line in failures] == [1, 2, 3, 4, 5]
    assert failures[-1]["message"].endswith("SQS moves it to the dead-letter queue")
    assert events[-1] == ("INFO", "worker stopped")
    work = queue(deployed.outputs["QueueUrl"])
    assert work.receive(wait=0) == []  # deleted after success, moved after failures
