"""The integration-test apps (``integ/``) synthesize, and every reference stack has one.

``make integ`` deploys them to a real account; here every app is built into one CDK app and
synthesized once, with the reference app's context, and nothing is deployed.
"""

import importlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from examples.app import REFERENCE_STACKS
from integ import harness
from tools import integ as integ_runner

#: The files integ-runner runs (its Python preset finds ``integ_*.py``).
INTEG_APPS = sorted((Path(__file__).resolve().parents[1] / "integ").glob("integ_*.py"))


@pytest.fixture(scope="session")
def integ_assembly(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``{"cases": {app: (stack under test, assertions stack)}, "templates": {stack: template}}``.

    (Each app writes its own ``integ.json`` when run alone; built together, only the last
    one's is left, so the cases come from the apps.)
    """
    app = harness.app(outdir=str(tmp_path_factory.mktemp("integ.out")))
    cases = {}
    for path in INTEG_APPS:
        test = importlib.import_module(f"integ.{path.stem}").build(app)
        cases[path.stem] = (test.stack.stack_name, test.assertion_stack.stack_name)
    assembly = app.synth()
    return {
        "cases": cases,
        "templates": {stack.stack_name: stack.template for stack in assembly.stacks},
    }


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
    assert integ_runner.failures(outputs) == ["AssertionResultsAwsApiCallSQS3c4d: Expected 1 got 0"]
    assert integ_runner.failures({"AssertionResultsX": '{"status":"success"}'}) == []


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
