"""Saga: a Workflow of steps whose completed ones are compensated, in reverse, on failure."""

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from aws_cdk import Annotations
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from serverless_patterns.core import state_machines as defaults
from serverless_patterns.core.validation import Problems
from serverless_patterns.workflow.steps import (
    INPUT_PATH,
    SagaStep,
    Steps,
    merged_retry,
    result_paths,
    validate_duplicate_errors,
    validate_steps,
)
from serverless_patterns.workflow.workflow import Workflow


class Saga(Workflow):
    """A workflow of steps that undoes the completed ones, in reverse order, when one fails.

    Each step's action runs in order, retrying transient errors with exponential backoff.
    When an action fails for good, the compensations of the steps that completed run in
    reverse order (each retried on any error); the execution then fails with error
    ``<step>Failed`` and a cause naming the original error. If a compensation fails for good,
    the remaining compensations still run and the execution fails with
    ``SagaCompensationFailed``. Success ends in a Succeed state whose output is the input
    plus ``steps.<name>`` (each action's result). The input keys ``steps``,
    ``compensations``, ``failure``, ``compensation_errors`` and ``duplicate`` are the
    saga's own.

    Smallest use::

        Saga(self, "Order", steps=[
            SagaStep("Reserve", action=reserve, compensation=release),
            SagaStep("Charge", action=charge, compensation=refund),
        ])

    :param steps: the steps, in order (at least one; unique names).
    :param required_input: JSONPaths (``"$.order_id"``) every execution input must have,
        checked before the first step: a missing one fails the execution with
        ``SagaInputIncomplete`` before anything is done. Name every path a step reads —
        otherwise a missing one fails the execution with ``States.Runtime`` half-way, which
        no Catch sees, and nothing is compensated. Default: none.
    :param action_retry: overrides for how actions retry. Default: the errors in
        ``TRANSIENT_ERRORS``, 3 attempts, 1 s doubling up to 10 s, full jitter.
    :param compensation_retry: overrides for how compensations retry. Default: any error
        (``States.ALL``), 6 attempts, 1 s doubling up to 30 s, full jitter.
    :param duplicate_errors: errors of the first step's action that mean "this input was
        handled before": the execution then ends at once in the Succeed state ``Saga skipped:
        duplicate input``, with nothing done and the error under ``$.duplicate``. Make the
        first action claim the input's business key — a DynamoDB put of the order id with
        ``attribute_not_exists``, listing ``DynamoDB.ConditionalCheckFailedException`` here —
        and an event delivered twice, or redriven after the saga compensated, changes
        nothing. Default: none (every execution runs every step).

    Every other option is :class:`Workflow`'s. Attributes: those of :class:`Workflow`, and
    ``steps``, the steps by name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        steps: Sequence[SagaStep],
        required_input: Sequence[str] = (),
        action_retry: sfn.RetryProps | None = None,
        compensation_retry: sfn.RetryProps | None = None,
        duplicate_errors: Sequence[str] = (),
        **workflow_options: Any,
    ) -> None:
        # Workflow's hooks below take the steps where a Workflow takes a chainable.
        definition: Any = Steps(
            steps, required_input, action_retry, compensation_retry, duplicate_errors
        )
        super().__init__(scope, construct_id, definition=definition, **workflow_options)

    # --- Workflow's hooks: the definition is built from the steps ---------------------------

    def _validate_definition(self, problems: Problems, definition: Any) -> bool:
        spec: Steps = definition
        found = len(problems)
        problems.list_of("steps", spec.steps, SagaStep)
        problems.raise_if_any()  # the checks below rely on a list
        spec.steps = list(spec.steps) if spec.steps is not None else []
        validate_steps(problems, spec.steps)
        defaults.validate_retry(problems, "action_retry", spec.action_retry)
        defaults.validate_retry(problems, "compensation_retry", spec.compensation_retry)
        if isinstance(spec.required_input, str):
            problems.add("required_input", spec.required_input, "give a list of JSONPaths")
            spec.required_input = [spec.required_input]
        spec.required_input = list(spec.required_input or [])
        for path in spec.required_input:
            if not isinstance(path, str) or not INPUT_PATH.match(path):
                problems.add("required_input", path, "give JSONPaths such as '$.order_id'")
        spec.duplicate_errors = validate_duplicate_errors(problems, spec.duplicate_errors)
        return len(problems) == found

    def _definition(self, definition: Any) -> sfn.IChainable:
        """Actions in order; a failure enters the chain of compensations in reverse order."""
        spec: Steps = definition
        steps = spec.steps
        if steps[-1].compensation is not None and not steps[-1].compensate_on_failure:
            Annotations.of(self).add_warning_v2(
                "serverless-patterns:saga-last-compensation",
                f"steps[-1] ({steps[-1].name!r}) has a compensation that can never run: the "
                "saga has succeeded once its last step has. Remove it, or set "
                "compensate_on_failure=True if a failed action may leave effects.",
            )
        self.steps: Mapping[str, SagaStep] = MappingProxyType({s.name: s for s in steps})
        entry = self._compensations(steps, spec.compensation_retry)
        chain = self._actions(steps, entry, spec.action_retry, spec.duplicate_errors)
        return self._input_check(chain, spec.required_input)

    def _adjust(self, asl: dict[str, Any]) -> None:
        result_paths(asl, list(self.steps.values()))

    # --- the definition -----------------------------------------------------------------------

    def _compensated(self, steps: Sequence[SagaStep]) -> sfn.IChainable:
        """Where the compensations end: failed, or failed with compensations incomplete."""
        failed = sfn.Fail(
            self,
            "Failed",
            state_name="Saga failed",
            error_path="$.failure.error",
            cause_path="$.failure.cause",
        )
        if not any(step.compensation is not None for step in steps):
            return failed
        compensation_failed = sfn.Fail(
            self,
            "CompensationFailed",
            state_name="Saga failed, compensation incomplete",
            error="SagaCompensationFailed",
            cause_path=sfn.JsonPath.format(
                "{} failed ({}); these compensations failed too: {}",
                sfn.JsonPath.string_at("$.failure.step"),
                sfn.JsonPath.string_at("$.failure.cause"),
                sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.compensation_errors")),
            ),
        )
        return (
            sfn.Choice(self, "Compensated", state_name="Every compensation succeeded?")
            .when(sfn.Condition.is_present("$.compensation_errors"), compensation_failed)
            .otherwise(failed)
        )

    def _compensations(
        self, steps: Sequence[SagaStep], retry: sfn.RetryProps | None
    ) -> dict[int, sfn.IChainable]:
        """Step index -> what runs when its action fails: the compensations before it.

        Compensations run in reverse step order, each continuing to the next one whatever
        happens: a compensation that fails for good must not keep the others from running.
        """
        settings = defaults.retry_settings(defaults.COMPENSATION_RETRY, retry)
        entry: dict[int, sfn.IChainable] = {}
        following = self._compensated(steps)
        for index, step in enumerate(steps):
            entry[index] = following  # the compensations of the steps before it
            if step.compensation is None:
                continue
            compensation = step.compensation
            compensation.add_retry(**settings)  # type: ignore[attr-defined]
            compensation.add_catch(  # type: ignore[attr-defined]
                following,
                errors=[sfn.Errors.ALL],
                result_path=f"$.compensation_errors.{step.name}",
            )
            compensation.next(following)  # type: ignore[attr-defined]
            following = compensation
            if step.compensate_on_failure:
                entry[index] = compensation
        return entry

    def _actions(
        self,
        steps: Sequence[SagaStep],
        entry: Mapping[int, sfn.IChainable],
        retry: sfn.RetryProps | None,
        duplicate_errors: Sequence[str],
    ) -> sfn.Chain:
        """The actions in order, each retried, a failure recorded and sent to ``entry``."""
        chain: sfn.Chain | None = None
        for index, step in enumerate(steps):
            record = sfn.Pass(
                self,
                f"{step.name}Failed",
                state_name=f"{step.name} failed",
                parameters={
                    "step": step.name,
                    "error": f"{step.name}Failed",
                    "cause": sfn.JsonPath.format(
                        "{}: {}",
                        sfn.JsonPath.string_at("$.failure.Error"),
                        sfn.JsonPath.string_at("$.failure.Cause"),
                    ),
                },
                result_path="$.failure",
            )
            record.next(entry[index])
            action = step.action
            action.add_retry(  # type: ignore[attr-defined]
                **defaults.retry_settings(defaults.ACTION_RETRY, merged_retry(retry, step.retry))
            )
            if index == 0 and duplicate_errors:  # before States.ALL, which must come last
                action.add_catch(  # type: ignore[attr-defined]
                    sfn.Succeed(self, "Duplicate", state_name="Saga skipped: duplicate input"),
                    errors=list(duplicate_errors),
                    result_path="$.duplicate",
                )
            action.add_catch(  # type: ignore[attr-defined]
                record, errors=[sfn.Errors.ALL], result_path="$.failure"
            )
            chain = sfn.Chain.start(action) if chain is None else chain.next(action)
        assert chain is not None
        return chain.next(sfn.Succeed(self, "Succeeded", state_name="Saga succeeded"))

    def _input_check(self, chain: sfn.Chain, required_input: Sequence[str]) -> sfn.IChainable:
        """A path a step reads that the input lacks fails the execution with States.Runtime,
        which no Catch sees: no compensation would run. Check before anything is done."""
        if not required_input:
            return chain
        present = [sfn.Condition.is_present(path) for path in required_input]
        return (
            sfn.Choice(self, "InputComplete", state_name="Saga input complete?")
            .when(present[0] if len(present) == 1 else sfn.Condition.and_(*present), chain)
            .otherwise(
                sfn.Fail(
                    self,
                    "InputIncomplete",
                    state_name="Saga input incomplete",
                    error="SagaInputIncomplete",
                    cause="The input must have " + ", ".join(required_input),
                )
            )
        )
