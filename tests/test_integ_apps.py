"""The integration-test apps (``integ/``) synthesize, and every reference stack has one.

``make integ`` deploys them to a real account; here every app is built into one CDK app and
synthesized once, with the reference app's context, and nothing is deployed.
"""

import importlib
import importlib.util
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from examples.app import REFERENCE_STACKS
from integ import harness
from tests.support.cdk import ROOT
from tools import integ as make_integ


@pytest.fixture(scope="module")
def integ_assembly(synthesized_in_background: dict[str, Future[dict[str, Any]]]) -> dict[str, Any]:
    """Every integ app, synthesized together (tests/support/background_synths.py)."""
    return synthesized_in_background["tests/test_integ_apps.py"].result()


def test_every_reference_stack_has_an_integ_app(integ_assembly: dict[str, Any]) -> None:
    tested = sorted(stack for stack, _ in integ_assembly["cases"].values())
    assert tested == sorted(f"Integ{stack_id}" for stack_id in REFERENCE_STACKS)


def test_every_integ_app_records_its_assertions(integ_assembly: dict[str, Any]) -> None:
    """Each assertion writes an ``AssertionResults...`` output, which ``make integ`` reads."""
    for name, (_, assertion_stack) in integ_assembly["cases"].items():
        outputs = integ_assembly["templates"][assertion_stack].get("Outputs", {})
        results = [output for output in outputs if output.startswith("AssertionResults")]
        assert len(results) >= 3, f"{name}: {results}"


def test_make_integ_fails_on_a_failed_assertion() -> None:
    """The outputs file of ``cdk deploy --outputs-file``, as integ-tests-alpha fills it."""
    outputs = {
        "AssertionResultsLambdaInvoke1a2b": '{"status":"success"}',
        "AssertionResultsAwsApiCallSQS3c4d": '{"status":"fail","message":"Expected 1 got 0"}',
        "ExportsOutputRefSomething": "not an assertion",
    }
    assert make_integ.failures(outputs) == ["AssertionResultsAwsApiCallSQS3c4d: Expected 1 got 0"]
    assert make_integ.failures({"AssertionResultsX": '{"status":"success"}'}) == []


def test_the_stacks_under_test_are_the_reference_stacks(
    integ_assembly: dict[str, Any], templates: dict[str, dict[str, Any]]
) -> None:
    """The same resources under the same logical ids, except the types whose ids CDK derives
    from the stack's name (or, for API deployments, from a hash that includes it)."""
    named = {
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::SNS::Subscription",
        "AWS::ApiGateway::Deployment",
    }

    def resources(template: dict[str, Any]) -> tuple[Counter[str], set[str]]:
        found = template["Resources"]
        return (
            Counter(resource["Type"] for resource in found.values()),
            {logical_id for logical_id, r in found.items() if r["Type"] not in named},
        )

    for stack_id, template in templates.items():
        assert resources(integ_assembly["templates"][f"Integ{stack_id}"]) == resources(template)


def test_a_test_run_keeps_only_the_account_logging_setting(integ_assembly: dict[str, Any]) -> None:
    for stack_id in REFERENCE_STACKS:
        kept = {
            resource["Type"]
            for resource in integ_assembly["templates"][f"Integ{stack_id}"]["Resources"].values()
            if resource.get("DeletionPolicy", "Delete") != "Delete"
        }
        assert kept <= set(harness.KEPT_RESOURCE_TYPES), stack_id


@pytest.fixture
def api_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP endpoint standing in for an API stage: ``(url, requests it received)``.

    ``/created`` answers 201 with a JSON body, ``/refused`` 403 with a JSON error, anything
    else 502 with plain text.
    """
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received.append({"headers": dict(self.headers), "body": self.rfile.read(length)})
            status, body = {
                "/prod/created": (201, b'{"id": "o-1"}'),
                "/prod/refused": (403, b'{"message": "Forbidden"}'),
            }.get(self.path, (502, b"Bad Gateway"))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/prod", received
    server.shutdown()
    thread.join()


def test_the_signed_caller_signs_for_api_gateway_and_answers_status_and_body(
    aws: None, monkeypatch: pytest.MonkeyPatch, api_server: tuple[str, list[dict[str, Any]]]
) -> None:
    """SigV4 for the ``execute-api`` service in the function's region, as IAM authorization
    of API Gateway requires ("Control access to a REST API with IAM permissions",
    docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html)."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    for proxy in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)  # the local endpoint is reached directly
    signed_http_app = ROOT / "integ" / "signed_http" / "app.py"
    spec = importlib.util.spec_from_file_location("signed_http", signed_http_app)
    assert spec is not None and spec.loader is not None
    signed_http = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(signed_http)
    url, received = api_server

    created = signed_http.handler(
        {"method": "POST", "url": f"{url}/created", "body": {"name": "O'Brien"}}, None
    )
    refused = signed_http.handler({"method": "GET", "url": f"{url}/refused"}, None)
    failed = signed_http.handler({"method": "GET", "url": f"{url}/other"}, None)

    assert created == {"status": 201, "body": {"id": "o-1"}}
    assert refused == {"status": 403, "body": {"message": "Forbidden"}}
    assert failed == {"status": 502, "body": "Bad Gateway"}
    post = received[0]
    assert json.loads(post["body"]) == {"name": "O'Brien"}
    assert post["headers"]["Content-Type"] == "application/json"
    assert "/eu-west-1/execute-api/aws4_request" in post["headers"]["Authorization"]
    assert post["headers"]["X-Amz-Security-Token"] == "testing"
