"""What the reference apps need in moto beyond the pattern emulations they reuse.

The apps compose several constructs in one stack, so a template holds several tables and
functions: tables are created by logical id (keys, indexes, streams as synthesized), functions
are found by construct path, and their environments are read from the template with each
``Ref`` resolved to the moto resource standing in for it.
"""

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.aws import create_table, load_handler
from tests.support.cdk import ROOT, resources

HANDLERS = ROOT / "examples" / "handlers"


def create_tables(template: dict[str, Any]) -> dict[str, str]:
    """Create every table of the template in moto, named by logical id: ``{id: name}``."""
    return {
        logical_id: create_table(logical_id, properties)
        for logical_id, properties in resources(template, "AWS::DynamoDB::GlobalTable").items()
    }


def path_of(resource: dict[str, Any]) -> str:
    """``Api/Function`` for a resource at ``PubSubService/Api/Function/Resource``."""
    parts = resource["Metadata"]["aws:cdk:path"].split("/")[1:]
    return "/".join(parts[:-1] if parts[-1] == "Resource" else parts)


def logical_id_at(template: dict[str, Any], path: str) -> str:
    """The logical id of the resource at construct path ``path`` (without the stack)."""
    [found] = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if path_of(resource) == path
    ]
    return found


def function_at(template: dict[str, Any], path: str) -> dict[str, Any]:
    """The properties of the Lambda function at construct path ``path``."""
    resource = template["Resources"][logical_id_at(template, path)]
    assert resource["Type"] == "AWS::Lambda::Function", resource["Type"]
    return resource["Properties"]


def environment(function: dict[str, Any], refs: Mapping[str, str]) -> dict[str, str]:
    """The function's environment: literal values as they are, ``{"Ref": id}`` via ``refs``.

    A reference ``refs`` does not know fails the test: the handler would miss it too.
    """
    resolved = {}
    for name, value in function.get("Environment", {}).get("Variables", {}).items():
        if isinstance(value, str):
            resolved[name] = value
        elif isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in refs:
            resolved[name] = refs[value["Ref"]]
        else:
            raise AssertionError(f"{name}={json.dumps(value)}: nothing stands in for it")
    return resolved


def set_environment(monkeypatch: pytest.MonkeyPatch, variables: Mapping[str, str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def load_app(folder: str, module: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``examples/handlers/<folder>/<module>.py`` afresh, with its folder importable
    (as Lambda imports a handler that imports its siblings)."""
    directory: Path = HANDLERS / folder
    monkeypatch.syspath_prepend(str(directory))
    for sibling in directory.glob("*.py"):
        monkeypatch.delitem(sys.modules, sibling.stem, raising=False)
    return load_handler(str((directory / f"{module}.py").relative_to(ROOT)))
