"""The naming guide (CONTRIBUTING.md) where a slip would break users: keyword-only
declarations, one set of function options, named resources in dicts."""

import inspect
from dataclasses import fields

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_stepfunctions as sfn
from serverless_patterns import (
    AsyncApi,
    EventRoute,
    FunctionSubscriber,
    QueueSubscriber,
    SagaStep,
    Workflow,
)

from tests.support.cdk import new_app

FUNCTION_OPTIONS = {"code", "handler", "function_options", "existing_function"}


def test_saga_steps_are_keyword_only_after_the_name() -> None:
    stack = Stack(new_app(), "Steps")
    with pytest.raises(TypeError):
        SagaStep("Reserve", sfn.Pass(stack, "Do"))  # type: ignore[misc]
    with pytest.raises(TypeError):
        EventRoute("placed", events.EventPattern(source=["shop"]))  # type: ignore[misc]


def test_a_function_the_library_builds_is_described_by_the_same_options_everywhere() -> None:
    for declaration in (QueueSubscriber, FunctionSubscriber):
        assert {field.name for field in fields(declaration)} >= FUNCTION_OPTIONS, declaration
    keywords = set(inspect.signature(AsyncApi.__init__).parameters)
    assert {"code", "function_options", "existing_function"} <= keywords


def test_trigger_rules_are_named_like_the_router_s_rules() -> None:
    stack = Stack(new_app(), "Triggers")
    workflow = Workflow(
        stack,
        "Flow",
        definition=sfn.Pass(stack, "Start"),
        trigger_pattern=events.EventPattern(source=["shop"]),
        trigger_schedule=events.Schedule.rate(Duration.hours(1)),
    )
    assert set(workflow.rules) == {"pattern", "schedule"}
    assert all(isinstance(rule, events.Rule) for rule in workflow.rules.values())
