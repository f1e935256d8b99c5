"""A Saga's steps: what each is, and the checks and helpers the Saga builds them with."""

import re
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

from aws_cdk import aws_stepfunctions as sfn

from serverless_patterns.core import state_machines as defaults
from serverless_patterns.core.props import options_of
from serverless_patterns.core.validation import Problems

_STEP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
INPUT_PATH = re.compile(r"^\$(\.[A-Za-z0-9_-]+)+$")
#: States that can retry and catch: what a step's action or compensation can be.
_RETRYABLE = (sfn.TaskStateBase, sfn.Parallel, sfn.Map, sfn.DistributedMap, sfn.CustomState)


@dataclass(frozen=True)
class SagaStep:
    """One step of a :class:`Saga`: an action and the compensation that undoes it.

    :param name: names the step in results (``$.steps.<name>``), failures
        (``<name>Failed``) and :attr:`Saga.steps`. Letters, digits and ``_``.
    :param action: the task that does the step's work (any Step Functions task: a
        ``LambdaInvoke`` or a direct integration such as ``DynamoPutItem``, ``SqsSendMessage``,
        ``SnsPublish``; also a ``Parallel`` or ``Map``). Its result goes to
        ``$.steps.<name>`` unless it sets ``result_path`` itself.
    :param compensation: the task that undoes the action, run when a later step fails.
        Its result goes to ``$.compensations.<name>``. Default: none (nothing to undo).
    :param retry: overrides for this action's retry policy (the saga's ``action_retry``).
    :param compensate_on_failure: also run this step's compensation when its own action
        fails, for actions that may have had an effect before failing (a payment that timed
        out). The compensation must then do nothing when there is nothing to undo.
        Default: False.
    """

    name: str
    _: KW_ONLY
    action: sfn.State
    compensation: sfn.State | None = None
    retry: sfn.RetryProps | None = None
    compensate_on_failure: bool = False


@dataclass
class Steps:
    """What a Saga's definition is built from (checked by ``Saga._validate_definition``)."""

    steps: Sequence[SagaStep]
    required_input: Sequence[str]
    action_retry: sfn.RetryProps | None
    compensation_retry: sfn.RetryProps | None
    duplicate_errors: Sequence[str]


def merged_retry(
    saga_level: sfn.RetryProps | None, step_level: sfn.RetryProps | None
) -> sfn.RetryProps | None:
    if saga_level is None or step_level is None:
        return step_level or saga_level
    return sfn.RetryProps(**{**options_of(saga_level), **options_of(step_level)})


def validate_duplicate_errors(problems: Problems, errors: Sequence[str]) -> list[str]:
    if isinstance(errors, str):
        problems.add("duplicate_errors", errors, "give a list of error names")
        return []
    found = list(errors or [])
    for error in found:
        if not isinstance(error, str) or not error:
            problems.add(
                "duplicate_errors",
                error,
                "give error names such as 'DynamoDB.ConditionalCheckFailedException'",
            )
        elif error.startswith("States."):
            problems.add(
                "duplicate_errors",
                error,
                "name the error your first action raises when the input was claimed before; "
                "a States.* error can mean anything failed",
            )
    return list(dict.fromkeys(e for e in found if isinstance(e, str)))


def validate_steps(problems: Problems, steps: Sequence[SagaStep]) -> None:
    if not steps:
        problems.add("steps", [], "give at least one SagaStep(name, action=..., compensation=...)")
        return
    seen: dict[int, str] = {}
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        if not isinstance(step, SagaStep):
            problems.add(where, step, "use SagaStep(name, action=..., compensation=...)")
            continue
        if not isinstance(step.name, str) or not _STEP_NAME.match(step.name):
            problems.add(
                f"{where}.name",
                step.name,
                "start with a letter; use up to 64 letters, digits and '_'",
            )
        for role in ("action", "compensation"):
            state = getattr(step, role)
            if state is None and role == "compensation":
                continue
            if not isinstance(state, _RETRYABLE):
                problems.add(
                    f"{where}.{role}",
                    state,
                    "must be a task (e.g. tasks.LambdaInvoke, tasks.DynamoPutItem), a Parallel "
                    "or a Map state: one that can retry and catch errors",
                )
                continue
            key = id(state)
            if key in seen:
                problems.add(
                    f"{where}.{role}",
                    state.state_id,
                    f"is already the {seen[key]}: every action and compensation must be its "
                    "own state",
                )
            seen[key] = f"{role} of {where}"
        if step.compensate_on_failure and step.compensation is None:
            problems.add(
                f"{where}.compensate_on_failure", True, "give the compensation to run as well"
            )
        defaults.validate_retry(problems, f"{where}.retry", step.retry)
    problems.unique("steps", (step.name for step in steps if isinstance(step, SagaStep)))


def result_paths(asl: dict[str, Any], steps: Sequence[SagaStep]) -> None:
    """Results go beside the input (``$.steps.<name>``), unless the state says otherwise."""
    states = asl["States"]
    for step in steps:
        for state, path in (
            (step.action, f"$.steps.{step.name}"),
            (step.compensation, f"$.compensations.{step.name}"),
        ):
            if state is not None:
                states[state.state_id].setdefault("ResultPath", path)
