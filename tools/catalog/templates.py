"""Reading synthesized CloudFormation templates: references, names, owners of roles."""

import re
from collections.abc import Iterator
from typing import Any

Template = dict[str, Any]

_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(value: Any, template: Template) -> set[str]:
    """Logical ids of the resources ``value`` refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    resources = template.get("Resources", {})

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "Ref" and isinstance(item, str):
                    found.add(item)
                elif key == "Fn::GetAtt":
                    target = item[0] if isinstance(item, list) else str(item).split(".")[0]
                    found.add(target)
                elif key == "Fn::Sub":
                    text = item[0] if isinstance(item, list) else item
                    found.update(_SUB_VARIABLE.findall(text))
                    if isinstance(item, list) and len(item) > 1:
                        walk(item[1])
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return {logical_id for logical_id in found if logical_id in resources}


def resources_of(template: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(logical id, resource)`` for every resource of one of ``types``, in template order."""
    for logical_id, resource in template.get("Resources", {}).items():
        if resource["Type"] in types:
            yield logical_id, resource


def label(template: Template, logical_id: str) -> str:
    """A readable name: the construct path without the stack and ``/Resource``."""
    resource = template["Resources"][logical_id]
    path = resource.get("Metadata", {}).get("aws:cdk:path")
    if not path:
        return logical_id
    parts = path.split("/")[1:]
    if parts and parts[-1] in {"Resource", "Default"}:
        parts = parts[:-1]
    return "/".join(parts) or logical_id


def service_of(resource_type: str) -> str:
    """``AWS::Lambda::Function`` -> ``Lambda``."""
    return resource_type.split("::")[1]


def role_owners(template: Template) -> dict[str, list[str]]:
    """``{role logical id: [logical ids of the resources that act with it]}``."""
    owners: dict[str, list[str]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        candidates = [properties.get("Role"), properties.get("RoleArn")]
        if resource["Type"] == "AWS::ApiGateway::Method":
            candidates.append(properties.get("Integration", {}).get("Credentials"))
        if resource["Type"] == "AWS::Events::Rule":
            candidates.extend(target.get("RoleArn") for target in properties.get("Targets", []))
        if resource["Type"] == "AWS::ECS::Service":  # its tasks act with the task role
            for task in references(properties.get("TaskDefinition"), template):
                candidates.append(template["Resources"][task]["Properties"].get("TaskRoleArn"))
        for candidate in candidates:
            for role in references(candidate, template):
                if template["Resources"][role]["Type"] == "AWS::IAM::Role":
                    owners.setdefault(role, []).append(logical_id)
    return owners


def render(value: Any, template: Template) -> str:
    """A CloudFormation value as readable text: resources by name, pseudo parameters as
    ``${AWS::Region}``, joins and subs spelled out."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, item),) = value.items()
        if key == "Ref":
            in_template = item in template.get("Resources", {})
            return label(template, item) if in_template else "${" + item + "}"
        if key == "Fn::GetAtt":
            target, attribute = item if isinstance(item, list) else item.split(".", 1)
            return f"{label(template, target)}.{attribute}"
        if key == "Fn::Join":
            separator, parts = item
            return separator.join(render(part, template) for part in parts)
        if key == "Fn::Sub":
            return item[0] if isinstance(item, list) else item
    return str(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
