"""Hurried mistakes: each raises one ValueError at construction naming the option, what it
got and what it expects, instead of a jsii TypeError, a deploy-time refusal or silence.

Two of them are AWS's rules, refused only at deploy time without the check:
- API Gateway accepts one path parameter per parent resource; a second one fails the deploy
  with "A sibling ({id}) of this resource already has a variable path part -- only one is
  allowed" (BadRequestException from CreateResource).
- EventBridge cron expressions have six fields, minutes to year ("Schedule expressions for
  rules", docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html);
  a five-field Unix cron is not one.
"""

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from serverless_patterns import (
    AsyncApi,
    EventRoute,
    EventRouter,
    EventTarget,
    FanOut,
    QueueSubscriber,
    Route,
    Saga,
    SagaStep,
    SyncApi,
    Workflow,
)

from tests.support.cdk import new_app

CODE = lambda_.Code.from_inline("def handler(event, context): return None")


def own_function(stack: Stack) -> lambda_.IFunction:
    return lambda_.Function.from_function_name(stack, "Own", "own-function")


def step(stack: Stack) -> SagaStep:
    return SagaStep("Reserve", action=sfn.Pass(stack, "Do"), compensation=sfn.Pass(stack, "Undo"))


#: case -> (build the construct with the mistake, the option named, what the message says).
CASES: dict[str, tuple[Callable[[Stack], Any], str, str]] = {
    "code as a str": (
        lambda s: SyncApi(s, "X", code="handlers/orders"),
        "code='handlers/orders'",
        "expected lambda_.Code.from_asset('handlers/orders'); got str",
    ),
    "function_options as a dict": (
        lambda s: SyncApi(s, "X", code=CODE, function_options={"memory_size": 512}),
        "function_options={'memory_size': 512}",
        "expected lambda_.FunctionOptions(...); got dict",
    ),
    "table_props as a dict": (
        lambda s: AsyncApi(s, "X", code=CODE, table_props={"partition_key": "id"}),
        "table_props={'partition_key': 'id'}",
        "expected dynamodb.TablePropsV2(...); got dict",
    ),
    "topic_props as a dict": (
        lambda s: FanOut(s, "X", subscribers=[QueueSubscriber("A")], topic_props={"fifo": True}),
        "topic_props={'fifo': True}",
        "expected sns.TopicProps(...); got dict",
    ),
    "max_event_age as an int": (
        lambda s: EventRouter(s, "X", max_event_age=3600),
        "max_event_age=3600",
        "expected a Duration, e.g. Duration.hours(1); got int",
    ),
    "EventTarget max_event_age as an int": (
        lambda s: EventRouter(
            s,
            "X",
            routes=[
                EventRoute(
                    "placed",
                    pattern=events.EventPattern(source=["shop"]),
                    targets=[EventTarget(sqs.Queue(s, "Q"), max_event_age=60)],
                )
            ],
        ),
        "max_event_age=60",
        "expected a Duration, e.g. Duration.hours(1); got int",
    ),
    "Workflow timeout as an int": (
        lambda s: Workflow(s, "X", definition=sfn.Pass(s, "P"), timeout=300),
        "timeout=300",
        "expected a Duration, e.g. Duration.minutes(5); got int",
    ),
    "one Route instead of a list": (
        lambda s: SyncApi(s, "X", code=CODE, routes=Route("GET", "/orders")),
        "routes=Route(",
        "expected a list of Route: wrap it in [...]",
    ),
    "one SagaStep instead of a list": (
        lambda s: Saga(s, "X", steps=step(s)),
        "steps=SagaStep(",
        "expected a list of SagaStep: wrap it in [...]",
    ),
    "handler with existing_function": (
        lambda s: SyncApi(s, "X", existing_function=own_function(s), handler="app.main"),
        "handler='app.main'",
        "applies only to the function built from code=",
    ),
    "processor with existing_function": (
        lambda s: AsyncApi(s, "X", existing_function=own_function(s), processor="app.run"),
        "processor='app.run'",
        "applies only to the function built from code=",
    ),
    "archive_retention with existing_bus": (
        lambda s: EventRouter(
            s,
            "X",
            existing_bus=events.EventBus.from_event_bus_name(s, "Bus", "orders"),
            archive_retention=Duration.days(30),
        ),
        "archive_retention='30 days'",
        "an existing_bus is archived only with archive=True",
    ),
    "sibling path parameters": (
        lambda s: SyncApi(
            s,
            "X",
            code=CODE,
            routes=[Route("GET", "/orders/{id}"), Route("PUT", "/orders/{order_id}")],
        ),
        "routes=['{id}', '{order_id}']",
        "one path parameter name under '/orders': API Gateway refuses sibling ones",
    ),
    "AsyncApi path without a slash": (
        lambda s: AsyncApi(s, "X", code=CODE, path="jobs"),
        "path='jobs'",
        "path must start with '/'",
    ),
    "Workflow trigger_schedule with a Unix cron": (
        lambda s: Workflow(
            s,
            "X",
            definition=sfn.Pass(s, "P"),
            trigger_schedule=events.Schedule.expression("cron(0 2 * * *)"),
        ),
        "trigger_schedule='cron(0 2 * * *)'",
        "a cron expression has 6 fields",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_mistake_raises_one_error_naming_the_option_value_and_fix(case: str) -> None:
    build, named, expects = CASES[case]
    stack = Stack(new_app(), "Stack")
    with pytest.raises(ValueError) as raised:
        build(stack)
    problems = str(raised.value).splitlines()[1:]
    assert len(problems) == 1, problems
    assert named in problems[0]
    assert expects in problems[0]
