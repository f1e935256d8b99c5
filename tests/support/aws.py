"""Emulated AWS (moto) resources created from the synthesized templates themselves."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from tests.support.cdk import ROOT, only


def create_table(logical_id: str, properties: dict[str, Any]) -> str:
    """Create in moto the table a template declares (keys, indexes, stream), named by its
    logical id; return the name."""
    table: dict[str, Any] = {
        "TableName": logical_id,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = properties.get("GlobalSecondaryIndexes")
    if indexes:
        table["GlobalSecondaryIndexes"] = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in indexes
        ]
    stream = properties.get("StreamSpecification")
    if stream:
        table["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    boto3.client("dynamodb").create_table(**table)
    return logical_id


def create_table_from_template(template: dict[str, Any]) -> str:
    """Create in moto the template's one DynamoDB table; return its name."""
    return create_table(*only(template, "AWS::DynamoDB::GlobalTable"))


def load_handler(relative_path: str) -> ModuleType:
    """Import a handler module afresh (module-level clients bind to the active moto mock)."""
    path = ROOT / relative_path
    name = f"handler_{Path(relative_path).with_suffix('').as_posix().replace('/', '_')}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def reuse_resource_classes(session: boto3.Session) -> None:
    """Have ``session`` build each boto3 resource class once (~50 ms each), not on every
    ``session.resource(...)``: the classes hold no client, each resource gets its own."""
    factory = session.resource_factory
    build = factory.load_from_definition
    classes: dict[tuple[str, str], Any] = {}

    def load_from_definition(
        resource_name: str, single_resource_json_definition: Any, service_context: Any
    ) -> Any:
        key = (service_context.service_name, resource_name)
        if key not in classes:
            classes[key] = build(resource_name, single_resource_json_definition, service_context)
        return classes[key]

    factory.load_from_definition = load_from_definition  # type: ignore[method-assign]


#: The only client options boto3 sets for a resource's client (boto3/session.py).
RESOURCE_CONFIG = {"user_agent_extra": "Resource"}


def reuse_clients(session: boto3.Session) -> None:
    """Have ``session`` create one client per service and options (~20 ms each), shared by
    the tests and by every handler module that ``boto3.client(...)``s on import.

    Safe across tests: moto answers a client's requests whichever mock is active when they are
    sent, and who calls is decided per request (tests/support/iam.py), not by the client. The
    client under a ``boto3.resource(...)`` is shared too: its only ``config`` is the one boto3
    gives every resource. A client with a ``config`` of its own is always new (a ``Config``
    may carry a test's timeouts, and a standard-mode client keeps a retry quota).
    """
    create = session.client
    clients: dict[tuple[Any, ...], Any] = {}

    def client(*args: Any, **kwargs: Any) -> Any:
        config = kwargs.get("config")
        if config is not None and config._user_provided_options != RESOURCE_CONFIG:
            return create(*args, **kwargs)
        key = (*args, *sorted((k, v) for k, v in kwargs.items() if k != "config"), bool(config))
        if key not in clients:
            clients[key] = create(*args, **kwargs)
        return clients[key]

    session.client = client  # type: ignore[method-assign]
