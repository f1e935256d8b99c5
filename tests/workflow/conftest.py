"""Workflow and Saga variants: one app for the package, synthesized once."""

from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from serverless_patterns import Saga, SagaStep, Workflow
from serverless_patterns.core.tables import table

from tests.support.cdk import synth_variants

#: Smallest retries ASL allows: the compensation-failure execution sleeps at most 1 s.
QUICK_RETRY = sfn.RetryProps(max_attempts=1, interval=Duration.seconds(1), max_delay=None)


def hello(stack: Stack, construct_id: str = "Hello") -> sfn.Pass:
    return sfn.Pass(stack, construct_id, result=sfn.Result.from_object({"hello": "world"}))


def task(stack: Stack, construct_id: str) -> tasks.DynamoPutItem:
    """A task that writes one item: something a saga step can retry and catch."""
    return tasks.DynamoPutItem(
        stack,
        construct_id,
        table=dynamodb.TableV2.from_table_name(stack, f"{construct_id}Table", "t"),
        item={"pk": tasks.DynamoAttributeValue.from_string(construct_id)},
    )


def build_minimal(stack: Stack) -> None:
    Workflow(stack, "Flow", definition=hello(stack))


def build_express(stack: Stack) -> None:
    Workflow(
        stack,
        "Flow",
        definition=hello(stack),
        state_machine_type=sfn.StateMachineType.EXPRESS,
        api=True,
    )


def build_customer_key(stack: Stack) -> None:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    Workflow(
        stack,
        "Flow",
        definition=hello(stack),
        encryption_key=key,
        trigger_schedule=events.Schedule.rate(Duration.days(1)),
        api=True,
    )


def build_overrides(stack: Stack) -> None:
    topic = sns.Topic(stack, "Alerts", enforce_ssl=True)
    mine = logs.LogGroup(stack, "Mine", retention=logs.RetentionDays.ONE_WEEK)
    Workflow(
        stack,
        "Flow",
        definition=hello(stack),
        timeout=Duration.minutes(30),
        log_level=sfn.LogLevel.ERROR,
        include_execution_data=True,
        existing_log_group=mine,
        state_machine_props=sfn.StateMachineProps(comment="Says hello"),
        alarm_topic=topic,
    )


def build_triggers(stack: Stack) -> None:
    bus = events.EventBus(stack, "Bus")
    Workflow(
        stack,
        "Flow",
        definition=hello(stack),
        trigger_pattern=events.EventPattern(source=["com.example"], detail_type=["Hello"]),
        trigger_bus=bus,
        trigger_schedule=events.Schedule.rate(Duration.hours(1)),
        trigger_input=events.RuleTargetInput.from_event_path("$.detail"),
        api=True,
        rest_api_props=apigw.RestApiProps(
            deploy_options=apigw.StageOptions(throttling_rate_limit=5)
        ),
    )


def build_logs_off(stack: Stack) -> None:
    Workflow(stack, "Flow", definition=hello(stack), log_level=sfn.LogLevel.OFF)


def build_failing_compensation(stack: Stack) -> None:
    """Three steps on one table; the second's compensation always fails, the third's action
    fails when ``$.third`` names an existing item."""
    ledger = table(stack, "Ledger")

    def put(construct_id: str, pk: str, **options: Any) -> tasks.DynamoPutItem:
        return tasks.DynamoPutItem(
            stack,
            construct_id,
            table=ledger,
            item={"pk": tasks.DynamoAttributeValue.from_string(pk)},
            condition_expression="attribute_not_exists(pk)",
            **options,
        )

    def delete(construct_id: str, pk: str, condition: str) -> tasks.DynamoDeleteItem:
        return tasks.DynamoDeleteItem(
            stack,
            construct_id,
            table=ledger,
            key={"pk": tasks.DynamoAttributeValue.from_string(pk)},
            condition_expression=condition,
        )

    Saga(
        stack,
        "Saga",
        steps=[
            SagaStep(
                "First",
                action=put("PutFirst", "first", result_path=sfn.JsonPath.DISCARD),
                compensation=delete("DeleteFirst", "first", "attribute_exists(pk)"),
            ),
            SagaStep(
                "Second",
                action=put("PutSecond", "second"),
                compensation=delete("DeleteSecond", "second", "attribute_exists(never_set)"),
            ),
            SagaStep("Third", action=put("PutThird", sfn.JsonPath.string_at("$.third"))),
        ],
        action_retry=sfn.RetryProps(max_attempts=2, backoff_rate=1.5),
        compensation_retry=QUICK_RETRY,
    )


@pytest.fixture(scope="package")
def variants() -> dict[str, dict[str, Any]]:
    """``{variant name: synthesized template}``."""
    templates = synth_variants(
        {
            "Minimal": build_minimal,
            "Express": build_express,
            "CustomerKey": build_customer_key,
            "Overrides": build_overrides,
            "Triggers": build_triggers,
            "LogsOff": build_logs_off,
            "FailingCompensation": build_failing_compensation,
        }
    )
    return {name: template.to_json() for name, template in templates.items()}
