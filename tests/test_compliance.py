"""Every reference stack passes cdk-nag (AwsSolutions + Serverless), cfn-lint with the AWS
serverless rules, and checkov: each deliberate choice is justified once (core/compliance.py)."""

import copy
import json
from concurrent.futures import Future
from typing import Any

import pytest
from serverless_patterns.core.compliance import CONCERNS, RULE_TARGETS

from examples.app import REFERENCE_STACKS, SynthesizedApp
from tests.support.cdk import resources
from tests.support.lint import cfn_lint

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
def test_checkov_is_clean(
    stack_id: str, checkov_findings: Future[dict[str, dict[str, set[str]]]]
) -> None:
    assert checkov_findings.result()[f"{stack_id}.template.json"]["failed"] == set()


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_checkov_honours_every_skip_the_library_writes(
    stack_id: str,
    templates: dict[str, dict[str, Any]],
    checkov_findings: Future[dict[str, dict[str, set[str]]]],
) -> None:
    """Each ``Metadata.checkov.skip`` answers a check checkov really ran and skipped there."""
    written = {
        f"{skip['id']} {resource['Type']}.{logical_id}"
        for logical_id, resource in templates[stack_id]["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    assert written
    assert checkov_findings.result()[f"{stack_id}.template.json"]["skipped"] == written


def test_a_real_new_problem_still_fails_the_scanners(templates: dict[str, dict[str, Any]]) -> None:
    """Suppressions are narrow: a function that loses its log group is flagged (WS1004)."""
    template = copy.deepcopy(templates["SyncApi"])
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource.pop("Metadata", None)
            resource["Properties"].pop("LoggingConfig", None)
    findings = cfn_lint(json.dumps(template))
    assert any("WS1004" in finding for finding in findings), findings


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_every_suppression_names_a_declared_concern(
    stack_id: str, templates: dict[str, dict[str, Any]]
) -> None:
    """In-template suppressions come only from core/compliance.py, on the resource type the
    rule inspects, each with its concern's reason."""
    wrong = []
    for logical_id, resource in templates[stack_id]["Resources"].items():
        metadata = resource.get("Metadata", {})
        concerns = [CONCERNS[name] for name in metadata.get("justifications", [])]
        suppressed = [
            *(skip["id"] for skip in metadata.get("checkov", {}).get("skip", [])),
            *metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []),
            *metadata.get("guard", {}).get("SuppressedRules", []),
        ]
        declared = {rule for c in concerns for rule in (*c.checkov, *c.cfn_lint, *c.guard)}
        for rule in suppressed:
            if rule not in declared or RULE_TARGETS[rule] != resource["Type"]:
                wrong.append(f"{logical_id}: {rule}")
        reasons = {c.reason for c in concerns}
        for skip in metadata.get("checkov", {}).get("skip", []):
            if skip["comment"] not in reasons:
                wrong.append(f"{logical_id}: {skip['id']} without its reason")
    assert wrong == []


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
