"""CDK apps built exactly as ``cdk synth`` builds them (same context as cdk.json)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from examples import app as reference

ROOT = Path(__file__).resolve().parents[2]


def new_app() -> App:
    """An empty app with the context ``cdk synth`` gives the reference app."""
    return reference.new_app(context=reference.cli_context())


def synth_variants(builders: dict[str, Callable[[Stack], object]]) -> dict[str, Template]:
    """One app, one stack per variant, synthesized once: ``{name: Template}``."""
    app = new_app()
    stacks = {}
    for name, build in builders.items():
        stacks[name] = Stack(app, name)
        build(stacks[name])
    app.synth()
    return {name: Template.from_stack(stack) for name, stack in stacks.items()}


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """``{logical_id: properties}`` of every resource of ``resource_type``."""
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


#: What every reference stack adds for its alarms (core/alarms.py ``operations_topic``).
OPERATIONS_TOPIC = "OperationsTopic"


def only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    """The one resource of ``resource_type``, the operations topic's aside: ``(id, properties)``."""
    found = {
        logical_id: properties
        for logical_id, properties in resources(template, resource_type).items()
        if not logical_id.startswith(OPERATIONS_TOPIC)
    }
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))


def path_of(resource: dict[str, Any]) -> str:
    """``Api/Function`` for a resource at ``Stack/Api/Function/Resource``."""
    parts = resource.get("Metadata", {}).get("aws:cdk:path", "").split("/")[1:]
    return "/".join(parts[:-1] if parts and parts[-1] == "Resource" else parts)


def logical_id_at(template: dict[str, Any], path: str) -> str:
    """The logical id of the resource at construct path ``path`` (without the stack)."""
    [found] = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if path_of(resource) == path
    ]
    return found
