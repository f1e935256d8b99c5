"""EventRouter: EventBridge bus, pattern and schedule rules, targets with retries and DLQs."""

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core import queues as queue_defaults
from serverless_patterns.core import topics as topic_defaults
from serverless_patterns.core.buses import (
    DEFAULT_ARCHIVE_RETENTION,
    DEFAULT_MAX_EVENT_AGE,
    DEFAULT_RETRY_ATTEMPTS,
    MAX_DESCRIPTION_LENGTH,
    MAX_TARGETS_PER_RULE,
    DeadLetteredTarget,
    EventRoute,
    EventTarget,
    allow_publishers,
    as_target,
    capture_function_failures,
    cdk_target,
    event_bus,
    pascal,
    target_kind,
    target_name,
    validate_archive_retention,
    validate_name,
    validate_publishers,
    validate_retry,
)
from serverless_patterns.core.buses import archive as bus_archive
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.props import options_of
from serverless_patterns.core.queues import dead_letter_queue
from serverless_patterns.core.schedules import schedule_problem
from serverless_patterns.core.validation import Problems, is_token


class EventRouter(Construct):
    """An event bus whose rules route events by content or on a schedule.

    Producers put events on the bus without knowing who consumes them; each route matches
    events (or fires on a schedule) and delivers them to up to five targets. Every target
    gets a retry policy and its own dead-letter queue with an alarm; a Lambda target's own
    asynchronous failures go to that DLQ too.

    Smallest use::

        EventRouter(self, "Orders", routes=[
            EventRoute("order-placed", pattern=events.EventPattern(source=["shop.orders"]),
                       targets=[fulfilment_queue]),
        ])

    :param routes: the rules, each an ``EventRoute`` with a pattern or a schedule and its
        targets. More can be added with :meth:`add_route`. Default: none.
    :param existing_bus: your own bus (e.g. ``EventBus.from_event_bus_name(self, "Default",
        "default")``) instead of a new one.
    :param event_bus_props: overrides for the new bus (e.g. ``kms_key``, ``log_config``).
        Default: a bus with a generated name and an AWS-owned encryption key.
    :param archive: keep every event for replay. Default: ``True`` for a new bus, ``False``
        for ``existing_bus`` (its owner decides; archives cost storage).
    :param archive_retention: how long the archive keeps events, whole days. Default: 30 days.
    :param publisher_accounts: other AWS accounts allowed to put events on the bus (a bus
        policy granting only ``events:PutEvents``). Default: none.
    :param publisher_organization_id: an AWS Organizations id (``o-...``) whose accounts may
        all put events on the bus. Default: none.
    :param retry_attempts: delivery retries per target unless the target says otherwise,
        0 to 185. Default: 185.
    :param max_event_age: how long delivery to a target is retried, 1 minute to 24 hours.
        Default: 6 hours.
    :param alarm_topic: an SNS topic that receives every alarm and its recovery.

    Schedule routes run on the account's default bus whatever the bus: EventBridge runs
    schedule rules nowhere else. Consider EventBridge Scheduler for time zones or one-off
    schedules.

    Attributes: ``event_bus`` (yours with ``existing_bus``), ``archive`` (None without one),
    ``bus_policies`` (the cross-account publishing permissions), ``rules`` (route name ->
    rule), ``dead_letter_queues`` ("route/target" -> the target's DLQ), ``alarms``. Add routes
    later with ``add_route``; let publishers in with ``grant_put_events``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Sequence[EventRoute] = (),
        existing_bus: events.IEventBus | None = None,
        event_bus_props: events.EventBusProps | None = None,
        archive: bool | None = None,
        archive_retention: Duration | None = None,
        publisher_accounts: Sequence[str] = (),
        publisher_organization_id: str | None = None,
        retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
        max_event_age: Duration = DEFAULT_MAX_EVENT_AGE,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        problems = Problems("EventRouter")
        problems.expect(
            "max_event_age", max_event_age, Duration, "a Duration, e.g. Duration.hours(1)"
        )
        problems.expect("archive_retention", archive_retention, Duration, "Duration.days(...)")
        problems.raise_if_any()  # the checks below rely on these types
        problems.exclusive(existing_bus=existing_bus, event_bus_props=event_bus_props)
        if archive is None and existing_bus is not None and archive_retention is not None:
            problems.add(
                "archive_retention",
                archive_retention.to_human_string(),
                "an existing_bus is archived only with archive=True: set it, or remove this",
            )
        if archive is False and archive_retention is not None:
            problems.add("archive_retention", archive_retention, "remove it, or set archive=True")
        if archive_retention is not None:
            validate_archive_retention(problems, archive_retention)
        validate_publishers(problems, publisher_accounts, publisher_organization_id)
        validate_retry(problems, "", retry_attempts, max_event_age)
        topic_defaults.validate_alarm_topic(problems, alarm_topic)
        self._retry_attempts = retry_attempts
        self._max_event_age = max_event_age
        self._alarm_topic = alarm_topic
        self._existing_bus = existing_bus
        if not isinstance(routes, Sequence) or isinstance(routes, str):
            problems.add("routes", routes, "give a list of EventRoute")
            routes = ()
        for index, route in enumerate(routes):
            self._validate_route(problems, f"routes[{index}]", route)
        problems.unique(
            "routes", (pascal(r.name) for r in routes if isinstance(r, EventRoute) and r.name)
        )
        problems.raise_if_any()

        self.event_bus: events.IEventBus = existing_bus or event_bus(
            self, "Bus", props=event_bus_props
        )
        self.archive: events.Archive | None = None
        if archive if archive is not None else existing_bus is None:
            self.archive = bus_archive(
                self,
                "Archive",
                bus=self.event_bus,
                retention=archive_retention or DEFAULT_ARCHIVE_RETENTION,
            )
        self.bus_policies: list[events.CfnEventBusPolicy] = allow_publishers(
            self,
            self.event_bus,
            accounts=list(publisher_accounts),
            organization_id=publisher_organization_id,
        )
        self.rules: dict[str, events.Rule] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        self.alarms: list[cloudwatch.Alarm] = []
        for route in routes:
            self._build_route(route)

    def add_route(self, route: EventRoute) -> events.Rule:
        """Add one more route (validated like those given to the constructor)."""
        problems = Problems("EventRouter")
        self._validate_route(problems, "route", route)
        if isinstance(route, EventRoute) and pascal(route.name) in {
            pascal(name) for name in self.rules
        }:
            problems.add("route", route.name, "names must be unique; rename one of them")
        problems.raise_if_any()
        return self._build_route(route)

    def grant_put_events(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (a producer's function or role) put events on this bus, only this."""
        return self.event_bus.grant_put_events_to(grantee)

    # --- internals --------------------------------------------------------------------------

    def _validate_route(self, problems: Problems, option: str, route: Any) -> None:
        if not isinstance(route, EventRoute):
            problems.add(option, route, "give an EventRoute(name, pattern=... or schedule=...)")
            return
        validate_name(problems, f"{option}.name", route.name)
        _validate_rule(problems, option, route)
        if isinstance(route.targets, str | bytes) or not isinstance(route.targets, Sequence):
            problems.add(f"{option}.targets", route.targets, "give a list of targets")
            return
        if not route.targets:
            problems.add(f"{option}.targets", [], "give at least one target")
        if len(route.targets) > MAX_TARGETS_PER_RULE:
            problems.add(
                f"{option}.targets",
                f"{len(route.targets)} targets",
                f"EventBridge allows at most {MAX_TARGETS_PER_RULE} per rule; split the route",
            )
        names = []
        for index, each in enumerate(route.targets):
            target = as_target(each)
            where = f"{option}.targets[{index}]"
            kind = target_kind(target.resource)
            if kind is None:
                problems.add(
                    where,
                    target.resource,
                    "give a Lambda function, SQS queue, SNS topic, state machine, event bus, "
                    "Firehose delivery stream "
                    "or CDK target object (aws_events_targets)",
                )
                continue
            name = target_name(target)
            validate_name(problems, f"{where}.name", name)
            names.append(pascal(name))
            validate_retry(problems, f"{where}.", target.retry_attempts, target.max_event_age)
            self._validate_target(problems, where, route, target, kind)
        problems.unique(f"{option}.targets names", names)

    def _validate_target(
        self, problems: Problems, where: str, route: EventRoute, target: EventTarget, kind: str
    ) -> None:
        if target.input is not None and kind in {"event bus", "CDK target"}:
            problems.add(
                f"{where}.input",
                kind,
                "not for an event bus target (it forwards the event as it is) nor a CDK "
                "target object (give the input to the CDK target itself)",
            )
        if (kind == "queue" and queue_defaults.uses_aws_managed_key(target.resource)) or (
            kind == "topic" and topic_defaults.uses_aws_managed_key(target.resource)
        ):
            problems.add(
                where,
                f"a {kind} encrypted with alias/aws/{'sqs' if kind == 'queue' else 'sns'}",
                "EventBridge cannot deliver to it: use a customer-managed key whose policy "
                "allows events.amazonaws.com kms:Decrypt and kms:GenerateDataKey*"
                + (", or SQS-managed encryption" if kind == "queue" else ""),
            )
        if kind == "queue":
            fifo = target.resource.fifo
            if not is_token(fifo) and fifo and target.message_group_id is None:
                problems.add(f"{where}.message_group_id", None, "a FIFO queue target needs one")
        elif target.message_group_id is not None:
            problems.add(f"{where}.message_group_id", target.message_group_id, "only for queues")
        if (
            kind == "event bus"
            and route.pattern is not None
            and self._existing_bus is not None
            and _same_bus(target.resource, self._existing_bus)
        ):
            problems.add(
                f"{where}",
                "the router's own bus",
                "a rule that puts matching events back on its own bus loops; target another bus",
            )

    def _build_route(self, route: EventRoute) -> events.Rule:
        scope = Construct(self, pascal(route.name))
        rule = events.Rule(
            scope,
            "Rule",
            event_bus=self.event_bus if route.pattern is not None else None,
            event_pattern=route.pattern,
            schedule=route.schedule,
            description=route.description,
            enabled=route.enabled,
        )
        self.rules[route.name] = rule
        for each in route.targets:
            target = as_target(each)
            kind = target_kind(target.resource)
            assert kind is not None  # validated
            name = target_name(target)
            queue = dead_letter_queue(scope, f"{pascal(name)}DeadLetterQueue")
            wrapped = DeadLetteredTarget(
                cdk_target(target, kind),
                dead_letter_queue=queue,
                retry_attempts=_first(target.retry_attempts, self._retry_attempts),
                max_event_age=_first(target.max_event_age, self._max_event_age),
            )
            rule.add_target(wrapped)
            if wrapped.conflict:
                raise ValueError(
                    "Invalid EventRouter options:\n"
                    f"  - routes[{route.name!r}].targets[{name!r}]: the CDK target sets its own "
                    "dead_letter_queue or retry policy; the router gives every target both, so "
                    "remove them there and use EventTarget(retry_attempts=, max_event_age=)"
                )
            if kind == "function" and capture_function_failures(
                scope, target.resource, queue, f"route {route.name!r}, target {name!r}"
            ):
                # The rule holds the function's invoke permission, which ES1007 inspects.
                justify(rule, "on-failure-destination")
            self.dead_letter_queues[f"{route.name}/{name}"] = queue
            alarm = alarm_defaults.dead_letter_queue_alarm(
                scope, f"{pascal(name)}DeadLetterQueueAlarm", queue
            )
            alarm_defaults.notify([alarm], self._alarm_topic)
            self.alarms.append(alarm)
        return rule


def _first(value: Any, default: Any) -> Any:
    return default if value is None else value


def _same_bus(one: events.IEventBus, other: events.IEventBus) -> bool:
    if one is other:
        return True
    names = (one.event_bus_name, other.event_bus_name)
    return not any(is_token(name) for name in names) and names[0] == names[1]


def _validate_rule(problems: Problems, option: str, route: EventRoute) -> None:
    """What the route's rule matches (a pattern or a schedule) and its description."""
    if (route.pattern is None) == (route.schedule is None):
        problems.add(
            f"{option}.pattern/schedule",
            route.name,
            "give exactly one of pattern= (events.EventPattern) or schedule= (events.Schedule)",
        )
    if route.pattern is not None:
        if not isinstance(route.pattern, events.EventPattern):
            problems.add(f"{option}.pattern", route.pattern, "give an events.EventPattern")
        elif not options_of(route.pattern):
            problems.add(
                f"{option}.pattern",
                "EventPattern()",
                "an empty pattern is rejected by EventBridge; match at least one field, "
                "e.g. source=[...]",
            )
    if route.schedule is not None:
        if not isinstance(route.schedule, events.Schedule):
            problems.add(
                f"{option}.schedule",
                route.schedule,
                "give events.Schedule.cron(...), .rate(...) or .expression(...)",
            )
        elif problem := schedule_problem(route.schedule.expression_string):
            problems.add(f"{option}.schedule", route.schedule.expression_string, problem)
    if route.description is not None and len(route.description) > MAX_DESCRIPTION_LENGTH:
        problems.add(
            f"{option}.description",
            f"{route.description[:20]}...",
            f"at most {MAX_DESCRIPTION_LENGTH} characters",
        )
