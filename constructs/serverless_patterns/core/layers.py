"""The Powertools layer, built from the installed ``aws-lambda-powertools``: every region works.

AWS publishes Powertools layers and their SSM parameters in only some regions; a layer asset
built from the release installed next to the library deploys to every region, pins exactly the
version the handlers were tested with, and needs no network or Docker at synth.
"""

import hashlib
import importlib.metadata as metadata
import os
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path, PurePosixPath

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

DISTRIBUTION = "aws-lambda-powertools"
#: The extras whose dependencies the layer carries (Logger, Metrics, Tracer, batch, events).
EXTRAS = frozenset({"tracer"})
#: Lambda's Python runtime provides the AWS SDK: the layer never ships its own copy.
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "urllib3"})
#: Pure Python only: compiled extensions built for this machine may not load on Lambda's
#: architecture (wrapt, for one, falls back to its Python implementation without them).
EXCLUDED_SUFFIXES = (".pyc", ".so", ".pyd", ".c")
EXCLUDED_METADATA = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
PYTHONS = [
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
]
_NAME = re.compile(r"^[A-Za-z0-9._-]+")


def powertools_layer(scope: Construct) -> lambda_.LayerVersion:
    """The stack's one Powertools layer (arm64 and x86_64, Python 3.11-3.14)."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child("PowertoolsLayer")
    if isinstance(existing, lambda_.LayerVersion):
        return existing
    version = metadata.version(DISTRIBUTION)
    return lambda_.LayerVersion(
        stack,
        "PowertoolsLayer",
        code=lambda_.Code.from_asset(str(layer_directory()), exclude=["__pycache__"]),
        compatible_runtimes=PYTHONS,
        compatible_architectures=[lambda_.Architecture.ARM_64, lambda_.Architecture.X86_64],
        license="MIT-0",
        description=f"Powertools for AWS Lambda (Python) {version} with tracer, pure Python",
    )


def layer_distributions() -> list[metadata.Distribution]:
    """Powertools and what it needs at run time (with ``EXTRAS``), minus the AWS SDK."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(DISTRIBUTION, EXTRAS)]
    while pending:
        name, extras = pending.pop()
        key = _normalized(name)
        if key in found or key in PROVIDED_BY_RUNTIME:
            continue
        found[key] = distribution = metadata.distribution(name)
        for requirement in distribution.requires or []:
            requirement_name, _, marker = requirement.partition(";")
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            if extra is None or extra.group(1) in extras:
                name_match = _NAME.match(requirement_name.strip())
                assert name_match is not None  # every requirement starts with a name
                pending.append((name_match.group(0), frozenset()))
    return sorted(found.values(), key=lambda d: _normalized(d.metadata["Name"]))


@cache
def layer_directory() -> Path:
    """A folder holding ``python/`` with the layer's files, built once per set of versions
    (and looked up once per process: the installed distributions do not change meanwhile)."""
    distributions = layer_distributions()
    key = hashlib.sha256(
        "\n".join(f"{d.metadata['Name']}=={d.version}" for d in distributions).encode()
    ).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / "serverless-patterns" / f"powertools-layer-{key}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    for distribution in distributions:
        for file in distribution.files or []:
            if _belongs_in_layer(PurePosixPath(file)):
                destination = building / "python" / file
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(str(distribution.locate_file(file)), destination)
    try:
        os.rename(building, target)
    except OSError:  # another process built it first
        shutil.rmtree(building)
    return target


def _belongs_in_layer(path: PurePosixPath) -> bool:
    return not (
        path.parts[0] == ".."
        or "__pycache__" in path.parts
        or path.suffix in EXCLUDED_SUFFIXES
        or (path.parent.name.endswith(".dist-info") and path.name in EXCLUDED_METADATA)
    )


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
