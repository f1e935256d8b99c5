"""Fixtures for the AsyncApi runtime and the reference worker, in moto."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.async_api.emulation import (
    CONNECTIONS_ENDPOINT,
    REGION,
    WORKER_HANDLER,
    Queues,
    create_queues,
    function_by_handler,
    load_runtime,
    plain_environment,
    start_recorder,
)
from tests.support.aws import create_table_from_template, load_handler

SENDER_DOMAIN = "example.com"


@pytest.fixture(scope="module")
def template(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["AsyncApi"]


@pytest.fixture
def jobs(aws: None, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The jobs table (as the template defines it); ``TABLE_NAME`` names it."""
    name = create_table_from_template(template)
    monkeypatch.setenv("TABLE_NAME", name)
    return boto3.resource("dynamodb").Table(name)


@pytest.fixture
def queues(jobs: Any, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Queues:
    """The job queue, recorder queue and dead-letter queue; the recorder runs when polled."""
    return start_recorder(create_queues(template), template, monkeypatch)


@pytest.fixture
def worker(jobs: Any, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The worker runtime with the reference worker's environment from the template."""
    for name, value in plain_environment(function_by_handler(template, WORKER_HANDLER)).items():
        monkeypatch.setenv(name, value)
    return load_runtime("worker", monkeypatch)


@pytest.fixture
def notifications(worker: ModuleType) -> ModuleType:
    """The reference stack's business code: ``process(job)`` sending email through SES."""
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER_DOMAIN)
    return load_handler("examples/handlers/notifications/app.py")


@pytest.fixture
def sent_emails(aws: None) -> Callable[[], list[Any]]:
    """The emails moto's SES accepted so far."""
    return lambda: list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


@pytest.fixture
def status(jobs: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_runtime("status", monkeypatch)


@pytest.fixture
def connections(jobs: Any, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    function = function_by_handler(template, "async_jobs.connections.handler")
    for name, value in plain_environment(function).items():
        monkeypatch.setenv(name, value)
    return load_runtime("connections", monkeypatch)


@pytest.fixture
def notifier(jobs: Any, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for name, value in plain_environment(
        function_by_handler(template, "async_jobs.notifier.handler")
    ).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CONNECTIONS_ENDPOINT", CONNECTIONS_ENDPOINT)
    return load_runtime("notifier", monkeypatch)
