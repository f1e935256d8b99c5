"""Workflow: a Step Functions state machine with secure defaults."""

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
from serverless_patterns.core.apis import rest_api
from serverless_patterns.core.buses import event_trigger
from serverless_patterns.core.integrations import start_execution_integration
from serverless_patterns.core.logs import log_group
from serverless_patterns.core.queues import dead_letter_queue
from serverless_patterns.core.validation import Problems
from serverless_patterns.workflow.options import WorkflowOptions


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
    ``rules`` (the trigger rules: ``"pattern"`` / ``"schedule"`` -> rule), ``dead_letter_queue``
    (of the triggers, or None), ``api`` (or None).
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
        options = WorkflowOptions(
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
        problems = Problems(type(self).__name__)
        buildable = self._validate_definition(problems, definition)
        options.validate(problems)
        if not buildable:
            problems.raise_if_any()
        graph, asl = defaults.render(
            self._definition(definition),
            f"{self.node.path} definition",
            query_language=state_machine_props.query_language if state_machine_props else None,
        )
        self._adjust(asl)
        if options.express:
            defaults.validate_express(problems, asl)
        problems.raise_if_any()
        self._add_state_machine(graph, asl, options)
        self._add_triggers(options)
        self._add_api(options)
        alarm_defaults.notify(self.alarms, options.alarm_topic)

    # --- the hooks a Saga overrides: what the definition is -------------------------------

    def _validate_definition(self, problems: Problems, definition: Any) -> bool:
        """Check ``definition``; True if :meth:`_definition` can build from it."""
        if not hasattr(definition, "start_state"):
            problems.add("definition", definition, "give the first state (or chain) to run")
            return False
        return True

    def _definition(self, definition: Any) -> sfn.IChainable:
        """The first state (or chain) to run, built from the validated ``definition``."""
        return definition

    def _adjust(self, asl: dict[str, Any]) -> None:
        """Change the rendered Amazon States Language before it is checked and deployed."""

    # --- building ---------------------------------------------------------------------------

    def _add_state_machine(
        self, graph: sfn.StateGraph, asl: dict[str, Any], options: WorkflowOptions
    ) -> None:
        self.log_group: logs.ILogGroup | None = None
        if options.log_level != sfn.LogLevel.OFF:
            self.log_group = options.existing_log_group or log_group(self, "Logs")
        else:
            Annotations.of(self).add_warning_v2(
                "serverless-patterns:workflow-logs-off",
                "log_level=OFF: failed executions leave no logs to investigate"
                + (" and Express keeps no execution history." if options.express else "."),
            )
        timeout = options.timeout or defaults.DEFAULT_TIMEOUTS[options.state_machine_type]
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
            props=options.state_machine_props,
        )
        self.alarms: list[cloudwatch.Alarm] = defaults.state_machine_alarms(
            self, "", self.state_machine, express=options.express
        )

    def _add_triggers(self, options: WorkflowOptions) -> None:
        """One rule per trigger, both retrying into one alarmed dead-letter queue."""
        self.rules: dict[str, events.Rule] = {}
        self.dead_letter_queue: sqs.IQueue | None = None
        if not options.triggered:
            return
        self.dead_letter_queue = dead_letter_queue(self, "TriggerDeadLetterQueue")
        role = self._service_role(
            "TriggerRole", "events.amazonaws.com", "Lets EventBridge start executions", options
        )
        for name, rule_id, pattern, schedule in (
            ("pattern", "Trigger", options.trigger_pattern, None),
            ("schedule", "Schedule", None, options.trigger_schedule),
        ):
            if pattern is None and schedule is None:
                continue
            self.rules[name] = event_trigger(
                self,
                rule_id,
                self.state_machine,
                dead_letter_queue=self.dead_letter_queue,
                role=role,
                event_pattern=pattern,
                schedule=schedule,
                event_bus=options.trigger_bus if pattern is not None else None,
                target_input=options.trigger_input,
            )
        self.alarms.append(
            alarm_defaults.dead_letter_queue_alarm(
                self, "TriggerDeadLetters", self.dead_letter_queue
            )
        )

    def _add_api(self, options: WorkflowOptions) -> None:
        self.api: apigw.RestApi | None = None
        if not options.api:
            return
        self.api = rest_api(
            self,
            "Api",
            props=options.rest_api_props,
            authorizer=options.authorizer,
            authorization_type=options.authorization_type,
        )
        role = self._service_role(
            "ApiRole", "apigateway.amazonaws.com", "Lets API Gateway start executions", options
        )
        integration, method_responses = start_execution_integration(
            self.state_machine, role=role, express=options.express
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

    def _service_role(
        self, construct_id: str, service: str, does: str, options: WorkflowOptions
    ) -> iam.Role:
        """A role ``service`` assumes to start executions (and use the key, if any)."""
        role = iam.Role(
            self,
            construct_id,
            assumed_by=iam.ServicePrincipal(service),
            description=f"{does} of one state machine",
        )
        if options.encryption_key is not None:
            defaults.grant_key_use(options.encryption_key, role)
        return role
