"""One pinned, readable template per reference stack: what reviewers diff.

After an intended change: ``make snapshots``, then review the JSON diff.
"""

import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from examples.app import REFERENCE_STACKS

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


class StackTemplateSnapshot(JSONSnapshotExtension):
    """Names the snapshot file after the stack: ``__snapshots__/test_snapshots/SyncApi.json``."""

    @classmethod
    def get_snapshot_name(cls, *, test_location: Any, index: Any = 0) -> str:
        return str(index)


def masked(value: Any) -> Any:
    """Asset hashes change with every edit of handler code; the code diff shows those."""
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str):
        return ASSET_HASH.sub("<asset-hash>", value)
    return value


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_template_matches_snapshot(
    stack_id: str, templates: dict[str, dict[str, Any]], snapshot: SnapshotAssertion
) -> None:
    assert masked(templates[stack_id]) == snapshot(
        extension_class=StackTemplateSnapshot, name=stack_id
    )
