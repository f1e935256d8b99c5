"""Workflow: a Step Functions state machine with secure defaults; Saga: compensating steps."""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from aws_cdk import Annotations, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from constructs import Construct
from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core import state_machines as defaults
from serverless_patterns.core.apis import rest_api, validate_authorization
from serverless_patterns.core.buses import schedule_problem
from serverless_patterns.core.logs import log_group
from serverless_patterns.core.props import options_of
from serverless_patterns.core.queues import dead_letter_queue
from serverless_patterns.core.topics import validate_alarm_topic
from serverless_patterns.core.validation import Problems

#: Options of ``state_machine_props`` that have their own, validated option.
_DEDICATED_OPTIONS = {
    "definition": "definition",
    "definition_body": "definition",
    "definition_substitutions": "definition",
    "state_machine_type": "state_machine_type",
    "timeout": "timeout",
    "logs": "log_level / include_execution_data / existing_log_group",
    "encryption_configuration": "encryption_key",
}


@dataclass(frozen=True)
class _Options:
    """The options Workflow and Saga share (documented on :class:`Workflow`)."""

    state_machine_type: sfn.StateMachineType
    timeout: Duration | None
    log_level: sfn.LogLevel
    include_execution_data: bool
    existing_log_group: logs.ILogGroup | None
    encryption_key: kms.IKey | None
    state_machine_props: sfn.StateMachineProps | None
    trigger_pattern: events.EventPattern | None
    trigger_schedule: events.Schedule | None
    trigger_bus: events.IEventBus | None
    trigger_input: events.RuleTargetInput | None
    api: bool
    rest_api_props: apigw.RestApiProps | None
    authorizer: apigw.IAuthorizer | None
    authorization_type: apigw.AuthorizationType | None
    alarm_topic: sns.ITopic | None

    def validate(self, problems: Problems) -> None:
        validate_alarm_topic(problems, self.alarm_topic)
        if not isinstance(self.state_machine_type, sfn.StateMachineType):
            problems.add(
                "state_machine_type",
                self.state_machine_type,
                "use sfn.StateMachineType.STANDARD or EXPRESS",
            )
            return
        problems.expect("timeout", self.timeout, Duration, "a Duration, e.g. Duration.minutes(5)")
        if self.timeout is None or isinstance(self.timeout, Duration):
            defaults.validate_timeout(problems, self.timeout, self.state_machine_type)
        if self.trigger_schedule is not None:
            expected = "events.Schedule.cron(...) or .rate(...)"
            problems.expect("trigger_schedule", self.trigger_schedule, events.Schedule, expected)
            if isinstance(self.trigger_schedule, events.Schedule):
                expression = self.trigger_schedule.expression_string
                if problem := schedule_problem(expression):
                    problems.add("trigger_schedule", expression, problem)
        if not isinstance(self.log_level, sfn.LogLevel):
            problems.add("log_level", self.log_level, "use sfn.LogLevel.ALL, ERROR, FATAL or OFF")
        elif self.log_level == sfn.LogLevel.OFF:
            if self.existing_log_group is not None:
                problems.add("existing_log_group", "given", "log_level=OFF writes no logs: omit it")
            if self.include_execution_data:
                problems.add(
                    "include_execution_data", True, "log_level=OFF writes no logs: omit it"
                )
        for name in options_of(self.state_machine_props):
            if name in _DEDICATED_OPTIONS:
                problems.add(
                    f"state_machine_props.{name}",
                    "given",
                    f"use the {_DEDICATED_OPTIONS[name]} option instead",
                )
        has_trigger = self.trigger_pattern is not None or self.trigger_schedule is not None
        if self.trigger_bus is not None and self.trigger_pattern is None:
            problems.add("trigger_bus", "given", "give the trigger_pattern to match on it")
        if self.trigger_input is not None and not has_trigger:
            problems.add(
                "trigger_input", "given", "give trigger_pattern= or trigger_schedule= as well"
            )
        if not self.api:
            for option in ("rest_api_props", "authorizer", "authorization_type"):
                if getattr(self, option) is not None:
                    problems.add(option, "given", "it configures the API: set api=True as well")
        else:
            validate_authorization(problems, self.authorizer, self.authorization_type)

    @property
    def express(self) -> bool:
        return self.state_machine_type == defaults.EXPRESS


class Workflow(Construct):
    """A Step Functions state machine that runs your definition, safely by default.

    Build the definition with CDK's Step Functions API (tasks, Choice, Parallel, Map, Wait,
    Succeed, Fail); the Workflow logs, traces, times out, encrypts and watches it.

    Smallest use::

        Workflow(self, "Orders", definition=tasks.LambdaInvoke(self, "Ship", lambda_function=fn))

    :param definition: the first state or chain of the workflow.
    :param state_machine_type: ``STANDARD`` (exactly-once, up to a year, priced per state
        transition) or ``EXPRESS`` (at-least-once, up to 5 minutes, priced per request and
        duration; no ``.sync`` / callback tasks). Default: ``STANDARD``.
    :param timeout: the longest an execution may run. Default: 1 hour (Standard), 5 minutes
        (Express).
    :param log_level: what the state machine logs. Default: ``ALL`` (every state's entry and
        exit: what you need to follow a failed execution). ``OFF`` adds a synth warning.
    :param include_execution_data: also log each state's input and output. Default: False
        (they often hold personal or payment data; Standard executions keep them in their
        history for 90 days anyway).
    :param existing_log_group: your log group instead of a new one kept a month.
    :param encryption_key: a customer-managed KMS key that encrypts the definition, execution
        data and logged data. Default: a key AWS owns (encrypted, no key to pay for or manage).
    :param state_machine_props: overrides for the remaining defaults (``role``, ``comment``,
        ``tracing_enabled``, ``removal_policy``, ``state_machine_name``, ...).
    :param trigger_pattern: start an execution for every event matching this pattern
        (EventBridge rule; a failed start is retried with backoff for up to 6 hours, then the
        event goes to a dead-letter queue that has an alarm). Default: no rule.
    :param trigger_schedule: start an execution on this schedule (a second rule, with the same
        retries and dead-letter queue). Default: none.
    :param trigger_bus: the bus ``trigger_pattern`` listens on. Default: the account's
        default bus.
    :param trigger_input: what the triggered execution receives. Default: the whole event.
    :param api: add a REST API whose ``POST /`` starts an execution with input
        ``{"body": <request body>}``. Standard answers ``{"executionArn", "startDate"}`` at
        once; Express runs synchronously and answers the output. Default: False.
    :param rest_api_props: overrides for the API's defaults (see SyncApi).
    :param authorizer: a Cognito or Lambda authorizer for the API. Default: IAM (SigV4).
    :param authorization_type: as for SyncApi; ``NONE`` opens the API (with a warning).
    :param alarm_topic: an SNS topic that receives every alarm and its recovery.

    Attributes: ``state_machine``, ``log_group`` (None with ``log_level=OFF``), ``alarms``,
    ``rules`` (the trigger rules), ``dead_letter_queue`` (of the triggers, or None),
    ``api`` (or None).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        definition: sfn.IChainable,
        state_machine_type: sfn.StateMachineType = defaults.STANDARD,
        timeout: Duration | None = None,
        log_level: sfn.LogLevel = defaults.DEFAULT_LOG_LEVEL,
        include_execution_data: bool = False,
        existing_log_group: logs.ILogGroup | None = None,
        encryption_key: kms.IKey | None = None,
        state_machine_props: sfn.StateMachineProps | None = None,
        trigger_pattern: events.EventPattern | None = None,
        trigger_schedule: events.Schedule | None = None,
        trigger_bus: events.IEventBus | None = None,
        trigger_input: events.RuleTargetInput | None = None,
        api: bool = False,
        rest_api_props: apigw.RestApiProps | None = None,
        authorizer: apigw.IAuthorizer | None = None,
        authorization_type: apigw.AuthorizationType | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        options = _Options(
            state_machine_type=state_machine_type,
            timeout=timeout,
            log_level=log_level,
            include_execution_data=include_execution_data,
            existing_log_group=existing_log_group,
            encryption_key=encryption_key,
            state_machine_props=state_machine_props,
            trigger_pattern=trigger_pattern,
            trigger_schedule=trigger_schedule,
            trigger_bus=trigger_bus,
            trigger_input=trigger_input,
            api=api,
            rest_api_props=rest_api_props,
            authorizer=authorizer,
            authorization_type=authorization_type,
            alarm_topic=alarm_topic,
        )
        problems = Problems("Workflow")
        options.validate(problems)
        if not hasattr(definition, "start_state"):
            problems.add("definition", definition, "give the first state (or chain) to run")
            problems.raise_if_any()
        self._build(definition, options, problems)  # raises after checking the definition too

    def _build(
        self,
        definition: sfn.IChainable,
        options: _Options,
        problems: Problems,
        adjust: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """Render and check the definition, then create every resource."""
        timeout = options.timeout or defaults.DEFAULT_TIMEOUTS.get(options.state_machine_type)
        props = options.state_machine_props
        graph, asl = defaults.render(
            definition,
            f"{self.node.path} definition",
            query_language=props.query_language if props is not None else None,
        )
        if adjust is not None:
            adjust(asl)
        if options.express:
            defaults.validate_express(problems, asl)
        problems.raise_if_any()

        self.log_group: logs.ILogGroup | None = None
        if options.log_level != sfn.LogLevel.OFF:
            self.log_group = options.existing_log_group or log_group(self, "Logs")
        else:
            Annotations.of(self).add_warning_v2(
                "serverless-patterns:workflow-logs-off",
                "log_level=OFF: failed executions leave no logs to investigate"
                + (" and Express keeps no execution history." if options.express else "."),
            )
        assert timeout is not None
        self.state_machine: sfn.StateMachine = defaults.state_machine(
            self,
            "StateMachine",
            graph=graph,
            asl=asl,
            state_machine_type=options.state_machine_type,
            timeout=timeout,
            log_group=self.log_group,
            log_level=options.log_level,
            include_execution_data=options.include_execution_data,
            encryption_key=options.encryption_key,
            props=props,
        )
        self.alarms: list[cloudwatch.Alarm] = defaults.state_machine_alarms(
            self, "", self.state_machine, express=options.express
        )

        self.rules: list[events.Rule] = []
        self.dead_letter_queue: sqs.IQueue | None = None
        if options.trigger_pattern is not None or options.trigger_schedule is not None:
            self.dead_letter_queue = dead_letter_queue(self, "TriggerDeadLetterQueue")
            trigger_role = iam.Role(
                self,
                "TriggerRole",
                assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
                description="Lets EventBridge start executions of one state machine",
            )
            if options.encryption_key is not None:
                defaults.grant_key_use(options.encryption_key, trigger_role)
            for rule_id, pattern, schedule in (
                ("Trigger", options.trigger_pattern, None),
                ("Schedule", None, options.trigger_schedule),
            ):
                if pattern is None and schedule is None:
                    continue
                self.rules.append(
                    defaults.event_trigger(
                        self,
                        rule_id,
                        self.state_machine,
                        dead_letter_queue=self.dead_letter_queue,
                        role=trigger_role,
                        event_pattern=pattern,
                        schedule=schedule,
                        event_bus=options.trigger_bus if pattern is not None else None,
                        target_input=options.trigger_input,
                    )
                )
            self.alarms.append(
                alarm_defaults.dead_letter_queue_alarm(
                    self, "TriggerDeadLetters", self.dead_letter_queue
                )
            )

        self.api: apigw.RestApi | None = None
        if options.api:
            self.api = rest_api(
                self,
                "Api",
                props=options.rest_api_props,
                authorizer=options.authorizer,
                authorization_type=options.authorization_type,
            )
            api_role = iam.Role(
                self,
                "ApiRole",
                assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                description="Lets API Gateway start executions of one state machine",
            )
            if options.encryption_key is not None:
                defaults.grant_key_use(options.encryption_key, api_role)
            integration, method_responses = defaults.start_execution_integration(
                self.state_machine, role=api_role, express=options.express
            )
            self.api.root.add_method(
                "POST",
                integration,
                method_responses=method_responses,
                request_validator=self.api.add_request_validator(
                    "RequestValidator", validate_request_body=True
                ),
            )
            self.alarms.extend(alarm_defaults.rest_api_alarms(self, "Api", self.api))
        alarm_defaults.notify(self.alarms, options.alarm_topic)


# --- Saga -------------------------------------------------------------------------------------

_STEP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_INPUT_PATH = re.compile(r"^\$(\.[A-Za-z0-9_-]+)+$")
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
    action: sfn.State
    compensation: sfn.State | None = None
    retry: sfn.RetryProps | None = None
    compensate_on_failure: bool = False


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
        state_machine_type: sfn.StateMachineType = defaults.STANDARD,
        timeout: Duration | None = None,
        log_level: sfn.LogLevel = defaults.DEFAULT_LOG_LEVEL,
        include_execution_data: bool = False,
        existing_log_group: logs.ILogGroup | None = None,
        encryption_key: kms.IKey | None = None,
        state_machine_props: sfn.StateMachineProps | None = None,
        trigger_pattern: events.EventPattern | None = None,
        trigger_schedule: events.Schedule | None = None,
        trigger_bus: events.IEventBus | None = None,
        trigger_input: events.RuleTargetInput | None = None,
        api: bool = False,
        rest_api_props: apigw.RestApiProps | None = None,
        authorizer: apigw.IAuthorizer | None = None,
        authorization_type: apigw.AuthorizationType | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        Construct.__init__(self, scope, construct_id)
        options = _Options(
            state_machine_type=state_machine_type,
            timeout=timeout,
            log_level=log_level,
            include_execution_data=include_execution_data,
            existing_log_group=existing_log_group,
            encryption_key=encryption_key,
            state_machine_props=state_machine_props,
            trigger_pattern=trigger_pattern,
            trigger_schedule=trigger_schedule,
            trigger_bus=trigger_bus,
            trigger_input=trigger_input,
            api=api,
            rest_api_props=rest_api_props,
            authorizer=authorizer,
            authorization_type=authorization_type,
            alarm_topic=alarm_topic,
        )
        problems = Problems("Saga")
        problems.list_of("steps", steps, SagaStep)
        problems.raise_if_any()  # the checks below rely on a list
        steps = list(steps) if steps is not None else []
        _validate_steps(problems, steps)
        defaults.validate_retry(problems, "action_retry", action_retry)
        defaults.validate_retry(problems, "compensation_retry", compensation_retry)
        if isinstance(required_input, str):
            problems.add("required_input", required_input, "give a list of JSONPaths")
            required_input = [required_input]
        required_input = list(required_input or [])
        for path in required_input:
            if not isinstance(path, str) or not _INPUT_PATH.match(path):
                problems.add("required_input", path, "give JSONPaths such as '$.order_id'")
        duplicate_errors = _validate_duplicate_errors(problems, duplicate_errors)
        options.validate(problems)
        problems.raise_if_any()
        if steps[-1].compensation is not None and not steps[-1].compensate_on_failure:
            Annotations.of(self).add_warning_v2(
                "serverless-patterns:saga-last-compensation",
                f"steps[-1] ({steps[-1].name!r}) has a compensation that can never run: the "
                "saga has succeeded once its last step has. Remove it, or set "
                "compensate_on_failure=True if a failed action may leave effects.",
            )

        self.steps: Mapping[str, SagaStep] = MappingProxyType({s.name: s for s in steps})
        definition = self._definition(
            steps, action_retry, compensation_retry, required_input, duplicate_errors
        )
        self._build(definition, options, problems, adjust=lambda asl: _result_paths(asl, steps))

    def _definition(
        self,
        steps: Sequence[SagaStep],
        action_retry: sfn.RetryProps | None,
        compensation_retry: sfn.RetryProps | None,
        required_input: Sequence[str],
        duplicate_errors: Sequence[str],
    ) -> sfn.IChainable:
        """Actions in order; a failure enters the chain of compensations in reverse order."""
        failed = sfn.Fail(
            self,
            "Failed",
            state_name="Saga failed",
            error_path="$.failure.error",
            cause_path="$.failure.cause",
        )
        compensated: sfn.IChainable = failed
        compensations = [step for step in steps if step.compensation is not None]
        if compensations:
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
            compensated = (
                sfn.Choice(self, "Compensated", state_name="Every compensation succeeded?")
                .when(
                    sfn.Condition.is_present("$.compensation_errors"),
                    compensation_failed,
                )
                .otherwise(failed)
            )

        # Compensations in reverse step order, each continuing to the next one whatever
        # happens: a compensation that fails for good must not keep the others from running.
        compensation_retry_settings = defaults.retry_settings(
            defaults.COMPENSATION_RETRY, compensation_retry
        )
        entry: dict[int, sfn.IChainable] = {}  # step index -> what runs when it fails
        following = compensated
        for index, step in enumerate(steps):
            entry[index] = following  # the compensations of the steps before it
            if step.compensation is None:
                continue
            compensation = step.compensation
            compensation.add_retry(**compensation_retry_settings)  # type: ignore[attr-defined]
            compensation.add_catch(  # type: ignore[attr-defined]
                following,
                errors=[sfn.Errors.ALL],
                result_path=f"$.compensation_errors.{step.name}",
            )
            compensation.next(following)  # type: ignore[attr-defined]
            following = compensation
            if step.compensate_on_failure:
                entry[index] = compensation

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
                **defaults.retry_settings(
                    defaults.ACTION_RETRY,
                    _merged_retry(action_retry, step.retry),
                )
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
        chain = chain.next(sfn.Succeed(self, "Succeeded", state_name="Saga succeeded"))
        if not required_input:
            return chain
        # A path a step reads that the input lacks fails the execution with States.Runtime,
        # which no Catch sees: no compensation would run. Check before anything is done.
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


def _merged_retry(
    saga_level: sfn.RetryProps | None, step_level: sfn.RetryProps | None
) -> sfn.RetryProps | None:
    if saga_level is None or step_level is None:
        return step_level or saga_level
    return sfn.RetryProps(**{**options_of(saga_level), **options_of(step_level)})


def _validate_duplicate_errors(problems: Problems, errors: Sequence[str]) -> list[str]:
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


def _validate_steps(problems: Problems, steps: Sequence[SagaStep]) -> None:
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


def _result_paths(asl: dict[str, Any], steps: Sequence[SagaStep]) -> None:
    """Results go beside the input (``$.steps.<name>``), unless the state says otherwise."""
    states = asl["States"]
    for step in steps:
        for state, path in (
            (step.action, f"$.steps.{step.name}"),
            (step.compensation, f"$.compensations.{step.name}"),
        ):
            if state is not None:
                states[state.state_id].setdefault("ResultPath", path)
