"""A Saga whose compensation fails for good, executed in moto: the others still run.

The variant (tests/workflow/conftest.py) writes ``first``, ``second`` and ``$.third`` to one
table; undoing ``second`` always fails (its condition can never hold); ``Third`` fails when
``$.third`` names an item that exists.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.emulation import Emulation


@pytest.fixture
def saga(
    aws: None, variants: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Emulation]:
    yield Emulation(variants["FailingCompensation"], monkeypatch)


def keys(saga: Emulation) -> set[str]:
    return {item["pk"] for item in saga.items("Ledger")}


def test_success_writes_every_step(saga: Emulation) -> None:
    execution = saga.run({"third": "third"})
    assert execution["status"] == "SUCCEEDED"
    assert keys(saga) == {"first", "second", "third"}


def test_a_failed_compensation_is_retried_reported_and_does_not_stop_the_others(
    saga: Emulation,
) -> None:
    execution = saga.run({"third": "first"})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "SagaCompensationFailed"
    cause = execution["cause"]
    assert cause.startswith("Third failed (DynamoDB.ConditionalCheckFailedException: ")
    assert "these compensations failed too: " in cause
    assert '"Second":{"Error":"DynamoDB.ConditionalCheckFailedException"' in cause
    # The failed compensation was retried once (compensation_retry), then given up.
    assert saga.task_failures(execution) == ["DynamoDB.ConditionalCheckFailedException"] * 3
    # First's compensation ran after Second's failed; Second's item could not be removed.
    assert keys(saga) == {"second"}
    assert saga.states_entered(execution) == [
        "PutFirst",
        "PutSecond",
        "PutThird",
        "Third failed",
        "DeleteSecond",
        "DeleteFirst",
        "Every compensation succeeded?",
        "Saga failed, compensation incomplete",
    ]
