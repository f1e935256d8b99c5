"""Every acknowledgement holds in env-pinned stacks and without cdk.json's feature flags.

The reference app is env-agnostic with cdk.json's flags. Pinning a stack to an account and
region (how most teams deploy), or leaving out the flags ``cdk init`` writes, turns region,
account and partition into literals in ARNs, and so into cdk-nag's finding ids. This app
holds every reference stack three more times, one ``Stage`` per combination, and runs the
cdk-nag packs over all of them in one synth.
"""

from concurrent.futures import Future
from typing import Any

import pytest

from tests.support.background_synths import PINNED_ACCOUNT, PINNED_REGION, VARIANTS
from tests.test_compliance import NAG_PACKS, findings


@pytest.fixture(scope="module")
def nag_report(synthesized_in_background: dict[str, Future[dict[str, Any]]]) -> dict[str, Any]:
    return synthesized_in_background["tests/test_environments.py"].result()


def test_the_pinned_stacks_render_literal_environments(nag_report: dict[str, Any]) -> None:
    """The variants differ where it matters: the pinned ARNs carry the literal region."""
    suppressed = [
        violation["ruleName"]
        for plugin in nag_report["pluginReports"]
        for violation in plugin["suppressedViolations"]
    ]
    assert {plugin["pluginName"] for plugin in nag_report["pluginReports"]} == NAG_PACKS
    assert any(f":{PINNED_REGION}:{PINNED_ACCOUNT}:" in rule for rule in suppressed)
    assert any(":<AWS::Region>:<AWS::AccountId>:" in rule for rule in suppressed)


@pytest.mark.parametrize("stage_id", VARIANTS)
def test_cdk_nag_has_no_unacknowledged_findings(stage_id: str, nag_report: dict[str, Any]) -> None:
    assert findings(nag_report, "violations", stage_id) == []
