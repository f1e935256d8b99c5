"""Every acknowledgement holds in env-pinned stacks and without cdk.json's feature flags.

The reference app is env-agnostic with cdk.json's flags. Pinning a stack to an account and
region (how most teams deploy), or leaving out the flags ``cdk init`` writes, turns region,
account and partition into literals in ARNs, and so into cdk-nag's finding ids. This app
holds every reference stack three more times, one ``Stage`` per combination, and runs the
cdk-nag packs over all of them in one synth.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Environment, Stage, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from examples.app import REFERENCE_STACKS, cli_context, new_app
from tests.test_compliance import NAG_PACKS, findings

PINNED = Environment(account="111111111111", region="eu-west-1")

#: Stage id -> (environment, whether the stage gets cdk.json's context).
VARIANTS = {
    "PinnedWithFlags": (PINNED, True),
    "PinnedWithoutFlags": (PINNED, False),
    "AgnosticWithoutFlags": (None, False),
}


@pytest.fixture(scope="module")
def nag_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    outdir = tmp_path_factory.mktemp("environments")
    app = new_app(outdir=str(outdir))
    for stage_id, (env, flags) in VARIANTS.items():
        stage = Stage(app, stage_id, env=env)
        if flags:  # feature flags are read from the nearest context up the construct tree
            for key, value in cli_context().items():
                stage.node.set_context(key, value)
        for stack_id, stack_class in REFERENCE_STACKS.items():
            stack_class(stage, stack_id)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    try:
        app.synth()
    except Exception as error:  # jsii's JavaScriptError wraps cdk's ValidationFailed
        if "ValidationFailed" not in str(error):
            raise
    return json.loads((Path(outdir) / "validation-report.json").read_text())


def test_the_pinned_stacks_render_literal_environments(nag_report: dict[str, Any]) -> None:
    """The variants differ where it matters: the pinned ARNs carry the literal region."""
    suppressed = [
        violation["ruleName"]
        for plugin in nag_report["pluginReports"]
        for violation in plugin["suppressedViolations"]
    ]
    assert {plugin["pluginName"] for plugin in nag_report["pluginReports"]} == NAG_PACKS
    assert any(":eu-west-1:111111111111:" in rule for rule in suppressed)
    assert any(":<AWS::Region>:<AWS::AccountId>:" in rule for rule in suppressed)


@pytest.mark.parametrize("stage_id", VARIANTS)
def test_cdk_nag_has_no_unacknowledged_findings(stage_id: str, nag_report: dict[str, Any]) -> None:
    assert findings(nag_report, "violations", stage_id) == []
