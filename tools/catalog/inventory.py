"""What a template creates, grouped by service."""

from collections import Counter

from tools.catalog.templates import Template, service_of


def inventory(template: Template) -> dict[str, Counter[str]]:
    """``{service: Counter(resource type name)}``, services in alphabetical order."""
    grouped: dict[str, Counter[str]] = {}
    for resource in template.get("Resources", {}).values():
        resource_type = resource["Type"]
        grouped.setdefault(service_of(resource_type), Counter())[resource_type.split("::")[2]] += 1
    return dict(sorted(grouped.items()))


def markdown(template: Template) -> str:
    rows = ["| Service | Resources |", "|---|---|"]
    for service, counts in inventory(template).items():
        listed = ", ".join(f"{count} x {name}" for name, count in sorted(counts.items()))
        rows.append(f"| {service} | {listed} |")
    return "\n".join(rows)
