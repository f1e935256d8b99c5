"""Workflow and Saga: the properties that matter, bring-your-own and overrides, validation."""

import json
import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.assertions import Annotations, Match
from serverless_patterns import Saga, SagaStep, Workflow

from tests.support.cdk import new_app, only, resources
from tests.support.emulation.intrinsics import Resolver
from tests.workflow.conftest import build_logs_off, hello, task

STEPS = ["RecordOrder", "ReserveInventory", "ChargePayment", "CreateShipment", "ConfirmOrder"]
COMPENSATIONS = {
    "RecordOrder": "CancelOrder",
    "ReserveInventory": "ReleaseInventory",
    "ChargePayment": "RefundPayment",
    "CreateShipment": "CancelShipment",
}
#: What a step's action retries, written out: Lambda's service errors and throttling ("Handle
#: transient Lambda service exceptions", step-functions/latest/dg/bp-lambda-serviceexception.html)
#: and DynamoDB's throttling ("Error handling with DynamoDB",
#: amazondynamodb/latest/developerguide/Programming.Errors.html).
RETRIED_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.ThrottlingException",
]
#: What Step Functions needs "*" for: log delivery and X-Ray (no resource-level permissions).
WILDCARD_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
}


def machine(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::StepFunctions::StateMachine")


def asl(template: dict[str, Any]) -> dict[str, Any]:
    """The state machine's definition, as Step Functions would read it."""
    return json.loads(Resolver(template)(machine(template)[1]["DefinitionString"]))


def statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the one role whose id starts so."""
    [role_id] = [k for k in resources(template, "AWS::IAM::Role") if k.startswith(role_prefix)]
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Roles"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def grants(template: dict[str, Any], role_prefix: str) -> dict[str, list[str]]:
    """``{action: [resource, ...]}`` for one role, resources rendered as JSON text."""
    found: dict[str, list[str]] = {}
    for statement in statements(template, role_prefix):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        targets = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for target in [targets] if not isinstance(targets, list) else targets:
                found.setdefault(action, []).append(json.dumps(target))
    return found


def alarm_metrics(template: dict[str, Any]) -> list[str]:
    return sorted(a["MetricName"] for a in resources(template, "AWS::CloudWatch::Alarm").values())


@pytest.fixture(scope="module")
def saga(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["OrderSaga"]


# --- the reference stack ------------------------------------------------------------------


def test_state_machine_logs_everything_traces_and_is_encrypted(saga: dict[str, Any]) -> None:
    _, props = machine(saga)
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["EncryptionConfiguration"] == {"Type": "AWS_OWNED_KEY"}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is False
    logs_id, group = only(saga_without_functions(saga), "AWS::Logs::LogGroup")
    assert logging["Destinations"] == [
        {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": [logs_id, "Arn"]}}}
    ]
    assert group["RetentionInDays"] == 30
    assert saga["Resources"][logs_id]["DeletionPolicy"] == "Retain"
    assert "StateMachineName" not in props  # no physical names


def saga_without_functions(template: dict[str, Any]) -> dict[str, Any]:
    """The template minus the payment function's own log group."""
    return {
        "Resources": {
            k: v for k, v in template["Resources"].items() if not k.startswith("PaymentFunction")
        }
    }


def test_executions_time_out_after_an_hour(saga: dict[str, Any]) -> None:
    assert asl(saga)["TimeoutSeconds"] == 3600


def test_alarms_on_failed_timed_out_throttled_aborted_and_dead_lettered(
    saga: dict[str, Any],
) -> None:
    assert alarm_metrics(saga) == [
        "ApproximateNumberOfMessagesVisible",
        "ExecutionThrottled",
        "ExecutionsAborted",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
    ]
    machine_id, _ = machine(saga)
    for alarm in resources(saga, "AWS::CloudWatch::Alarm").values():
        assert alarm["Threshold"] == 1 and alarm["TreatMissingData"] == "notBreaching"
        if alarm["Namespace"] == "AWS/States":
            assert alarm["Dimensions"] == [
                {"Name": "StateMachineArn", "Value": {"Ref": machine_id}}
            ]
            assert alarm["Statistic"] == "Sum"


def test_steps_that_only_write_a_table_are_direct_dynamodb_integrations(
    saga: dict[str, Any],
) -> None:
    states = asl(saga)["States"]
    resource = {name: states[name]["Resource"] for name in [*STEPS, *COMPENSATIONS.values()]}
    assert resource == {
        "RecordOrder": "arn:aws:states:::dynamodb:putItem",
        "CancelOrder": "arn:aws:states:::dynamodb:updateItem",
        "ReserveInventory": "arn:aws:states:::dynamodb:updateItem",
        "ReleaseInventory": "arn:aws:states:::dynamodb:updateItem",
        "ChargePayment": "arn:aws:states:::lambda:invoke",
        "RefundPayment": "arn:aws:states:::lambda:invoke",
        "CreateShipment": "arn:aws:states:::dynamodb:putItem",
        "CancelShipment": "arn:aws:states:::dynamodb:updateItem",
        "ConfirmOrder": "arn:aws:states:::dynamodb:updateItem",
    }
    assert len(resources(saga, "AWS::Lambda::Function")) == 1  # the payment logic only


def test_every_action_retries_transient_errors_with_backoff_then_is_caught(
    saga: dict[str, Any],
) -> None:
    states = asl(saga)["States"]
    for name in STEPS:
        [retry] = states[name]["Retry"]
        expected = [*RETRIED_ERRORS, "PaymentProviderUnavailable"]
        assert retry["ErrorEquals"] == (expected if name == "ChargePayment" else expected[:-1])
        assert retry["IntervalSeconds"] == 1 and retry["MaxAttempts"] == 3
        assert retry["BackoffRate"] == 2 and retry["MaxDelaySeconds"] == 10
        assert retry["JitterStrategy"] == "FULL"
        duplicate = [
            {
                "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                "ResultPath": "$.duplicate",
                "Next": "Saga skipped: duplicate input",
            }
        ]
        assert states[name]["Catch"] == [
            *(duplicate if name == "RecordOrder" else []),
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": f"{name} failed"},
        ]
        recorded = states[f"{name} failed"]
        assert recorded["Parameters"]["step"] == name
        assert recorded["Parameters"]["error"] == f"{name}Failed"


def test_a_failure_enters_the_compensations_of_completed_steps_in_reverse_order(
    saga: dict[str, Any],
) -> None:
    states = asl(saga)["States"]

    def path_from(name: str) -> list[str]:
        visited = []
        while states[name]["Type"] not in {"Choice", "Fail"}:
            name = states[name]["Next"]
            visited.append(name)
        return visited

    choice = "Every compensation succeeded?"
    assert path_from("RecordOrder failed") == [choice]
    assert path_from("ReserveInventory failed") == ["CancelOrder", choice]
    # ChargePayment compensates itself too (compensate_on_failure: a charge may have happened).
    undo_charge = ["RefundPayment", "ReleaseInventory", "CancelOrder", choice]
    assert path_from("ChargePayment failed") == undo_charge
    assert path_from("CreateShipment failed") == undo_charge
    assert path_from("ConfirmOrder failed") == ["CancelShipment", *undo_charge]
    # A duplicate (the order id was claimed before) ends at once, nothing done or undone.
    assert states["Saga skipped: duplicate input"] == {"Type": "Succeed"}
    assert states[choice]["Choices"] == [
        {
            "Variable": "$.compensation_errors",
            "IsPresent": True,
            "Next": "Saga failed, compensation incomplete",
        }
    ]
    assert states[choice]["Default"] == "Saga failed"
    assert states["Saga failed"] == {
        "Type": "Fail",
        "ErrorPath": "$.failure.error",
        "CausePath": "$.failure.cause",
    }
    assert states["ConfirmOrder"]["Next"] == "Saga succeeded"
    assert states["Saga succeeded"] == {"Type": "Succeed"}


def test_each_compensation_retries_any_error_and_never_stops_the_others(
    saga: dict[str, Any],
) -> None:
    states = asl(saga)["States"]
    for step, name in COMPENSATIONS.items():
        [retry] = states[name]["Retry"]
        assert retry["ErrorEquals"] == ["States.ALL"]
        assert retry["MaxAttempts"] == 6 and retry["BackoffRate"] == 2
        [catch] = states[name]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert catch["ResultPath"] == f"$.compensation_errors.{step}"
        assert catch["Next"] == states[name]["Next"]


def test_the_input_is_checked_for_every_path_a_step_reads_before_any_step(
    saga: dict[str, Any],
) -> None:
    definition = asl(saga)
    check = definition["States"][definition["StartAt"]]
    assert definition["StartAt"] == "Saga input complete?" and check["Type"] == "Choice"
    [when] = check["Choices"]
    assert when["Next"] == "RecordOrder"
    paths = [condition["Variable"] for condition in when["And"]]
    assert all(condition["IsPresent"] is True for condition in when["And"])
    steps_json = json.dumps([definition["States"][step] for step in STEPS])
    read = set(re.findall(r"\$\.[a-z_]+", steps_json))
    assert read - {"$.failure", "$.steps", "$.duplicate"} == set(paths)
    assert definition["States"][check["Default"]] == {
        "Type": "Fail",
        "Error": "SagaInputIncomplete",
        "Cause": "The input must have " + ", ".join(paths),
    }


def test_results_go_beside_the_input(saga: dict[str, Any]) -> None:
    states = asl(saga)["States"]
    for step in STEPS:
        assert states[step]["ResultPath"] == f"$.steps.{step}"
    for step, name in COMPENSATIONS.items():
        assert states[name]["ResultPath"] == f"$.compensations.{step}"


def test_state_machine_role_reaches_only_the_tables_and_function_its_steps_use(
    saga: dict[str, Any],
) -> None:
    tables = {
        k.rstrip("0123456789ABCDEF"): k for k in resources(saga, "AWS::DynamoDB::GlobalTable")
    }
    [function_id] = resources(saga, "AWS::Lambda::Function")
    found = grants(saga, "OrderSagaStateMachineRole")
    wildcard = {action for action, targets in found.items() if '"*"' in targets}
    assert wildcard == WILDCARD_ACTIONS

    def table_names(action: str) -> set[str]:
        return {
            name for name, logical_id in tables.items() for t in found[action] if logical_id in t
        }

    assert table_names("dynamodb:UpdateItem") == {"Inventory", "Orders", "Shipments"}
    assert table_names("dynamodb:PutItem") == {"Orders", "Shipments"}
    assert {a for a in found if a.startswith("dynamodb:")} == {
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
    }
    assert all(function_id in target for target in found["lambda:InvokeFunction"])
    assert set(found) == WILDCARD_ACTIONS | {
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
        "lambda:InvokeFunction",
    }
    [trust] = only(
        {"Resources": {k: v for k, v in saga["Resources"].items() if "StateMachineRole" in k}},
        "AWS::IAM::Role",
    )[1]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}


def test_payment_function_reaches_only_the_payments_table(saga: dict[str, Any]) -> None:
    [payments_id] = [k for k in resources(saga, "AWS::DynamoDB::GlobalTable") if "Payments" in k]
    found = grants(saga, "PaymentFunctionRole")
    for action, targets in found.items():
        if action.startswith("dynamodb:"):
            assert all(payments_id in target for target in targets), action
    assert "dynamodb:PutItem" in found and "dynamodb:UpdateItem" in found


def test_order_placed_events_start_executions_with_retries_and_a_dead_letter_queue(
    saga: dict[str, Any],
) -> None:
    _, rule = only(saga, "AWS::Events::Rule")
    assert rule["EventPattern"] == {
        "source": ["com.example.orders"],
        "detail-type": ["OrderPlaced"],
    }
    assert "EventBusName" not in rule  # the default bus
    machine_id, _ = machine(saga)
    queue_id, queue = only(saga, "AWS::SQS::Queue")
    [target] = rule["Targets"]
    assert target["Arn"] == {"Ref": machine_id}
    assert target["InputPath"] == "$.detail"
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 21600}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    assert grants(saga, role_id) == {"states:StartExecution": [json.dumps({"Ref": machine_id})]}
    [_, policy] = only(saga, "AWS::SQS::QueuePolicy")
    [send] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert send["Action"] == "sqs:SendMessage"
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0].startswith(
        "OrderSagaTrigger"
    )


# --- variants: defaults, Express, keys, overrides, triggers --------------------------------


def test_defaults_are_standard_one_hour_logged_traced_aws_owned_key(
    variants: dict[str, dict[str, Any]],
) -> None:
    template = variants["Minimal"]
    _, props = machine(template)
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["EncryptionConfiguration"] == {"Type": "AWS_OWNED_KEY"}
    assert asl(template)["TimeoutSeconds"] == 3600
    assert alarm_metrics(template) == [
        "ExecutionThrottled",
        "ExecutionsAborted",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
    ]
    assert resources(template, "AWS::Events::Rule") == {}
    assert resources(template, "AWS::ApiGateway::RestApi") == {}


def test_express_lasts_five_minutes_has_no_aborted_alarm_and_answers_the_api_in_sync(
    variants: dict[str, dict[str, Any]],
) -> None:
    template = variants["Express"]
    machine_id, props = machine(template)
    assert props["StateMachineType"] == "EXPRESS"
    assert asl(template)["TimeoutSeconds"] == 300
    assert alarm_metrics(template) == [
        "5XXError",
        "ExecutionThrottled",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
    ]
    _, method = only(template, "AWS::ApiGateway::Method")
    assert method["HttpMethod"] == "POST" and method["AuthorizationType"] == "AWS_IAM"
    assert "states:action/StartSyncExecution" in json.dumps(method["Integration"]["Uri"])
    role_id = method["Integration"]["Credentials"]["Fn::GetAtt"][0]
    assert grants(template, role_id) == {
        "states:StartSyncExecution": [json.dumps({"Ref": machine_id})]
    }


def test_standard_api_starts_an_execution_with_the_body_as_input(
    variants: dict[str, dict[str, Any]],
) -> None:
    template = variants["Triggers"]
    machine_id, _ = machine(template)
    _, method = only(template, "AWS::ApiGateway::Method")
    integration = method["Integration"]
    assert integration["Type"] == "AWS" and integration["PassthroughBehavior"] == "NEVER"
    assert "states:action/StartExecution" in json.dumps(integration["Uri"])
    # What the request template renders to: test_start_execution_template.py.
    assert set(integration["RequestTemplates"]) == {"application/json"}
    assert [r["StatusCode"] for r in method["MethodResponses"]] == ["200", "400", "500"]
    role_id = integration["Credentials"]["Fn::GetAtt"][0]
    assert grants(template, role_id) == {"states:StartExecution": [json.dumps({"Ref": machine_id})]}
    _, stage = only(template, "AWS::ApiGateway::Stage")
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == 5  # rest_api_props override


def test_pattern_and_schedule_triggers_share_one_dead_letter_queue(
    variants: dict[str, dict[str, Any]],
) -> None:
    template = variants["Triggers"]
    rules = resources(template, "AWS::Events::Rule")
    [bus_id] = resources(template, "AWS::Events::EventBus")
    queue_id, _ = only(template, "AWS::SQS::Queue")
    by_kind = {("schedule" if "ScheduleExpression" in r else "pattern"): r for r in rules.values()}
    assert by_kind["pattern"]["EventBusName"] == {"Ref": bus_id}
    assert by_kind["schedule"]["ScheduleExpression"] == "rate(1 hour)"
    assert "EventBusName" not in by_kind["schedule"]  # schedules run on the default bus
    for rule in rules.values():
        [target] = rule["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        assert target["InputPath"] == "$.detail"
    assert "ApproximateNumberOfMessagesVisible" in alarm_metrics(template)


def test_customer_key_encrypts_and_every_starter_may_use_it(
    variants: dict[str, dict[str, Any]],
) -> None:
    template = variants["CustomerKey"]
    [key_id] = resources(template, "AWS::KMS::Key")
    _, props = machine(template)
    assert props["EncryptionConfiguration"] == {
        "Type": "CUSTOMER_MANAGED_KMS_KEY",
        "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
        "KmsDataKeyReusePeriodSeconds": 300,
    }
    context = {
        "StringLike": {
            "kms:EncryptionContext:aws:states:stateMachineArn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":states:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":stateMachine:*",
                    ],
                ]
            }
        }
    }
    for role in ("FlowStateMachineRole", "FlowTriggerRole", "FlowApiRole"):
        [use] = [s for s in statements(template, role) if s.get("Condition") == context]
        assert use["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"], role
        assert use["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}, role


def test_overrides_change_only_what_they_name(variants: dict[str, dict[str, Any]]) -> None:
    template = variants["Overrides"]
    [group_id] = resources(template, "AWS::Logs::LogGroup")  # the user's; none created
    assert group_id.startswith("Mine")
    _, props = machine(template)
    assert props["LoggingConfiguration"] == {
        "Destinations": [
            {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": [group_id, "Arn"]}}}
        ],
        "IncludeExecutionData": True,
        "Level": "ERROR",
    }
    assert props["TracingConfiguration"] == {"Enabled": True}
    definition = asl(template)
    assert definition["TimeoutSeconds"] == 1800 and definition["Comment"] == "Says hello"
    [topic_id] = resources(template, "AWS::SNS::Topic")
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 4
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["OKActions"] == [{"Ref": topic_id}]


def test_logs_off_creates_no_log_group_and_warns(variants: dict[str, dict[str, Any]]) -> None:
    template = variants["LogsOff"]
    assert resources(template, "AWS::Logs::LogGroup") == {}
    _, props = machine(template)
    assert props["LoggingConfiguration"] == {"Level": "OFF", "IncludeExecutionData": False}
    stack = Stack(new_app(), "LogsOffAlone")
    build_logs_off(stack)
    Annotations.from_stack(stack).has_warning(
        "/LogsOffAlone/Flow", Match.string_like_regexp("log_level=OFF: failed executions")
    )


def test_saga_retry_overrides_merge_and_a_result_path_the_user_set_stays(
    variants: dict[str, dict[str, Any]],
) -> None:
    states = asl(variants["FailingCompensation"])["States"]
    [action_retry] = states["PutSecond"]["Retry"]
    assert action_retry == {
        "ErrorEquals": RETRIED_ERRORS,
        "IntervalSeconds": 1,
        "MaxAttempts": 2,
        "BackoffRate": 1.5,
        "MaxDelaySeconds": 10,
        "JitterStrategy": "FULL",
    }
    [compensation_retry] = states["DeleteSecond"]["Retry"]
    assert compensation_retry["MaxAttempts"] == 1
    assert compensation_retry["ErrorEquals"] == ["States.ALL"]
    assert states["PutFirst"]["ResultPath"] is None  # sfn.JsonPath.DISCARD, as given
    assert states["PutSecond"]["ResultPath"] == "$.steps.Second"


def test_saga_exposes_its_steps_by_name_and_the_workflow_attributes() -> None:
    stack = Stack(new_app(), "Attributes")
    first, undo = task(stack, "First"), task(stack, "Undo")
    saga = Saga(
        stack,
        "Saga",
        steps=[SagaStep("First", action=first, compensation=undo)],
    )
    assert isinstance(saga, Workflow)
    assert saga.steps["First"].action is first and saga.steps["First"].compensation is undo
    with pytest.raises(TypeError):
        saga.steps["Other"] = saga.steps["First"]  # type: ignore[index]
    assert saga.log_group is not None and len(saga.alarms) == 4
    assert saga.rules == {} and saga.dead_letter_queue is None and saga.api is None
    Annotations.from_stack(stack).has_warning(
        "/Attributes/Saga", Match.string_like_regexp("has a compensation that can never run")
    )


# --- validation -----------------------------------------------------------------------------


@pytest.fixture
def stack() -> Stack:
    return Stack(new_app(), "Validation")


def callback_task(stack: Stack, construct_id: str = "Callback") -> tasks.LambdaInvoke:
    function = lambda_.Function.from_function_arn(
        stack, f"{construct_id}Fn", "arn:aws:lambda:us-east-1:123456789012:function:f"
    )
    return tasks.LambdaInvoke(
        stack,
        construct_id,
        lambda_function=function,
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload=sfn.TaskInput.from_object({"token": sfn.JsonPath.task_token}),
    )


WORKFLOW_ERRORS: list[tuple[Any, str]] = [
    (lambda s: {"definition": None}, "definition=None: give the first state"),
    (
        lambda s: {"state_machine_type": "EXPRESS"},
        "state_machine_type='EXPRESS': use sfn.StateMachineType.STANDARD or EXPRESS",
    ),
    (
        lambda s: {
            "state_machine_type": sfn.StateMachineType.EXPRESS,
            "timeout": Duration.minutes(6),
        },
        "timeout='360s': a EXPRESS execution runs from 1 second to 5 minutes",
    ),
    (lambda s: {"timeout": Duration.millis(1500)}, "timeout='1.5s': a STANDARD execution"),
    (lambda s: {"timeout": Duration.days(400)}, "to 365 days, in whole seconds"),
    (lambda s: {"log_level": "ALL"}, "log_level='ALL': use sfn.LogLevel.ALL"),
    (
        lambda s: {
            "log_level": sfn.LogLevel.OFF,
            "existing_log_group": logs.LogGroup.from_log_group_name(s, "L", "l"),
        },
        "existing_log_group='given': log_level=OFF writes no logs",
    ),
    (
        lambda s: {"log_level": sfn.LogLevel.OFF, "include_execution_data": True},
        "include_execution_data=True: log_level=OFF writes no logs",
    ),
    (
        lambda s: {"state_machine_props": sfn.StateMachineProps(timeout=Duration.minutes(1))},
        "state_machine_props.timeout='given': use the timeout option instead",
    ),
    (
        lambda s: {"trigger_bus": events.EventBus.from_event_bus_name(s, "B", "b")},
        "trigger_bus='given': give the trigger_pattern",
    ),
    (
        lambda s: {"trigger_input": events.RuleTargetInput.from_text("x")},
        "trigger_input='given': give trigger_pattern= or trigger_schedule=",
    ),
    (
        lambda s: {"rest_api_props": apigw.RestApiProps()},
        "rest_api_props='given': it configures the API: set api=True",
    ),
    (
        lambda s: {"api": True, "authorization_type": apigw.AuthorizationType.COGNITO},
        "give the matching authorizer= as well",
    ),
    (
        lambda s: {
            "state_machine_type": sfn.StateMachineType.EXPRESS,
            "definition": callback_task(s),
        },
        "definition='Callback': an EXPRESS state machine cannot wait for a task",
    ),
    (
        lambda s: {
            "state_machine_type": sfn.StateMachineType.EXPRESS,
            "definition": tasks.StepFunctionsStartExecution(
                s,
                "Child",
                state_machine=sfn.StateMachine.from_state_machine_name(s, "C", "child"),
                integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            ),
        },
        "definition='Child': an EXPRESS state machine cannot run a job (.sync)",
    ),
    (
        lambda s: {
            "state_machine_type": sfn.StateMachineType.EXPRESS,
            "definition": sfn.Parallel(s, "Both").branch(
                sfn.Wait(s, "Nap", time=sfn.WaitTime.duration(Duration.minutes(10)))
            ),
        },
        "definition='Nap': waits 600s but an EXPRESS execution ends after 300s",
    ),
]


@pytest.mark.parametrize(("options", "message"), WORKFLOW_ERRORS)
def test_invalid_workflow_options_raise_naming_the_option_and_fix(
    stack: Stack, options: Any, message: str
) -> None:
    given = {"definition": hello(stack), **options(stack)}
    with pytest.raises(ValueError, match=re.escape(message)):
        Workflow(stack, "Flow", **given)


def test_every_workflow_problem_is_reported_at_once(stack: Stack) -> None:
    with pytest.raises(ValueError) as error:
        Workflow(
            stack,
            "Flow",
            definition=callback_task(stack),
            state_machine_type=sfn.StateMachineType.EXPRESS,
            timeout=Duration.hours(1),
            authorizer=None,
            rest_api_props=apigw.RestApiProps(),
        )
    lines = str(error.value).splitlines()
    assert lines[0] == "Invalid Workflow options:"
    assert len(lines) == 4  # timeout, rest_api_props, the callback task


def saga_steps(stack: Stack, *names: str) -> list[SagaStep]:
    return [
        SagaStep(name, action=task(stack, f"Do{i}"), compensation=task(stack, f"Undo{i}"))
        for i, name in enumerate(names)
    ]


SAGA_ERRORS: list[tuple[Any, str]] = [
    (lambda s: {"steps": []}, "steps=[]: give at least one SagaStep"),
    (lambda s: {"steps": [hello(s)]}, "steps[0]=<"),
    (lambda s: {"steps": saga_steps(s, "A", "A")}, "steps='A': names must be unique"),
    (
        lambda s: {"steps": saga_steps(s, "charge payment")},
        "steps[0].name='charge payment': start with a letter",
    ),
    (
        lambda s: {"steps": [SagaStep("A", action=sfn.Succeed(s, "Done"))]},
        "steps[0].action=<",
    ),
    (
        lambda s: {
            "steps": [
                SagaStep("A", action=(twice := task(s, "Twice"))),
                SagaStep("B", action=task(s, "B"), compensation=twice),
            ]
        },
        "steps[1].compensation='Twice': is already the action of steps[0]",
    ),
    (
        lambda s: {"steps": [SagaStep("A", action=task(s, "A"), compensate_on_failure=True)]},
        "steps[0].compensate_on_failure=True: give the compensation to run as well",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "action_retry": sfn.RetryProps(max_attempts=-1)},
        "action_retry.max_attempts=-1: must be 0 (no retry) or more",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "action_retry": sfn.RetryProps(backoff_rate=0.5)},
        "action_retry.backoff_rate=0.5: must be 1.0 or more",
    ),
    (
        lambda s: {
            "steps": saga_steps(s, "A"),
            "compensation_retry": sfn.RetryProps(interval=Duration.millis(200)),
        },
        "compensation_retry.interval='0.2s': must be whole seconds, at least 1",
    ),
    (
        lambda s: {
            "steps": saga_steps(s, "A"),
            "action_retry": sfn.RetryProps(
                interval=Duration.seconds(10), max_delay=Duration.seconds(5)
            ),
        },
        "action_retry.max_delay='5s': must be whole seconds, at least the interval (10s)",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "action_retry": sfn.RetryProps(errors=[])},
        "action_retry.errors=[]: name at least one error to retry",
    ),
    (
        lambda s: {
            "steps": saga_steps(s, "A"),
            "compensation_retry": sfn.RetryProps(errors=["States.ALL", "X"]),
        },
        "States.ALL must be the only error listed",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "action_retry": {"max_attempts": 2}},
        "use sfn.RetryProps",
    ),
    (
        lambda s: {
            "steps": [
                SagaStep("A", action=task(s, "A"), retry=sfn.RetryProps(max_attempts=-2)),
            ]
        },
        "steps[0].retry.max_attempts=-2",
    ),
    (
        lambda s: {
            "steps": [SagaStep("A", action=task(s, "A"), compensation=callback_task(s))],
            "state_machine_type": sfn.StateMachineType.EXPRESS,
        },
        "definition='Callback': an EXPRESS state machine cannot wait for a task",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "required_input": ["order_id"]},
        "required_input='order_id': give JSONPaths such as '$.order_id'",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "required_input": "$.order_id"},
        "required_input='$.order_id': give a list of JSONPaths",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "log_level": "ALL"},
        "log_level='ALL': use sfn.LogLevel.ALL",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "duplicate_errors": "Claimed"},
        "duplicate_errors='Claimed': give a list of error names",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "duplicate_errors": ["States.ALL"]},
        "duplicate_errors='States.ALL': name the error your first action raises",
    ),
    (
        lambda s: {"steps": saga_steps(s, "A"), "duplicate_errors": [""]},
        "duplicate_errors='': give error names such as",
    ),
]


@pytest.mark.parametrize(("options", "message"), SAGA_ERRORS)
def test_invalid_saga_options_raise_naming_the_option_and_fix(
    stack: Stack, options: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Saga(stack, "Saga", **options(stack))


def test_every_saga_problem_is_reported_at_once(stack: Stack) -> None:
    with pytest.raises(ValueError) as error:
        Saga(
            stack,
            "Saga",
            steps=[*saga_steps(stack, "A", "A"), SagaStep("b c", action=task(stack, "X"))],
            compensation_retry=sfn.RetryProps(backoff_rate=0),
            trigger_input=events.RuleTargetInput.from_text("x"),
        )
    lines = str(error.value).splitlines()
    assert lines[0] == "Invalid Saga options:"
    assert len(lines) == 5  # name, duplicate, backoff rate, trigger_input
