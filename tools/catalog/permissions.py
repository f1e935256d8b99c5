"""Who may do what to which resource: identity policies and resource policies."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from tools.catalog.templates import (
    Template,
    as_list,
    label,
    references,
    render,
    resources_of,
    role_owners,
)


@dataclass(frozen=True)
class Grant:
    who: str
    actions: tuple[str, ...]
    on: tuple[str, ...]
    condition: bool = False


def _targets(resource: Any, template: Template) -> tuple[str, ...]:
    """Readable names of the resources a statement's ``Resource`` names."""
    names = []
    for item in as_list(resource):
        referenced = sorted(references(item, template))
        if referenced:
            suffix = "/index/*" if "/index/*" in str(item) else ""
            names.extend(f"{label(template, ref)}{suffix}" for ref in referenced)
        else:
            names.append(render(item, template))
    return tuple(dict.fromkeys(names))


def _principal(principal: Any) -> str:
    if principal == "*" or principal == {"AWS": "*"}:
        return "anyone"
    if isinstance(principal, dict) and "Service" in principal:
        return ", ".join(as_list(principal["Service"]))
    return str(principal)


def grants(template: Template) -> list[Grant]:
    found = []
    owners = role_owners(template)
    for _, policy in resources_of(template, "AWS::IAM::Policy"):
        roles = sorted(references(policy["Properties"].get("Roles"), template))
        who = ", ".join(
            label(template, owner) for role in roles for owner in owners.get(role, [role])
        )
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Effect") == "Allow":
                found.append(
                    Grant(
                        who,
                        tuple(sorted(as_list(statement["Action"]))),
                        _targets(statement.get("Resource"), template),
                        "Condition" in statement,
                    )
                )
    for logical_id, role in resources_of(template, "AWS::IAM::Role"):
        for managed in role["Properties"].get("ManagedPolicyArns", []):
            name = str(managed).rsplit("/", 1)[-1].rstrip("\"']}")
            found.append(Grant(label(template, logical_id), (f"AWS managed policy {name}",), ()))
    for _, permission in resources_of(template, "AWS::Lambda::Permission"):
        properties = permission["Properties"]
        found.append(
            Grant(
                properties["Principal"],
                (properties["Action"],),
                _targets(properties["FunctionName"], template),
                "SourceArn" in properties or "SourceAccount" in properties,
            )
        )
    for _, policy in resources_of(
        template, "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::Events::EventBusPolicy"
    ):
        document = policy["Properties"].get("PolicyDocument", {})
        for statement in document.get("Statement", []):
            if statement.get("Effect") == "Allow":
                found.append(
                    Grant(
                        _principal(statement.get("Principal")),
                        tuple(sorted(as_list(statement["Action"]))),
                        _targets(statement.get("Resource"), template),
                        "Condition" in statement,
                    )
                )
    return found


def tls_only(template: Template) -> list[str]:
    """Resources whose policy denies every request not sent over TLS."""
    names = []
    for _, policy in resources_of(template, "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            condition = statement.get("Condition", {}).get("Bool", {})
            if (
                statement.get("Effect") == "Deny"
                and condition.get("aws:SecureTransport") == "false"
            ):
                names.extend(_targets(statement.get("Resource"), template))
    return sorted(set(names))


def markdown(template: Template) -> str:
    rows = ["| Who | May | On |", "|---|---|---|"]
    counted = Counter(grants(template))
    for grant, count in counted.items():
        on = ", ".join(f"`{name}`" for name in grant.on) or "—"
        condition = " (with conditions)" if grant.condition else ""
        times = f" ({count} grants)" if count > 1 else ""
        actions = ", ".join(f"`{action}`" for action in grant.actions)
        rows.append(f"| {grant.who} | {actions} | {on}{condition}{times} |")
    denied = tls_only(template)
    if denied:
        rows.append("")
        rows.append(
            "Requests not sent over TLS are denied on: " + ", ".join(f"`{n}`" for n in denied) + "."
        )
    return "\n".join(rows)
