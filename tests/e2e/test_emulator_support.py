"""Every drop in tools/e2e/adapt.py DROPS is needed, and nothing refused is left unlisted."""

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tools.e2e import adapt

pytestmark = pytest.mark.e2e
REFUSED = "Unrecognized resource types: ["


def refused(cloudformation: Any, types: set[str]) -> set[str]:
    """The types the emulator refuses, asked as any user would: ValidateTemplate."""
    probe = {"Resources": {f"R{i}": {"Type": name} for i, name in enumerate(sorted(types))}}
    try:
        cloudformation.validate_template(TemplateBody=json.dumps(probe))
    except ClientError as error:
        message = error.response["Error"]["Message"]
        assert REFUSED in message, message
        return {name.strip() for name in message.split(REFUSED, 1)[1].split("]")[0].split(",")}
    return set()


def test_drops_are_exactly_what_the_emulator_refuses(client, templates_synthesized):
    cloudformation = client("cloudformation")
    needed = {name: adapt.resource_types(t) for name, t in templates_synthesized.items()}
    problems = adapt.drop_problems(
        needed, {name: refused(cloudformation, types) for name, types in needed.items()}
    )
    assert problems == []


def test_every_reference_stack_is_deployed(client, templates_synthesized):
    cloudformation = client("cloudformation")
    assert len(templates_synthesized) >= 8
    for name in templates_synthesized:
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        assert status in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, (name, status)
