"""Session-wide fixtures: the reference app is built and synthesized once per session."""

import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.kms import models as kms_models
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from examples.app import REFERENCE_STACKS, SynthesizedApp, synthesize
from tests.support.aws import reuse_clients, reuse_resource_classes
from tests.support.background_synths import background_synths
from tests.support.emulation import Emulation
from tests.support.lint import background_cfn_lint, background_checkov, background_type_check


@pytest.fixture(scope="session", autouse=True)
def type_check() -> Iterator[subprocess.Popen[str]]:
    """mypy on the library and the examples, started with the session (tests/test_types.py)."""
    with background_type_check() as process:
        yield process


@pytest.fixture(scope="session", autouse=True)
def synthesized_in_background(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[dict[str, Any]]]]:
    """``{test module: future synthesis}`` of the large apps only some modules read
    (tests/support/background_synths.py), started with the session in a worker process for
    the modules that are to run."""
    modules = {item.nodeid.split("::")[0] for item in request.session.items}
    with background_synths(modules, tmp_path_factory.mktemp("background")) as synths:
        yield synths


@pytest.fixture(scope="session")
def reference_app(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    """Every reference stack, as ``cdk synth`` writes it (cdk-nag included), built once.

    A nag finding does not error the session: the compliance tests report it.
    """
    return synthesize(Path(tmp_path_factory.mktemp("cdk.out")))


@pytest.fixture(scope="session")
def cfn_lint_findings(reference_app: SynthesizedApp) -> Iterator[dict[str, Future[list[str]]]]:
    """``{stack id: cfn-lint's findings}``, computed in a second process."""
    with background_cfn_lint(reference_app.templates) as findings:
        yield findings


@pytest.fixture(scope="session")
def checkov_findings(
    reference_app: SynthesizedApp,
) -> Iterator[Future[dict[str, dict[str, set[str]]]]]:
    """``{template file name: checkov's failed and skipped checks}``, from a checkov process."""
    templates = [
        reference_app.outdir / f"{stack_id}.template.json" for stack_id in REFERENCE_STACKS
    ]
    with background_checkov(templates) as findings:
        yield findings


@pytest.fixture(scope="session")
def templates(
    reference_app: SynthesizedApp,
    cfn_lint_findings: dict[str, Future[list[str]]],
    checkov_findings: Future[dict[str, dict[str, set[str]]]],
) -> dict[str, dict[str, Any]]:
    """``{stack id: synthesized template}`` for every reference stack.

    Asking for the templates starts cfn-lint (``cfn_lint_findings``) and checkov
    (``checkov_findings``) on them in the background, so that they overlap with the tests
    that come before the compliance tests.
    """
    return reference_app.templates


@pytest.fixture(scope="session", autouse=True)
def state_machine_definitions_parsed_once() -> Iterator[None]:
    """moto parses a definition with its ANTLR ASL parser, in pure Python (a third of a second
    for the saga's), at every CreateStateMachine and again at every execution. The parsed
    program is stateless (an execution keeps its state in its own environment), so each
    definition is parsed once per session; one that fails to parse fails every time."""
    parse = AmazonStateLanguageParser.parse
    parsed: dict[str, tuple[Any, Any]] = {}

    def parse_once(definition: str) -> tuple[Any, Any]:
        if definition not in parsed:
            parsed[definition] = parse(definition)
        return parsed[definition]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AmazonStateLanguageParser, "parse", staticmethod(parse_once))
        yield


@pytest.fixture(scope="session", autouse=True)
def symmetric_kms_keys_without_rsa() -> Iterator[None]:
    """moto gives every KMS key an RSA-2048 private key (~70 ms to generate), symmetric keys
    included, which never use it (Sign and Verify take asymmetric keys only: KMS developer
    guide, "Key spec reference"). Symmetric keys share one; other key specs get their own."""
    generate = kms_models.generate_private_key
    shared = generate("SYMMETRIC_DEFAULT")

    def private_key(key_spec: str) -> Any:
        return shared if key_spec == "SYMMETRIC_DEFAULT" else generate(key_spec)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kms_models, "generate_private_key", private_key)
        yield


@pytest.fixture(scope="session")
def fake_aws_session() -> boto3.Session:
    """One boto3 session with fake credentials for every emulated test.

    botocore loads each service's model once per session (~0.1 s a service); a fresh session
    per test, moto's default, spent more than the tests themselves. The classes of boto3's
    resources (``boto3.resource("dynamodb")``, which every handler module calls on import)
    are built once per session too, and so is each client (``reuse_clients``).
    """
    session = boto3.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name="us-east-1",
    )
    reuse_resource_classes(session)
    reuse_clients(session)
    return session


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, fake_aws_session: boto3.Session) -> Iterator[None]:
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
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", fake_aws_session)
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield


@pytest.fixture
def emulate(
    aws: None, reference_app: SynthesizedApp, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Emulation]:
    """``emulate(stack_id)``: that reference stack deployed to moto (tests/support/emulation)."""
    return lambda stack_id: Emulation(
        reference_app.templates[stack_id], monkeypatch, reference_app.outdir
    )
