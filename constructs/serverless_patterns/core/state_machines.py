"""Step Functions: logged, traced, time-limited, encrypted state machines, retries with backoff."""

from collections.abc import Iterator, Mapping
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from serverless_patterns.core.alarms import PERIOD, alarms
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.props import merge, options_of
from serverless_patterns.core.validation import Problems, is_token

STANDARD = sfn.StateMachineType.STANDARD
EXPRESS = sfn.StateMachineType.EXPRESS
#: A runaway Standard execution would otherwise run (and hold its resources) for a year.
DEFAULT_TIMEOUTS = {STANDARD: Duration.hours(1), EXPRESS: Duration.minutes(5)}
MAX_DURATIONS = {STANDARD: Duration.days(365), EXPRESS: Duration.minutes(5)}
DEFAULT_LOG_LEVEL = sfn.LogLevel.ALL

#: Errors that mean "the call did not happen, try again": Lambda's service errors and
#: throttling (AWS's Step Functions best practices) and DynamoDB's throttling. Not
#: ``States.Timeout`` nor ``DynamoDB.InternalServerError``: after those the work may have
#: been done. Add your own (e.g. a provider's outage) with ``errors=[*TRANSIENT_ERRORS, ...]``.
TRANSIENT_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.ThrottlingException",
)
#: Retries of a step's action: transient errors only, exponential backoff with full jitter.
ACTION_RETRY = sfn.RetryProps(
    errors=list(TRANSIENT_ERRORS),
    interval=Duration.seconds(1),
    max_attempts=3,
    backoff_rate=2,
    max_delay=Duration.seconds(10),
    jitter_strategy=sfn.JitterType.FULL,
)
#: Retries of a compensation: any error, longer. An undone step must be undone.
COMPENSATION_RETRY = sfn.RetryProps(
    errors=[sfn.Errors.ALL],
    interval=Duration.seconds(1),
    max_attempts=6,
    backoff_rate=2,
    max_delay=Duration.seconds(30),
    jitter_strategy=sfn.JitterType.FULL,
)
# ASL's own bounds for a retrier.
MAX_RETRY_ATTEMPTS = 99_999_999
MAX_RETRY_SECONDS = 99_999_999

_LAMBDA_INVOKE_ACTIONS = {"lambda:InvokeFunction"}


# --- validation ---------------------------------------------------------------------------


def seconds(duration: Duration) -> float | None:
    """``duration`` in seconds, or None when it is only known at deploy time."""
    value = duration.to_seconds(integral=False)
    return None if is_token(value) else value


def validate_timeout(
    problems: Problems, timeout: Duration | None, state_machine_type: sfn.StateMachineType
) -> None:
    if timeout is None or (value := seconds(timeout)) is None:
        return
    limit = MAX_DURATIONS[state_machine_type]
    if not 1 <= value <= limit.to_seconds() or value != int(value):
        problems.add(
            "timeout",
            f"{value:g}s",
            f"a {state_machine_type.value} execution runs from 1 second to "
            f"{limit.to_human_string()}, in whole seconds"
            + ("; use STANDARD for longer work" if state_machine_type == EXPRESS else ""),
        )


def validate_retry(problems: Problems, option: str, retry: sfn.RetryProps | None) -> None:
    """The retrier rules of the Amazon States Language, checked before deploy time."""
    if retry is None:
        return
    if not isinstance(retry, sfn.RetryProps):
        problems.add(option, retry, "use sfn.RetryProps(errors=..., interval=..., ...)")
        return
    if retry.errors is not None:
        errors = list(retry.errors)
        if not errors:
            problems.add(f"{option}.errors", errors, "name at least one error to retry")
        if sfn.Errors.ALL in errors and len(errors) > 1:
            problems.add(f"{option}.errors", errors, "States.ALL must be the only error listed")
    attempts = retry.max_attempts
    if attempts is not None and not is_token(attempts) and not 0 <= attempts <= MAX_RETRY_ATTEMPTS:
        problems.add(f"{option}.max_attempts", attempts, "must be 0 (no retry) or more")
    rate = retry.backoff_rate
    if rate is not None and not is_token(rate) and rate < 1:
        problems.add(f"{option}.backoff_rate", rate, "must be 1.0 or more")
    interval = seconds(retry.interval) if retry.interval is not None else None
    if interval is not None and (
        not 1 <= interval <= MAX_RETRY_SECONDS or interval != int(interval)
    ):
        problems.add(f"{option}.interval", f"{interval:g}s", "must be whole seconds, at least 1")
    max_delay = seconds(retry.max_delay) if retry.max_delay is not None else None
    if max_delay is not None:
        floor = interval if interval is not None else 1
        if not floor <= max_delay <= MAX_RETRY_SECONDS or max_delay != int(max_delay):
            problems.add(
                f"{option}.max_delay",
                f"{max_delay:g}s",
                f"must be whole seconds, at least the interval ({floor:g}s)",
            )


def retry_settings(defaults: sfn.RetryProps, override: sfn.RetryProps | None) -> dict[str, Any]:
    """``defaults`` with every field set on ``override`` taking precedence."""
    return merge(options_of(defaults), override)


def _walk(states: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state of an ASL ``States`` map, including those in Parallel branches and Maps."""
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _walk(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _walk(state[key]["States"])


def validate_express(problems: Problems, asl: Mapping[str, Any]) -> None:
    """What an Express state machine cannot run: callbacks, ``.sync`` jobs, waits past 5 min."""
    limit = MAX_DURATIONS[EXPRESS].to_seconds()
    for name, state in _walk(asl["States"]):
        resource = state.get("Resource")
        if isinstance(resource, str):
            for suffix, what in ((".sync", "run a job (.sync)"), (".waitForTaskToken", "wait")):
                if suffix in resource:
                    problems.add(
                        "definition",
                        name,
                        f"an EXPRESS state machine cannot {what} for a task: use "
                        "IntegrationPattern.REQUEST_RESPONSE or state_machine_type=STANDARD",
                    )
        wait = state.get("Seconds")
        if state.get("Type") == "Wait" and isinstance(wait, int | float) and wait > limit:
            problems.add(
                "definition",
                name,
                f"waits {wait:g}s but an EXPRESS execution ends after {limit:g}s; "
                "use state_machine_type=STANDARD",
            )


# --- building -------------------------------------------------------------------------------


def render(
    definition: sfn.IChainable,
    description: str,
    *,
    query_language: sfn.QueryLanguage | None = None,
) -> tuple[sfn.StateGraph, dict[str, Any]]:
    """The state graph of ``definition`` and its Amazon States Language, still with tokens.

    What ``DefinitionBody.from_chainable`` does inside the state machine, done before it so
    the ASL can be checked (and adjusted) first; :func:`state_machine` finishes the job and
    adds the timeout.
    """
    graph = sfn.StateGraph(definition.start_state, description)
    asl = dict(graph.to_graph_json(query_language))
    return graph, asl


def grant_key_use(key: kms.IKey, grantee: iam.IGrantable) -> None:
    """Let ``grantee`` use ``key`` for Step Functions data, and for nothing else.

    Starting (or running) an execution of a state machine encrypted with a customer-managed
    key needs ``kms:GenerateDataKey`` and ``kms:Decrypt`` under the encryption context
    ``aws:states:stateMachineArn``. CDK's own grant to the state machine's role names the
    machine in that context, which only works for a machine with a physical name (without
    one it renders ``...:stateMachine:`` and never matches): this grant matches any state
    machine of the account instead. The role is still only assumable by its state machine.
    """
    stack = Stack.of(key)
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resource_arns=[key.key_arn],
        conditions={
            "StringLike": {
                "kms:EncryptionContext:aws:states:stateMachineArn": stack.format_arn(
                    service="states",
                    resource="stateMachine",
                    resource_name="*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            }
        },
    )


def state_machine(
    scope: Construct,
    construct_id: str,
    *,
    graph: sfn.StateGraph,
    asl: Mapping[str, Any],
    state_machine_type: sfn.StateMachineType,
    timeout: Duration,
    log_group: logs.ILogGroup | None,
    log_level: sfn.LogLevel,
    include_execution_data: bool,
    encryption_key: kms.IKey | None,
    props: sfn.StateMachineProps | None = None,
) -> sfn.StateMachine:
    """A state machine running ``asl`` with the library's defaults; ``props`` override any.

    Defaults: X-Ray tracing, logging at ``log_level`` to ``log_group`` (execution data only
    when asked: inputs and outputs often hold personal data), the ``timeout``, encryption with
    an AWS-owned key or with ``encryption_key``, and a role that may do only what the states
    need (the permissions CDK's task constructs declare).
    """
    settings = merge(
        {
            "state_machine_type": state_machine_type,
            "timeout": timeout,
            "tracing_enabled": True,
            "logs": sfn.LogOptions(
                destination=log_group,
                level=log_level,
                include_execution_data=include_execution_data,
            ),
            "encryption_configuration": (
                sfn.CustomerManagedEncryptionConfiguration(encryption_key)
                if encryption_key is not None
                else sfn.AwsOwnedEncryptionConfiguration()
            ),
        },
        props,
    )
    body = {**asl, "TimeoutSeconds": timeout.to_seconds()}
    if settings.get("comment"):
        body["Comment"] = settings["comment"]
    if settings.get("query_language"):
        body["QueryLanguage"] = settings["query_language"].value
    machine = sfn.StateMachine(
        scope,
        construct_id,
        definition_body=sfn.DefinitionBody.from_string(Stack.of(scope).to_json_string(body)),
        **settings,
    )
    for statement in graph.policy_statements:
        machine.add_to_role_policy(statement)
    graph.bind(machine)
    if encryption_key is not None:
        grant_key_use(encryption_key, machine)
    if "role" not in settings:
        _acknowledge_role(machine, graph, settings)
    return machine


def _acknowledge_role(
    machine: sfn.StateMachine, graph: sfn.StateGraph, settings: Mapping[str, Any]
) -> None:
    if settings["tracing_enabled"] or settings["logs"].level != sfn.LogLevel.OFF:
        justify(machine.role, "no-resource-level-permissions")
    stack = Stack.of(machine)
    for statement in graph.policy_statements:
        rendered = stack.resolve(statement.to_statement_json())
        actions = rendered.get("Action", [])
        if set([actions] if isinstance(actions, str) else actions) != _LAMBDA_INVOKE_ACTIONS:
            continue
        resources = rendered.get("Resource", [])
        for resource in [resources] if isinstance(resources, dict) else resources:
            function = _function_versions(resource)
            if function is not None:
                justify(
                    machine.role, "function-versions", finding=f"[Resource::<{function}.Arn>:*]"
                )


def _function_versions(resource: Any) -> str | None:
    """The logical id of ``X`` in ``{"Fn::Join": ["", [{"Fn::GetAtt": [X, "Arn"]}, ":*"]]}``."""
    if not isinstance(resource, dict) or "Fn::Join" not in resource:
        return None
    parts = resource["Fn::Join"][1]
    if len(parts) == 2 and parts[1] == ":*" and isinstance(parts[0], dict):
        get_att = parts[0].get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att[1] == "Arn":
            return str(get_att[0])
    return None


def state_machine_alarms(
    scope: Construct, construct_id: str, machine: sfn.StateMachine, *, express: bool
) -> list[cloudwatch.Alarm]:
    """Failed, timed-out, throttled and (Standard only) aborted executions of ``machine``.

    Express executions cannot be stopped (StopExecution is Standard-only), so they are never
    aborted: an alarm on that metric would never fire.
    """
    watched = [
        (
            "ExecutionsFailed",
            machine.metric_failed(period=PERIOD, statistic="Sum"),
            "Executions failed: open the failed execution (or its logs) for the error.",
        ),
        (
            "ExecutionsTimedOut",
            machine.metric_timed_out(period=PERIOD, statistic="Sum"),
            "Executions timed out: a step hangs, or the timeout is too short.",
        ),
        (
            "ExecutionThrottled",
            machine.metric_throttled(period=PERIOD, statistic="Sum"),
            "Executions were throttled: starts exceed the account's Step Functions quota.",
        ),
    ]
    if not express:
        watched.append(
            (
                "ExecutionsAborted",
                machine.metric_aborted(period=PERIOD, statistic="Sum"),
                "Executions were stopped (aborted) before finishing: check who stopped them.",
            )
        )
    return alarms(scope, construct_id, watched)
