"""Fill the generated blocks of the catalog pages from the synthesized reference app.

A page marks each generated block with a key: a reference stack id, or ``index`` for the
catalog table in ``patterns/README.md``. Everything outside the markers is hand-written.
"""

import re
from pathlib import Path

from examples.app import SynthesizedApp
from tools.catalog import compliance, cost, inventory, permissions
from tools.catalog.diagram import mermaid
from tools.catalog.templates import service_of

PATTERNS = Path(__file__).resolve().parents[2] / "patterns"
INDEX = PATTERNS / "README.md"
COMMAND = "make catalog"
BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED (?P<key>\S+)[^>]*-->\n).*?(<!-- END GENERATED (?P=key) -->)", re.S
)
#: Services that make up a pattern's data flow (the rest is logging, IAM, alarms).
FLOW_SERVICES = {
    "ApiGateway",
    "ApiGatewayV2",
    "Lambda",
    "DynamoDB",
    "SQS",
    "SNS",
    "Events",
    "StepFunctions",
    "ECS",
    "Pipes",
}


def begin_marker(key: str) -> str:
    return f"<!-- BEGIN GENERATED {key}: run `{COMMAND}` to refresh; do not edit by hand -->"


def end_marker(key: str) -> str:
    return f"<!-- END GENERATED {key} -->"


def stack_section(stack_id: str, app: SynthesizedApp) -> str:
    template = app.templates[stack_id]
    return "\n\n".join(
        [
            f"## From the synthesized template (`{stack_id}`)",
            "### Architecture",
            f"```mermaid\n{mermaid(template)}\n```",
            "### Resources",
            inventory.markdown(template),
            "### Permissions",
            permissions.markdown(template),
            "### Idle cost",
            cost.markdown(template),
            "### Compliance",
            compliance.markdown(app.nag_report, template, stack_id),
        ]
    )


def stack_keys(text: str) -> list[str]:
    return [match["key"] for match in BLOCK.finditer(text) if match["key"] != "index"]


def _problem(text: str) -> str:
    match = re.search(r"## The problem\n+(.+?)(?:\n\n|$)", text, re.S)
    sentence = match[1].replace("\n", " ") if match else ""
    return re.split(r"(?<=[.:;])\s", sentence, maxsplit=1)[0].rstrip(".:;")


def index_section(app: SynthesizedApp) -> str:
    rows = [
        "| Pattern | Problem it solves | Services | Idle cost / month | Reference stack |",
        "|---|---|---|---|---|",
    ]
    for page in sorted(PATTERNS.glob("*.md")):
        if page == INDEX:
            continue
        text = page.read_text()
        title = text.splitlines()[0].lstrip("# ").split(" — ")[0]
        for stack_id in stack_keys(text):
            template = app.templates[stack_id]
            services = sorted(
                {service_of(r["Type"]) for r in template["Resources"].values()} & FLOW_SERVICES
            )
            diagram = f"[diagram]({page.name}#architecture)"
            rows.append(
                f"| [{title}]({page.name}) | {_problem(text)} | {', '.join(services)} "
                f"| ${cost.total(template):.2f} | `{stack_id}` ({diagram}) |"
            )
    return "\n".join(rows)


def render(text: str, app: SynthesizedApp) -> str:
    """``text`` with every generated block replaced by what the templates say now."""

    def fill(match: re.Match[str]) -> str:
        key = match["key"]
        body = index_section(app) if key == "index" else stack_section(key, app)
        return f"{begin_marker(key)}\n{body}\n{end_marker(key)}"

    return BLOCK.sub(fill, text)


def catalog_pages() -> list[Path]:
    return sorted(PATTERNS.glob("*.md"))
