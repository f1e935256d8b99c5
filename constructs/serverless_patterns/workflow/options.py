"""The options every Workflow has (a Saga too), declared and validated once."""

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn

from serverless_patterns.core import state_machines as defaults
from serverless_patterns.core.apis import validate_authorization
from serverless_patterns.core.props import options_of
from serverless_patterns.core.schedules import schedule_problem
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
class WorkflowOptions:
    """The options of every :class:`Workflow` (and so of a Saga), documented there."""

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
        self._validate_timing(problems)
        self._validate_logs(problems)
        for name in options_of(self.state_machine_props):
            if name in _DEDICATED_OPTIONS:
                problems.add(
                    f"state_machine_props.{name}",
                    "given",
                    f"use the {_DEDICATED_OPTIONS[name]} option instead",
                )
        self._validate_starts(problems)

    def _validate_timing(self, problems: Problems) -> None:
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

    def _validate_logs(self, problems: Problems) -> None:
        if not isinstance(self.log_level, sfn.LogLevel):
            problems.add("log_level", self.log_level, "use sfn.LogLevel.ALL, ERROR, FATAL or OFF")
        elif self.log_level == sfn.LogLevel.OFF:
            if self.existing_log_group is not None:
                problems.add("existing_log_group", "given", "log_level=OFF writes no logs: omit it")
            if self.include_execution_data:
                problems.add(
                    "include_execution_data", True, "log_level=OFF writes no logs: omit it"
                )

    def _validate_starts(self, problems: Problems) -> None:
        """What starts an execution: the triggers and the API."""
        if self.trigger_bus is not None and self.trigger_pattern is None:
            problems.add("trigger_bus", "given", "give the trigger_pattern to match on it")
        if self.trigger_input is not None and not self.triggered:
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
    def triggered(self) -> bool:
        return self.trigger_pattern is not None or self.trigger_schedule is not None

    @property
    def express(self) -> bool:
        return self.state_machine_type == defaults.EXPRESS
