"""Session-wide fixtures: the reference app is built and synthesized once per session."""

# isort: off
import serverless_patterns  # noqa: F401  (selects Node >= 22 for jsii before aws_cdk loads)

# isort: on
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from examples.app import SynthesizedApp, synthesize


@pytest.fixture(scope="session")
def reference_app(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    """Every reference stack, as ``cdk synth`` writes it (cdk-nag included), built once.

    A nag finding does not error the session: the compliance tests report it.
    """
    return synthesize(Path(tmp_path_factory.mktemp("cdk.out")))


@pytest.fixture(scope="session")
def templates(reference_app: SynthesizedApp) -> dict[str, dict[str, Any]]:
    """``{stack id: synthesized template}`` for every reference stack."""
    return reference_app.templates


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Emulated AWS (moto) with fake credentials; nothing leaves the machine."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "test",
        "POWERTOOLS_SERVICE_NAME": "test",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield
