"""cfn-guard honours the library's suppressions (``Metadata.guard.SuppressedRules``).

AWS's Guard rules registry is not on the package index and cannot be fetched here, so
``tests/guard/rules.guard`` restates the checks behind the rule names ``core/compliance.py``
suppresses, in the registry's suppression idiom. Guard cuts a report over ~8 KiB, so each
resource is evaluated on its own, against one rule at a time.
"""

import copy
from pathlib import Path
from typing import Any

import cfn_guard_rs
import pytest
from serverless_patterns.core.compliance import CONCERNS

from examples.app import REFERENCE_STACKS

RULES = (Path(__file__).parent / "guard" / "rules.guard").read_text()
#: One rule (with its ``let``) per entry: each report stays under guard's ~8 KiB cut.
EACH_RULE = {
    block.split("\nrule ")[1].split()[0]: block
    for block in RULES.split("\n\n")
    if "\nrule " in block
}


def failed_rules(logical_id: str, resource: dict[str, Any]) -> list[str]:
    document = {"Resources": {logical_id: resource}}
    return [
        name
        for name, rule in EACH_RULE.items()
        if cfn_guard_rs.run_checks(document, rule).not_compliant
    ]


def test_the_rule_set_covers_every_guard_rule_we_suppress() -> None:
    suppressed = {rule for concern in CONCERNS.values() for rule in concern.guard}
    assert suppressed == set(EACH_RULE)


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_cfn_guard_is_clean(stack_id: str, templates: dict[str, dict[str, Any]]) -> None:
    found = [
        f"{logical_id}: {rule}"
        for logical_id, resource in templates[stack_id]["Resources"].items()
        for rule in failed_rules(logical_id, resource)
    ]
    assert found == []


def test_a_function_without_its_suppressions_fails_guard(
    templates: dict[str, dict[str, Any]],
) -> None:
    logical_id, function = next(
        (logical_id, resource)
        for logical_id, resource in templates["SyncApi"]["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    )
    stripped = copy.deepcopy(function)
    del stripped["Metadata"]["guard"]
    assert set(failed_rules(logical_id, stripped)) == {
        "LAMBDA_INSIDE_VPC",
        "LAMBDA_CONCURRENCY_CHECK",
        "LAMBDA_DLQ_CHECK",
    }
