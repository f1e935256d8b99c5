"""Session-wide fixtures: the reference app is built and synthesized once per session."""

# isort: off
import serverless_patterns  # noqa: F401  (selects Node >= 22 for jsii before aws_cdk loads)

# isort: on
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from moto import mock_aws

from examples.app import REFERENCE_STACKS, build
from tests.support.cdk import SynthesizedApp, cdk_context


@pytest.fixture(scope="session")
def reference_app(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    """Every reference stack, with cdk.json's context and cdk-nag, synthesized once.

    A nag finding does not error the session: the templates are written first, and the
    compliance tests report the findings.
    """
    outdir = Path(tmp_path_factory.mktemp("cdk.out"))
    app = build(App(context=cdk_context(), analytics_reporting=False, outdir=str(outdir)))
    try:
        app.synth()
    except Exception as error:  # jsii's JavaScriptError wraps cdk's ValidationFailed
        if "ValidationFailed" not in str(error):
            raise
    return SynthesizedApp(
        templates={
            stack_id: json.loads((outdir / f"{stack_id}.template.json").read_text())
            for stack_id in REFERENCE_STACKS
        },
        nag_report=json.loads((outdir / "validation-report.json").read_text()),
    )


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
