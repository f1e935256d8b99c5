"""The cdk-nag packs run and every acknowledgement with its reason, per stack."""

from typing import Any


def _of_stack(violation: dict[str, Any], stack_id: str) -> list[str]:
    return [
        construct["constructPath"].removeprefix(f"{stack_id}/").removesuffix("/Resource")
        for construct in violation["violatingConstructs"]
        if construct["constructPath"].startswith(f"{stack_id}/")
    ]


def markdown(report: dict[str, Any], stack_id: str) -> str:
    packs = []
    rows = ["| Finding | Where | Reason |", "|---|---|---|"]
    for plugin in report["pluginReports"]:
        open_findings = sum(len(_of_stack(v, stack_id)) for v in plugin["violations"])
        acknowledged = 0
        for violation in plugin["suppressedViolations"]:
            for where in _of_stack(violation, stack_id):
                acknowledged += 1
                rows.append(f"| `{violation['ruleName']}` | `{where}` | {violation['reason']} |")
        packs.append(f"{plugin['pluginName']}: {open_findings} open, {acknowledged} acknowledged")
    summary = "cdk-nag packs: " + "; ".join(packs) + "."
    if len(rows) == 2:
        return summary + " Nothing is acknowledged."
    return summary + "\n\n" + "\n".join(rows)
