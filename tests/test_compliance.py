"""Every reference stack passes cdk-nag (AwsSolutions + Serverless) and cfn-lint."""

from concurrent.futures import Future
from typing import Any

import pytest

from examples.app import REFERENCE_STACKS, SynthesizedApp
from tests.support.cdk import resources

NAG_PACKS = {"AwsSolutions", "Serverless"}


def findings(report: dict[str, Any], kind: str, stack_id: str) -> list[str]:
    """``rule at construct path`` for each ``kind`` (violations or suppressedViolations)."""
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin[kind]
        for construct in violation["violatingConstructs"]
        if construct["constructPath"].startswith(f"{stack_id}/")
    ]


def test_both_nag_packs_ran(reference_app: SynthesizedApp) -> None:
    ran = {plugin["pluginName"] for plugin in reference_app.nag_report["pluginReports"]}
    assert ran == NAG_PACKS


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_cdk_nag_has_no_unacknowledged_findings(
    stack_id: str, reference_app: SynthesizedApp
) -> None:
    assert findings(reference_app.nag_report, "violations", stack_id) == []


def test_every_acknowledgement_gives_a_reason(reference_app: SynthesizedApp) -> None:
    for plugin in reference_app.nag_report["pluginReports"]:
        for violation in plugin["suppressedViolations"]:
            assert len(violation["reason"]) >= 40, violation["ruleName"]


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_cfn_lint_is_clean(stack_id: str, cfn_lint_findings: dict[str, Future[list[str]]]) -> None:
    assert cfn_lint_findings[stack_id].result() == []


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_no_iam_statement_allows_a_wildcard_action(
    stack_id: str, templates: dict[str, dict[str, Any]]
) -> None:
    wildcards = []
    for logical_id, policy in resources(templates[stack_id], "AWS::IAM::Policy").items():
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                if "*" in action:
                    wildcards.append(f"{logical_id}: {action}")
    assert wildcards == []
