"""Fixtures for the AsyncApi runtime and the reference worker, deployed to moto.

Each runtime module is the one the deployed function imports (its staged asset), with the
function's environment from the template; tests that call a module's functions directly get
that environment in the test process too.
"""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.async_api.jobs import WORKER_HANDLER, Queues, function_id
from tests.support.emulation import Deployed, Emulation
from tests.support.emulation.intrinsics import REGION

SENDER_DOMAIN = "example.com"


@pytest.fixture(scope="module")
def template(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["AsyncApi"]


@pytest.fixture
def emulation(emulate: Callable[[str], Emulation]) -> Emulation:
    return emulate("AsyncApi")


def runtime(emulation: Emulation, handler: str, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    """The function with ``handler`` (its ``handler`` invokes it); its environment is set
    here too, for the tests that call its module's functions directly."""
    function = emulation.functions[function_id(emulation.template, handler)]
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    return Deployed(function)


@pytest.fixture
def jobs(emulation: Emulation) -> Any:
    """The jobs table (as the template defines it)."""
    [table] = emulation.of_type("AWS::DynamoDB::GlobalTable")
    return emulation.table(table)


@pytest.fixture
def queues(jobs: Any, emulation: Emulation) -> Queues:
    """The job queue, recorder queue and dead-letter queue; the recorder runs when polled."""
    return Queues.of(emulation)


@pytest.fixture
def worker(jobs: Any, emulation: Emulation, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    """The worker runtime with the reference worker's environment from the template."""
    return runtime(emulation, WORKER_HANDLER, monkeypatch)


@pytest.fixture
def notifications(worker: Deployed, emulation: Emulation) -> ModuleType:
    """The reference stack's business code: ``process(job)`` sending email through SES."""
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER_DOMAIN)
    function = emulation.functions[function_id(emulation.template, WORKER_HANDLER)]
    with function.process():
        return __import__("app")


@pytest.fixture
def sent_emails(aws: None) -> Callable[[], list[Any]]:
    """The emails moto's SES accepted so far."""
    return lambda: list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


@pytest.fixture
def status(jobs: Any, emulation: Emulation, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    return runtime(emulation, "async_jobs.status.handler", monkeypatch)


@pytest.fixture
def connections(jobs: Any, emulation: Emulation, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    return runtime(emulation, "async_jobs.connections.handler", monkeypatch)


@pytest.fixture
def notifier(jobs: Any, emulation: Emulation, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    return runtime(emulation, "async_jobs.notifier.handler", monkeypatch)
