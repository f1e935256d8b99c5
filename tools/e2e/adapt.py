"""What the emulator cannot deploy as synthesized, changed in ONE place, on a copy of cdk.out.

Two explicit tables, each entry with its reason and a minimal reproduction:

- :data:`DROPS`: resource types MiniStack refuses ("Unrecognized resource types"), which
  would reject the whole stack. Their resources are removed from the copy, after checking
  that nothing else in the template refers to them (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``,
  ``DependsOn``, ``Outputs``): a dropped resource that something needs fails loudly.
- :data:`DROPPED_WITH_PROPERTY`: resources of an accepted type dropped for a property the
  emulator refuses (it fails the deployment), with the same checks.
- :data:`SHORTENED`: properties that only set how long the emulator would make a test wait.

And one change to the copy's asset manifests: :func:`without_images` (container images are
neither built nor pushed).

``tests/e2e/test_emulator_support.py`` asks the running emulator which types it refuses and
fails when a stack needs a drop that is not listed, or when a listed drop is no longer needed.
tests/e2e/EMULATOR_GAPS.md explains each entry and what is proven only by moto and docs.
"""

import json
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Drop:
    reason: str
    reproduction: str
    #: Resource types dropped with it when they refer to a dropped resource (and nothing else
    #: refers to them): e.g. the alarms that only trigger a dropped scaling policy.
    dependents: tuple[str, ...] = ()


def _refused(resource_type: str, properties: dict[str, Any]) -> str:
    template = json.dumps({"Resources": {"R": {"Type": resource_type, "Properties": properties}}})
    return (
        f"aws cloudformation validate-template --template-body '{template}' -> "
        f"Template format error: Unrecognized resource types: [{resource_type}]"
    )


#: Resource type -> why dropping it is harmless for what the e2e tests check.
DROPS: dict[str, Drop] = {
    "AWS::Events::Archive": Drop(
        reason="MiniStack 1.5.33 has no EventBridge archive provisioner. The archive only keeps "
        "events for replay; no route depends on it. Archive and replay are proven only by "
        "the template tests (tests/event_router).",
        reproduction=_refused(
            "AWS::Events::Archive",
            {"SourceArn": "arn:aws:events:us-east-1:000000000000:event-bus/default"},
        ),
    ),
    "AWS::ApiGatewayV2::RouteResponse": Drop(
        reason="MiniStack 1.5.33 has no WebSocket route-response provisioner. It only makes "
        "the $default route return its integration's answer to the client; subscriptions "
        "and notifications do not depend on it.",
        reproduction=_refused(
            "AWS::ApiGatewayV2::RouteResponse",
            {"ApiId": "a1b2c3", "RouteId": "r1", "RouteResponseKey": "$default"},
        ),
    ),
    "AWS::ApplicationAutoScaling::ScalableTarget": Drop(
        reason="MiniStack 1.5.33 has no Application Auto Scaling provisioner. The target only "
        "lets the scaling policy set the worker service's task count; the service deploys with "
        "0 tasks and no container runs in the emulator (tests/e2e/EMULATOR_GAPS.md). Scaling "
        "0..N is proven by the template tests (tests/queue_worker/test_construct.py).",
        reproduction=_refused(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            {
                "MaxCapacity": 1,
                "MinCapacity": 0,
                "ResourceId": "service/c/s",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ServiceNamespace": "ecs",
            },
        ),
    ),
    "AWS::ApplicationAutoScaling::ScalingPolicy": Drop(
        reason="Refused like the scalable target it belongs to; its two alarms only trigger "
        "it (they notify nobody), so they are dropped with it.",
        reproduction=_refused(
            "AWS::ApplicationAutoScaling::ScalingPolicy",
            {"PolicyName": "p", "PolicyType": "StepScaling", "ScalingTargetId": "t"},
        ),
        dependents=("AWS::CloudWatch::Alarm",),
    ),
    "AWS::EC2::FlowLog": Drop(
        reason="MiniStack 1.5.33 has no VPC flow log provisioner. Flow logs only record "
        "rejected traffic for operators; nothing refers to them.",
        reproduction=_refused(
            "AWS::EC2::FlowLog",
            {"ResourceId": "vpc-1", "ResourceType": "VPC", "TrafficType": "REJECT"},
        ),
    ),
}


#: (resource type, property) -> why resources of that type that set the property are dropped:
#: the emulator accepts the type but refuses the property (it fails the stack's deployment).
DROPPED_WITH_PROPERTY: dict[tuple[str, str], Drop] = {
    ("AWS::CloudWatch::Alarm", "Metrics"): Drop(
        reason="MiniStack 1.5.33 refuses metric-math alarms. The one left after the scaling "
        "alarms (QueueWorkerService's MessagesWaitingWithoutTasks) only reads metrics the "
        "emulator does not produce (Container Insights); its expression is pinned by "
        "tests/test_properties.py.",
        reproduction="aws cloudformation create-stack with an AWS::CloudWatch::Alarm whose "
        "Metrics hold an Expression -> CREATE_FAILED: 'Properties.Metrics (metric math) is not "
        "supported; use MetricName and Namespace.'",
    ),
}


@dataclass(frozen=True)
class Shortened:
    resource_type: str
    property: str
    value: Any
    reason: str


#: Properties set lower in the copy so a test sees in seconds what AWS does in minutes.
SHORTENED: tuple[Shortened, ...] = (
    Shortened(
        "AWS::SQS::Queue",
        "VisibilityTimeout",
        5,
        "A failed message is received again only after the queue's visibility timeout (6 x "
        "the consumer's timeout: 60-120 s here), so a poison message would need "
        "maxReceiveCount (5) x that, 5-10 minutes, to reach its DLQ. MiniStack honours the "
        "timeout and has no clock to speed up. The 6 x rule itself is pinned by the "
        "construct tests (core/queues).",
    ),
)

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(node: Any) -> Iterator[str]:
    """The logical ids ``node`` refers to through Ref, Fn::GetAtt and Fn::Sub."""
    if isinstance(node, list):
        for value in node:
            yield from references(value)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else str(value).split(".")[0]
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                yield from _SUB_NAME.findall(text)
                if isinstance(value, list):
                    yield from references(value[1:])
            else:
                yield from references(value)


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


class DropNeeded(Exception):
    """A dropped resource is referred to by something that stays: the copy would be wrong."""


def adapt(template: dict[str, Any], stack: str = "") -> dict[str, Any]:
    """A copy of ``template`` without the :data:`DROPS` types and with :data:`SHORTENED` set."""
    resources = template.get("Resources", {})
    dropped = {
        name
        for name, resource in resources.items()
        if resource["Type"] in DROPS
        or any(
            (resource["Type"], prop) in DROPPED_WITH_PROPERTY
            for prop in resource.get("Properties", {})
        )
    }
    dropped |= _dependents(resources, dropped)
    kept = {name: resource for name, resource in resources.items() if name not in dropped}
    users = []
    for name, resource in kept.items():
        needed = (set(references(resource)) | set(_depends_on(resource))) & dropped
        users += [f"{name} -> {target}" for target in sorted(needed)]
    for section in ("Outputs", "Conditions"):
        for name, value in template.get(section, {}).items():
            needed = set(references(value)) & dropped
            users += [f"{section}.{name} -> {target}" for target in sorted(needed)]
    if users:
        raise DropNeeded(
            f"{stack}: resources of a dropped type are still referred to ({'; '.join(users)}). "
            "The stack cannot be deployed faithfully without them: remove the drop from "
            "tools/e2e/adapt.py DROPS and record the gap instead."
        )
    copy = json.loads(json.dumps({**template, "Resources": kept}))
    for rule in SHORTENED:
        for resource in copy["Resources"].values():
            if resource["Type"] == rule.resource_type:
                resource.setdefault("Properties", {})[rule.property] = rule.value
    return copy


def _dependents(resources: dict[str, Any], dropped: set[str]) -> set[str]:
    """Resources of a :attr:`Drop.dependents` type that refer to a dropped resource of it."""
    found = set()
    for name, resource in resources.items():
        for target in (set(references(resource)) | set(_depends_on(resource))) & dropped:
            drop = DROPS.get(resources[target]["Type"])
            if drop is not None and resource["Type"] in drop.dependents:
                found.add(name)
    return found


def resource_types(template: dict[str, Any]) -> set[str]:
    return {resource["Type"] for resource in template.get("Resources", {}).values()}


def drop_problems(needed: dict[str, set[str]], refused: dict[str, set[str]]) -> list[str]:
    """What is wrong with :data:`DROPS`, given each stack's types and those the emulator refuses.

    ``needed``: stack -> its resource types; ``refused``: stack -> the types the emulator
    refuses. Unlisted refusals and listed types the emulator now accepts (or no stack uses)
    are problems.
    """
    problems = []
    for stack, types in sorted(refused.items()):
        for resource_type in sorted(types - DROPS.keys()):
            problems.append(
                f"{stack}: the emulator refuses {resource_type}, which is not in "
                "tools/e2e/adapt.py DROPS: add it with its reason and reproduction (and to "
                "tests/e2e/EMULATOR_GAPS.md), or stop using the type"
            )
    for resource_type in sorted(DROPS):
        users = sorted(stack for stack, types in needed.items() if resource_type in types)
        if not users:
            problems.append(f"DROPS lists {resource_type}, which no reference stack uses: drop it")
        for stack in users:
            if resource_type not in refused.get(stack, set()):
                problems.append(
                    f"{stack}: the emulator now accepts {resource_type}: remove it from DROPS "
                    "and its entry in tests/e2e/EMULATOR_GAPS.md"
                )
    return problems


def copy_assembly(source: Path, target: Path, stacks: Iterable[str]) -> None:
    """Copy the cloud assembly ``source`` to ``target``, adapting each stack's template."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    for stack in stacks:
        path = target / f"{stack}.template.json"
        path.write_text(json.dumps(adapt(json.loads(path.read_text()), stack), indent=1))
        without_images(target / f"{stack}.assets.json")


def without_images(manifest: Path) -> list[str]:
    """Remove the container images from an asset manifest: ``cdk deploy`` would build them
    with Docker, which CI does not have, and the emulator would not run them (the worker
    service deploys with 0 tasks; tests/e2e runs the image's code itself). Answers the
    images' display names."""
    if not manifest.exists():
        return []
    assets = json.loads(manifest.read_text())
    images = assets.pop("dockerImages", {})
    manifest.write_text(json.dumps(assets, indent=1))
    return sorted(image.get("displayName", key) for key, image in images.items())
