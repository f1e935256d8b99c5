"""EventRouter: the properties that matter, the bring-your-own paths, the validation errors."""

import json
import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from serverless_patterns import EventRoute, EventRouter, EventTarget

from tests.event_router import variants
from tests.support.cdk import new_app, only, resources, synth_variants
from tests.support.events import eventbridge_event
from tests.support.input_transformer import render

ORDERS = variants.ORDERS


@pytest.fixture(scope="module")
def commerce(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["EventRouter"]


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::Events::Rule")


def logical_id(reference: dict[str, Any]) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    return reference["Ref"] if "Ref" in reference else reference["Fn::GetAtt"][0]


def statements(template: dict[str, Any], resource_type: str, logical: str) -> list[dict]:
    [policy] = [
        p
        for p in resources(template, resource_type).values()
        if {"Ref": logical} in p.get("Queues", p.get("Roles", []))
    ]
    return policy["PolicyDocument"]["Statement"]


# --- the reference stack ------------------------------------------------------------------


def test_custom_bus_with_an_archive_of_every_event_for_30_days(commerce: dict[str, Any]) -> None:
    bus_id, bus = only(commerce, "AWS::Events::EventBus")
    assert set(bus) == {"Name"}  # a generated name, the AWS-owned key, no policy
    _, archive = only(commerce, "AWS::Events::Archive")
    assert archive["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["RetentionDays"] == 30
    assert archive["EventPattern"] == {"source": [{"prefix": ""}]}  # matches every event
    assert "AWS::Events::EventBusPolicy" not in str(commerce)  # no other account may publish


def test_pattern_routes_run_on_the_bus_and_the_schedule_on_the_default_bus(
    commerce: dict[str, Any],
) -> None:
    bus_id, _ = only(commerce, "AWS::Events::EventBus")
    by_pattern = {
        rule.get("ScheduleExpression") or rule["EventPattern"]["detail-type"][0]: rule
        for rule in rules(commerce).values()
    }
    assert set(by_pattern) == {"Order Placed", "Payment Failed", "cron(0 2 * * ? *)"}
    assert by_pattern["Order Placed"]["EventPattern"] == {
        "source": ["commerce.orders"],
        "detail-type": ["Order Placed"],
    }
    assert by_pattern["Order Placed"]["EventBusName"] == {"Ref": bus_id}
    assert by_pattern["Payment Failed"]["EventBusName"] == {"Ref": bus_id}
    assert "EventBusName" not in by_pattern["cron(0 2 * * ? *)"]  # EventBridge: default only
    assert all(rule["State"] == "ENABLED" for rule in by_pattern.values())


def test_every_target_retries_then_dead_letters_into_its_own_alarmed_queue(
    commerce: dict[str, Any],
) -> None:
    alarmed = {
        logical_id(alarm["Dimensions"][0]["Value"])
        for alarm in resources(commerce, "AWS::CloudWatch::Alarm").values()
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    seen = []
    for rule_id, rule in rules(commerce).items():
        for target in rule["Targets"]:
            assert target["RetryPolicy"] == {
                "MaximumRetryAttempts": 185,
                "MaximumEventAgeInSeconds": 6 * 3600,
            }
            dlq = logical_id(target["DeadLetterConfig"]["Arn"])
            seen.append(dlq)
            assert dlq in alarmed
            queue = commerce["Resources"][dlq]["Properties"]
            assert queue["SqsManagedSseEnabled"] is True
            assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
            [allow] = [
                s
                for s in statements(commerce, "AWS::SQS::QueuePolicy", dlq)
                if s["Effect"] == "Allow"
            ]
            assert allow["Action"] == "sqs:SendMessage"
            assert allow["Principal"] == {"Service": "events.amazonaws.com"}
            assert allow["Resource"] == {"Fn::GetAtt": [dlq, "Arn"]}
            assert allow["Condition"] == {
                "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}
            }
    assert len(seen) == len(set(seen)) == 4  # fulfilment, confirmation, alerts, report


def test_lambda_targets_send_their_own_failures_to_the_routes_dlq(commerce: dict[str, Any]) -> None:
    dlq_of = {
        logical_id(target["Arn"]): logical_id(target["DeadLetterConfig"]["Arn"])
        for rule in rules(commerce).values()
        for target in rule["Targets"]
    }
    configs = resources(commerce, "AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 2
    for config in configs.values():
        function = logical_id(config["FunctionName"])
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": [dlq_of[function], "Arn"]
        }
        assert config["MaximumRetryAttempts"] == 2
        assert config["MaximumEventAgeInSeconds"] == 6 * 3600


def test_eventbridge_may_invoke_each_function_only_from_its_rule(commerce: dict[str, Any]) -> None:
    rule_of = {
        logical_id(target["Arn"]): rule_id
        for rule_id, rule in rules(commerce).items()
        for target in rule["Targets"]
    }
    permissions = resources(commerce, "AWS::Lambda::Permission")
    assert len(permissions) == 2
    for permission in permissions.values():
        assert permission["Principal"] == "events.amazonaws.com"
        assert permission["Action"] == "lambda:InvokeFunction"
        function = logical_id(permission["FunctionName"])
        assert permission["SourceArn"] == {"Fn::GetAtt": [rule_of[function], "Arn"]}


def test_only_the_order_placed_rule_may_send_to_the_fulfilment_queue(
    commerce: dict[str, Any],
) -> None:
    [(rule_id, _)] = [
        (k, r) for k, r in rules(commerce).items() if "Order Placed" in str(r.get("EventPattern"))
    ]
    fulfilment = next(k for k in commerce["Resources"] if k.startswith("FulfilmentQueue"))
    [allow] = [
        s
        for s in statements(commerce, "AWS::SQS::QueuePolicy", fulfilment)
        if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


@pytest.mark.parametrize(
    "detail",
    [
        {"order_id": "o-1", "reason": "card declined"},
        {"order_id": "o-2", "reason": "O'Brien's card"},
        {"order_id": "o-4", "reason": "Karte abgelehnt, Grüße 🎉"},
        {"order_id": 4, "reason": "card declined"},
    ],
)
def test_payment_alerts_get_a_readable_message(
    commerce: dict[str, Any], detail: dict[str, Any]
) -> None:
    """The alert is the rendered text (tests/support/input_transformer.py: "Amazon
    EventBridge input transformation"): a JSON string naming the order and the reason."""
    text = render(payment_alert(commerce)["InputTransformer"], payment_failed(detail))
    assert json.loads(text) == f"Payment failed for order {detail['order_id']}: {detail['reason']}"


def test_payment_alert_text_with_quotes_backslashes_or_a_missing_reason(
    commerce: dict[str, Any],
) -> None:
    """EventBridge does not escape the values it puts into a string template, and a path
    that matches nothing leaves nothing ("Common issues with transforming input"): the topic
    still gets readable text, though no longer a JSON string with quotes or backslashes."""
    transformer = payment_alert(commerce)["InputTransformer"]
    quoted = render(transformer, payment_failed({"order_id": "o-5", "reason": 'said "no"'}))
    assert quoted == '"Payment failed for order o-5: said "no""'
    path = render(transformer, payment_failed({"order_id": "o-3", "reason": "C:\\cards\\n"}))
    assert path == '"Payment failed for order o-3: C:\\cards\\n"'
    missing = render(transformer, payment_failed({"order_id": "o-6"}))
    assert json.loads(missing) == "Payment failed for order o-6: "


def payment_alert(commerce: dict[str, Any]) -> dict[str, Any]:
    [target] = [
        t
        for r in rules(commerce).values()
        if "Payment Failed" in str(r.get("EventPattern"))
        for t in r["Targets"]
    ]
    return target


def payment_failed(detail: dict[str, Any]) -> dict[str, Any]:
    return eventbridge_event("commerce.payments", "Payment Failed", detail)


def test_the_key_lets_eventbridge_publish_to_the_alerts_topic(commerce: dict[str, Any]) -> None:
    _, key = only(commerce, "AWS::KMS::Key")
    assert key["EnableKeyRotation"] is True
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Resource": "*",
    } in key["KeyPolicy"]["Statement"]


def test_the_report_function_may_put_events_on_the_bus_only(commerce: dict[str, Any]) -> None:
    bus_id, _ = only(commerce, "AWS::Events::EventBus")
    role = next(
        k for k in commerce["Resources"] if k.startswith("SalesReportRole") and "Default" not in k
    )
    puts = [
        s
        for s in statements(commerce, "AWS::IAM::Policy", role)
        if "events:PutEvents" in str(s["Action"])
    ]
    assert puts == [
        {
            "Action": "events:PutEvents",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [bus_id, "Arn"]},
        }
    ]
    [function] = [
        f
        for k, f in resources(commerce, "AWS::Lambda::Function").items()
        if k.startswith("SalesReport")
    ]
    assert function["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": bus_id}


def test_alarms_cover_every_dlq_and_both_functions(commerce: dict[str, Any]) -> None:
    alarms = resources(commerce, "AWS::CloudWatch::Alarm").values()
    metrics = sorted(a["MetricName"] for a in alarms)
    assert (
        metrics == ["ApproximateNumberOfMessagesVisible"] * 5 + ["Errors"] * 2 + ["Throttles"] * 2
    )
    assert all(a["Threshold"] == 1 and a["TreatMissingData"] == "notBreaching" for a in alarms)


# --- variants: every target kind, bring your own bus, overrides ---------------------------


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    """The variants' templates and the routers themselves (their attributes)."""
    routers: dict[str, EventRouter] = {}

    def keep(name: str, build: Any) -> Any:
        return lambda stack: routers.__setitem__(name, build(stack))

    templates = synth_variants(
        {
            "Every": keep("Every", variants.build_every_target),
            "Default": keep("Default", variants.build_default_bus),
            "Archived": keep("Archived", variants.build_existing_bus_archived),
            "Props": keep("Props", variants.build_bus_props_without_archive),
        }
    )
    return {"templates": templates, "routers": routers}


def every(built: dict[str, Any]) -> dict[str, Any]:
    return built["templates"]["Every"].to_json()


def router_bus(template: dict[str, Any]) -> str:
    return next(
        k for k in resources(template, "AWS::Events::EventBus") if k.startswith("RouterBus")
    )


def order_placed(detail: dict[str, Any]) -> dict[str, Any]:
    return eventbridge_event("shop.orders", "Order Placed", detail)


def targets_of(template: dict[str, Any], name_part: str) -> list[dict[str, Any]]:
    [rule] = [r for k, r in rules(template).items() if name_part in k]
    return rule["Targets"]


def test_each_target_kind_gets_the_routers_retry_policy_and_a_dlq(built: dict[str, Any]) -> None:
    template = every(built)
    all_targets = [t for r in rules(template).values() for t in r["Targets"]]
    assert len(all_targets) == 8
    for target in all_targets:
        assert "DeadLetterConfig" in target
        assert target["RetryPolicy"]["MaximumRetryAttempts"] in {10, 3}
    router = built["routers"]["Every"]
    assert sorted(router.dead_letter_queues) == [
        "hourly/Machine",
        "order-audit/AnalyticsBus",
        "order-audit/CloudWatchLogGroup",
        "order-audit/Machine",
        "order-placed/Handler",
        "order-placed/Ledger",
        "order-placed/Work",
        "order-placed/alerts",
    ]
    assert sorted(router.rules) == ["hourly", "order-audit", "order-placed"]
    assert len(router.alarms) == 8
    assert router.archive is not None


def test_per_target_retry_input_and_fifo_group(built: dict[str, Any]) -> None:
    handler, work, ledger, alerts = targets_of(every(built), "OrderPlaced")
    assert alerts["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    assert alerts["InputPath"] == "$.detail"
    assert ledger["SqsParameters"] == {"MessageGroupId": "orders"}
    assert handler["RetryPolicy"] == {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 21600}
    assert "InputPath" not in work and "InputTransformer" not in work


def test_state_machine_and_bus_targets_use_roles_scoped_to_them(built: dict[str, Any]) -> None:
    template = every(built)
    machine, bus, log_group = targets_of(template, "OrderAudit")
    for order_id in ("o-1", 'o-"2"', "o-\\3", 42):
        rendered = render(machine["InputTransformer"], order_placed({"order_id": order_id}))
        assert json.loads(rendered) == {"order": order_id}  # the execution's input
    for target, action in ((machine, "states:StartExecution"), (bus, "events:PutEvents")):
        role = logical_id(target["RoleArn"])
        assert template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"][
            "Statement"
        ] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
            }
        ]
        assert statements(template, "AWS::IAM::Policy", role) == [
            {"Action": action, "Effect": "Allow", "Resource": target["Arn"]}
        ]
    assert (
        "DeadLetterConfig" in log_group and log_group["RetryPolicy"]["MaximumRetryAttempts"] == 10
    )


def test_schedule_route_on_a_custom_bus_runs_on_the_default_bus(built: dict[str, Any]) -> None:
    [hourly] = [r for k, r in rules(every(built)).items() if "Hourly" in k]
    assert hourly["ScheduleExpression"] == "rate(1 hour)"
    assert "EventBusName" not in hourly


def test_publishers_may_only_put_events_from_named_accounts_or_the_organization(
    built: dict[str, Any],
) -> None:
    template = every(built)
    bus_id = router_bus(template)
    policies = sorted(
        resources(template, "AWS::Events::EventBusPolicy").values(), key=lambda p: p["StatementId"]
    )
    accounts, organization = policies
    for policy in policies:
        assert policy["EventBusName"] == {"Ref": bus_id}
        assert policy["Statement"]["Action"] == "events:PutEvents"
        assert policy["Statement"]["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}
        assert policy["Statement"]["Sid"] == policy["StatementId"]
    principals = str(accounts["Statement"]["Principal"])
    assert all(f":iam::{a}:root" in principals for a in variants.PARTNER_ACCOUNTS)
    assert organization["Statement"]["Principal"] == {"AWS": "*"}
    assert organization["Statement"]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": variants.ORGANIZATION}
    }


def test_grant_put_events_allows_only_put_events_on_this_bus(built: dict[str, Any]) -> None:
    template = every(built)
    bus_id = router_bus(template)
    role = next(
        k
        for k, r in template["Resources"].items()
        if k.startswith("Producer") and r["Type"] == "AWS::IAM::Role"
    )
    assert statements(template, "AWS::IAM::Policy", role) == [
        {
            "Action": "events:PutEvents",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [bus_id, "Arn"]},
        }
    ]


def test_alarm_topic_receives_every_alarm_and_recovery(built: dict[str, Any]) -> None:
    template = built["templates"]["Every"]
    ops = next(k for k in template.find_resources("AWS::SNS::Topic") if k.startswith("Ops"))
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 8
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": ops}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": ops}]


def test_existing_default_bus_is_used_without_archive_or_new_bus(built: dict[str, Any]) -> None:
    template = built["templates"]["Default"]
    template.resource_count_is("AWS::Events::EventBus", 0)
    template.resource_count_is("AWS::Events::Archive", 0)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"EventBusName": "default", "EventPattern": {"source": ["shop.orders"]}},
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"ScheduleExpression": "cron(0 2 * * ? *)", "EventBusName": Match.absent()},
    )
    router = built["routers"]["Default"]
    assert router.archive is None
    assert router.event_bus.event_bus_name == "default"


def test_existing_bus_archived_on_request_and_routes_added_later(built: dict[str, Any]) -> None:
    template = built["templates"]["Archived"]
    template.resource_count_is("AWS::Events::EventBus", 1)  # the user's own
    template.has_resource_properties("AWS::Events::Archive", {"RetentionDays": 7})
    router = built["routers"]["Archived"]
    assert list(router.rules) == ["placed"] and list(router.dead_letter_queues) == ["placed/Work"]
    with pytest.raises(ValueError, match=re.escape("route='placed': names must be unique")):
        router.add_route(
            EventRoute("placed", pattern=ORDERS, targets=[router.dead_letter_queues["placed/Work"]])
        )


def test_bus_props_override_and_archive_can_be_turned_off(built: dict[str, Any]) -> None:
    template = built["templates"]["Props"]
    template.has_resource_properties("AWS::Events::EventBus", {"Description": "Orders of the shop"})
    template.resource_count_is("AWS::Events::Archive", 0)


def test_functions_that_cannot_be_configured_are_flagged() -> None:
    stack = Stack(new_app(), "Flagged")
    variants.build_shared_function(stack)
    annotations = Annotations.from_stack(stack)
    annotations.has_warning(
        "/Flagged/Router/Second", Match.string_like_regexp("already has asynchronous-invocation")
    )
    annotations.has_warning(
        "/Flagged/Router/Imported", Match.string_like_regexp("not defined in this app")
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::EventInvokeConfig", 1)  # the first route's


# --- validation -----------------------------------------------------------------------------


@pytest.fixture
def stack() -> Stack:
    return Stack(new_app(), "Validation")


def queue(stack: Stack, name: str = "Q") -> sqs.Queue:
    return sqs.Queue(stack, name)


def route(stack: Stack, **options: Any) -> EventRoute:
    name = options.pop("name", "r")
    return EventRoute(name, **{"pattern": ORDERS, "targets": [queue(stack, f"Q{name}")], **options})


CASES: list[tuple[str, Any, str]] = [
    (
        "neither",
        lambda s: {"routes": [route(s, pattern=None)]},
        "routes[0].pattern/schedule='r': give exactly one",
    ),
    (
        "both",
        lambda s: {"routes": [route(s, schedule=events.Schedule.rate(Duration.hours(1)))]},
        "give exactly one of pattern=",
    ),
    (
        "no target",
        lambda s: {"routes": [route(s, targets=[])]},
        "routes[0].targets=[]: give at least one target",
    ),
    (
        "six targets",
        lambda s: {"routes": [route(s, targets=[queue(s, f"Q{i}") for i in range(6)])]},
        "EventBridge allows at most 5 per rule",
    ),
    (
        "empty pattern",
        lambda s: {"routes": [route(s, pattern=events.EventPattern())]},
        "an empty pattern",
    ),
    (
        "bad rate",
        lambda s: {
            "routes": [
                route(s, pattern=None, schedule=events.Schedule.expression("rate(5 minute)"))
            ]
        },
        "the unit is singular for 1, plural otherwise",
    ),
    (
        "zero rate",
        lambda s: {
            "routes": [route(s, pattern=None, schedule=events.Schedule.expression("rate(0 hours)"))]
        },
        "a rate must be at least 1",
    ),
    (
        "five-field cron",
        lambda s: {
            "routes": [
                route(s, pattern=None, schedule=events.Schedule.expression("cron(0 2 * * *)"))
            ]
        },
        "a cron expression has 6 fields",
    ),
    (
        "cron without ?",
        lambda s: {
            "routes": [
                route(s, pattern=None, schedule=events.Schedule.expression("cron(0 2 * * MON *)"))
            ]
        },
        "exactly one of day-of-month and day-of-week must be '?'",
    ),
    (
        "cron hour 24",
        lambda s: {
            "routes": [
                route(s, pattern=None, schedule=events.Schedule.expression("cron(0 24 * * ? *)"))
            ]
        },
        "cron field hours='24' must hold values from 0 to 23",
    ),
    (
        "scheduler syntax",
        lambda s: {
            "routes": [
                route(
                    s, pattern=None, schedule=events.Schedule.expression("at(2026-11-03T02:00:00)")
                )
            ]
        },
        "at(...) and time zones are EventBridge Scheduler features",
    ),
    (
        "duplicate routes",
        lambda s: {"routes": [route(s, name="order-placed"), route(s, name="order_placed")]},
        "routes='OrderPlaced': names must be unique",
    ),
    (
        "bad route name",
        lambda s: {"routes": [route(s, name="orders/placed")]},
        "routes[0].name='orders/placed'",
    ),
    (
        "duplicate targets",
        lambda s: {
            "routes": [
                route(
                    s,
                    targets=[
                        EventTarget(queue(s, "A"), name="x"),
                        EventTarget(queue(s, "B"), name="x"),
                    ],
                )
            ]
        },
        "routes[0].targets names='X': names must be unique",
    ),
    (
        "retry attempts",
        lambda s: {"routes": [route(s, targets=[EventTarget(queue(s), retry_attempts=186)])]},
        "routes[0].targets[0].retry_attempts=186: must be between 0 and 185",
    ),
    (
        "event age too short",
        lambda s: {
            "routes": [
                route(s, targets=[EventTarget(queue(s), max_event_age=Duration.seconds(30))])
            ]
        },
        "routes[0].targets[0].max_event_age='30s': must be from 1 minute to 24 hours",
    ),
    ("router event age", lambda s: {"max_event_age": Duration.hours(25)}, "max_event_age='90000s'"),
    (
        "router retries",
        lambda s: {"retry_attempts": -1},
        "retry_attempts=-1: must be between 0 and 185",
    ),
    (
        "not a target",
        lambda s: {"routes": [route(s, targets=["arn:aws:sqs:us-east-1:1:q"])]},
        "give a Lambda function",
    ),
    (
        "fifo without group",
        lambda s: {"routes": [route(s, targets=[sqs.Queue(s, "F", fifo=True)])]},
        "routes[0].targets[0].message_group_id=None: a FIFO queue target needs one",
    ),
    (
        "group on a log group",
        lambda s: {
            "routes": [
                route(
                    s,
                    targets=[
                        EventTarget(
                            targets.CloudWatchLogGroup(logs.LogGroup(s, "L")), message_group_id="g"
                        )
                    ],
                )
            ]
        },
        "message_group_id='g': only for queues",
    ),
    (
        "input on a bus",
        lambda s: {
            "routes": [
                route(
                    s,
                    targets=[
                        EventTarget(
                            events.EventBus(s, "B"), input=events.RuleTargetInput.from_text("x")
                        )
                    ],
                )
            ]
        },
        "routes[0].targets[0].input='event bus': not for an event bus target",
    ),
    (
        "loop",
        lambda s: {
            "existing_bus": (bus := events.EventBus.from_event_bus_name(s, "D", "default")),
            "routes": [route(s, targets=[bus])],
        },
        "a rule that puts matching events back on its own bus loops",
    ),
    (
        "account id",
        lambda s: {"publisher_accounts": ["12345"]},
        "publisher_accounts='12345': an AWS account id is 12 digits",
    ),
    (
        "duplicate account",
        lambda s: {"publisher_accounts": ["111122223333", "111122223333"]},
        "publisher_accounts='111122223333': names must be unique",
    ),
    (
        "account string",
        lambda s: {"publisher_accounts": "111122223333"},
        "give a list of account ids",
    ),
    (
        "organization",
        lambda s: {"publisher_organization_id": "org-1"},
        "publisher_organization_id='org-1'",
    ),
    (
        "both buses",
        lambda s: {
            "existing_bus": events.EventBus.from_event_bus_name(s, "D", "default"),
            "event_bus_props": events.EventBusProps(description="x"),
        },
        "existing_bus and event_bus_props",
    ),
    ("retention in hours", lambda s: {"archive_retention": Duration.hours(36)}, "give whole days"),
    (
        "retention without archive",
        lambda s: {"archive": False, "archive_retention": Duration.days(7)},
        "remove it, or set archive=True",
    ),
    (
        "not a route",
        lambda s: {"routes": ["order-placed"]},
        "routes[0]='order-placed': give an EventRoute",
    ),
]


@pytest.mark.parametrize(("options", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_options_raise_naming_the_option_and_fix(
    stack: Stack, options: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        EventRouter(stack, "Router", **options(stack))


def test_valid_schedules_pass(stack: Stack) -> None:
    schedules = [
        events.Schedule.rate(Duration.minutes(1)),
        events.Schedule.rate(Duration.days(2)),
        events.Schedule.cron(minute="0/15", hour="8-17", week_day="MON-FRI"),
        events.Schedule.expression("cron(15 10 ? * 6L 2019-2030)"),
        events.Schedule.expression("cron(0 8 1W * ? *)"),
        events.Schedule.expression("cron(0 12 ? * 3#2 *)"),
    ]
    router = EventRouter(
        stack,
        "Router",
        routes=[
            route(stack, name=f"s{i}", pattern=None, schedule=s) for i, s in enumerate(schedules)
        ],
    )
    assert len(router.rules) == len(schedules)


def test_a_cdk_target_with_its_own_dlq_is_refused(stack: Stack) -> None:
    own = targets.SqsQueue(queue(stack, "Work"), dead_letter_queue=queue(stack, "Mine"))
    with pytest.raises(ValueError, match="the CDK target sets its own dead_letter_queue"):
        EventRouter(stack, "Router", routes=[route(stack, targets=[own])])


def test_every_problem_is_reported_at_once(stack: Stack) -> None:
    with pytest.raises(ValueError) as error:
        EventRouter(
            stack,
            "Router",
            routes=[EventRoute("a b", targets=[])],
            publisher_accounts=["x"],
            retry_attempts=200,
        )
    lines = str(error.value).splitlines()
    assert lines[0] == "Invalid EventRouter options:"
    assert len(lines) == 6  # accounts, retries, name, pattern/schedule, targets


def test_an_alias_target_gets_its_failures_captured_too(stack: Stack) -> None:
    function = lambda_.Function(
        stack, "F", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=variants.CODE
    )
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=function.current_version)
    router = EventRouter(stack, "Router", routes=[route(stack, targets=[alias])])
    assert list(router.dead_letter_queues) == ["r/Live"]
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 2, "DestinationConfig": Match.any_value()},
    )
