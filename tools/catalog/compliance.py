"""Per stack: the scanners run, and each justification with the rule ids it answers and why."""

from typing import Any

from serverless_patterns.core.compliance import CONCERNS

#: The scanners whose suppressions live in the template: name -> the ids in a resource's metadata.
SCANNERS = {
    "checkov": lambda m: [skip["id"] for skip in m.get("checkov", {}).get("skip", [])],
    "cfn-lint": lambda m: m.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []),
    "cfn-guard": lambda m: m.get("guard", {}).get("SuppressedRules", []),
}
MAX_PLACES = 4


def _short(path: str, stack_id: str) -> str:
    return path.removeprefix(f"{stack_id}/").removesuffix("/Resource")


def _of_stack(violation: dict[str, Any], stack_id: str) -> list[str]:
    return [
        _short(construct["constructPath"], stack_id)
        for construct in violation["violatingConstructs"]
        if construct["constructPath"].startswith(f"{stack_id}/")
    ]


def _codes(ids: set[str]) -> str:
    return ", ".join(f"`{rule}`" for rule in sorted(ids)) or "—"


def markdown(report: dict[str, Any], template: dict[str, Any], stack_id: str) -> str:
    packs = []
    places: dict[str, set[str]] = {name: set() for name in CONCERNS}
    ids: dict[str, dict[str, set[str]]] = {
        name: {scanner: set() for scanner in ("cdk-nag", *SCANNERS)} for name in CONCERNS
    }
    by_reason = {concern.reason: name for name, concern in CONCERNS.items()}
    for plugin in report["pluginReports"]:
        open_findings = sum(len(_of_stack(v, stack_id)) for v in plugin["violations"])
        acknowledged = 0
        for violation in plugin["suppressedViolations"]:
            where = _of_stack(violation, stack_id)
            acknowledged += len(where)
            name = by_reason.get(violation["reason"], "")
            if where and name:
                places[name].update(where)
                ids[name]["cdk-nag"].add(violation["ruleName"])
        packs.append(f"{plugin['pluginName']}: {open_findings} open, {acknowledged} acknowledged")
    for logical_id, resource in template["Resources"].items():
        metadata = resource.get("Metadata", {})
        where = _short(metadata.get("aws:cdk:path", logical_id), stack_id)
        for name in metadata.get("justifications", []):
            places[name].add(where)
            declared = CONCERNS[name]
            answers = {*declared.checkov, *declared.cfn_lint, *declared.guard}
            for scanner, read in SCANNERS.items():
                ids[name][scanner].update(set(read(metadata)) & answers)
    rows = [
        "| Justification | Where | cdk-nag | checkov | cfn-lint | cfn-guard | Reason |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, concern in CONCERNS.items():
        if not places[name]:
            continue
        shown = sorted(places[name])
        where = ", ".join(f"`{place}`" for place in shown[:MAX_PLACES])
        if len(shown) > MAX_PLACES:
            where += f" and {len(shown) - MAX_PLACES} more"
        found = ids[name]
        rows.append(
            f"| {name} | {where} | {_codes(found['cdk-nag'])} | {_codes(found['checkov'])} "
            f"| {_codes(found['cfn-lint'])} | {_codes(found['cfn-guard'])} | {concern.reason} |"
        )
    summary = (
        "cdk-nag packs: " + "; ".join(packs) + ". checkov, cfn-lint with the AWS serverless "
        "rules: 0 open (checked by the test suite). Each justification below is declared once "
        "(`core/compliance.py`) and written for every scanner on the resources it covers."
    )
    if len(rows) == 2:
        return summary + " Nothing is justified."
    return summary + "\n\n" + "\n".join(rows)
