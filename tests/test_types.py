"""The library and the examples type-check: mypy (config in pyproject.toml) finds nothing."""

import subprocess


def test_mypy_finds_no_error(type_check: subprocess.Popen[str]) -> None:
    output, _ = type_check.communicate(timeout=600)
    assert type_check.returncode == 0, output
    assert output.startswith("Success: no issues found"), output
