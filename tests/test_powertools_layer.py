"""The Powertools layer every function gets: built from the pinned release, loads on Lambda."""

import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from serverless_patterns.core.layers import layer_directory, layer_distributions

from tests.support.cdk import ROOT

#: What Lambda's Python runtime itself provides on ``/var/runtime``: the AWS SDK.
RUNTIME_SDK = ["boto3", "botocore", "s3transfer", "urllib3", "dateutil", "six.py"]
#: Every Powertools feature the library's runtime and the reference handlers import.
IMPORTS = """
import sys
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.batch import BatchProcessor, SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, SNSEvent
from aws_lambda_powertools.shared.version import VERSION
Tracer(service="probe", disabled=True)
print(VERSION)
"""


@pytest.fixture(scope="module")
def layer() -> Path:
    return layer_directory() / "python"


def test_layer_is_the_pinned_release_and_what_it_needs_at_run_time() -> None:
    pinned = dict(
        line.split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    )
    names = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in layer_distributions()}
    assert names["aws-lambda-powertools"] == pinned["aws_lambda_powertools"]
    assert {"aws-xray-sdk", "wrapt", "typing-extensions", "jmespath"} <= names.keys()
    assert not {"boto3", "botocore"} & names.keys(), "Lambda's runtime provides the AWS SDK"


def test_layer_holds_only_pure_python(layer: Path) -> None:
    compiled = [p for p in layer.rglob("*") if p.suffix in {".so", ".pyd"}]
    assert compiled == []
    assert (layer / "aws_lambda_powertools" / "__init__.py").is_file()


def test_powertools_loads_from_the_layer_and_the_runtime_sdk_alone(
    layer: Path, tmp_path: Path
) -> None:
    """The layer works where Lambda puts it: ``/opt/python`` beside the runtime's SDK only.

    AWS Lambda developer guide, "Working with layers for Python Lambda functions": a layer's
    ``python/`` folder is extracted to ``/opt/python``, which is on the function's path.
    """
    site = Path(metadata.distribution("boto3").locate_file(""))
    for name in RUNTIME_SDK:
        (tmp_path / name).symlink_to(site / name)
    probe = f"import sys; sys.path[:0] = [{str(layer)!r}, {str(tmp_path)!r}]\n" + IMPORTS
    loaded = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", probe], capture_output=True, text=True, check=False
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == metadata.version("aws-lambda-powertools")


def test_every_function_of_every_reference_stack_gets_the_stack_layer(
    templates: dict[str, dict[str, Any]],
) -> None:
    for stack_id, template in templates.items():
        resources = template["Resources"]
        layers = {
            logical_id
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Lambda::LayerVersion"
            and resource["Properties"]["Description"].startswith("Powertools for AWS Lambda")
        }
        functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
        if functions:  # (NotificationServiceFargate's worker is a container)
            assert len(layers) == 1, f"{stack_id}: one Powertools layer per stack, got {layers}"
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::Lambda::Function" and "Handler" in resource["Properties"]:
                refs = [layer.get("Ref") for layer in resource["Properties"].get("Layers", [])]
                assert layers <= set(refs), f"{stack_id}/{logical_id}: {refs}"
        public = [p["Default"] for p in template.get("Parameters", {}).values()]
        assert not [p for p in public if p.startswith("/aws/service/")], stack_id
