"""The code stays in one style: ruff's lint rules and formatter (config in pyproject.toml)."""

import subprocess
import sys

import pytest

from tests.support.cdk import ROOT


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "constructs", "examples", "tests", "tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
