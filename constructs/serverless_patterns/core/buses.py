"""EventBridge: buses with an archive, rules whose every target retries and dead-letters.

What EventBridge itself guarantees and what it does not, as far as these defaults go:

- A rule's **retry policy and dead-letter queue cover delivery** to the target only. When
  EventBridge cannot hand an event to the target (throttled, missing permission, KMS denied,
  target gone) it retries with backoff, then sends the event to the DLQ.
- A **Lambda target is invoked asynchronously**: once Lambda accepted the event, the delivery
  succeeded, and errors the function raises are Lambda's to retry (twice by default) and then
  to drop unless the function has an on-failure destination. :func:`capture_function_failures`
  gives it one: the same DLQ.
- **Schedule rules run only on the account's default bus** ("You can only create scheduled
  rules on the default event bus", EventBridge user guide; CDK raises "Cannot associate rule
  with 'eventBus' when using 'schedule'"). Schedule routes are therefore created on the
  default bus whatever bus the router uses.
"""

import re
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import Annotations, Duration, Names
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from serverless_patterns.core.compliance import justify
from serverless_patterns.core.jsii_internals import implements
from serverless_patterns.core.props import options_of
from serverless_patterns.core.validation import Problems, is_token

if TYPE_CHECKING:  # aws_cdk.interfaces is younger than the oldest aws-cdk-lib supported
    from aws_cdk.interfaces.aws_events import IRuleRef

#: How long the archive keeps events for replay.
DEFAULT_ARCHIVE_RETENTION = Duration.days(30)
#: Every EventBridge target the library makes (router targets, workflow triggers) retries
#: delivery with these. EventBridge's ceiling: with it, the event age below ends the retries.
DEFAULT_RETRY_ATTEMPTS = 185
#: EventBridge's own default is 24 h; with 6 h (Lambda's asynchronous maximum) a failing
#: target shows up in its DLQ alarm within hours, not a day later. The DLQ keeps events 14 days.
DEFAULT_MAX_EVENT_AGE = Duration.hours(6)
RETRY_ATTEMPTS_RANGE = (0, 185)
MAX_EVENT_AGE_RANGE = (60, 24 * 3600)  # seconds
#: A Lambda target's own asynchronous retries (Lambda's defaults, stated explicitly).
FUNCTION_RETRY_ATTEMPTS = 2
FUNCTION_MAX_EVENT_AGE = Duration.hours(6)
#: EventBridge accepts at most five targets per rule.
MAX_TARGETS_PER_RULE = 5
MAX_DESCRIPTION_LENGTH = 512

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ORGANIZATION = re.compile(r"^o-[a-z0-9]{10,32}$")


@dataclass(frozen=True)
class EventTarget:
    """Where a route delivers its events, with per-target settings.

    ``resource`` is a Lambda function, an SQS queue, an SNS topic, a Step Functions state
    machine, another event bus, a Firehose delivery stream (each event one record; the
    rule's role may put records on that stream only), or any CDK target object
    (``aws_events_targets.*``, e.g. ``CloudWatchLogGroup``, ``KinesisStream``,
    ``ApiDestination``). A bare resource in a route's ``targets`` is the same as
    ``EventTarget(resource)``.

    :param name: names the target in ``dead_letter_queues`` and construct ids (letters,
        digits, ``.``, ``-``, ``_``). Default: the resource's construct id, or the CDK
        target's class name.
    :param input: what the target receives instead of the whole event, e.g.
        ``RuleTargetInput.from_event_path("$.detail")`` (not for event buses, and set it on
        the CDK target itself for CDK target objects). Default: the event.
    :param retry_attempts: delivery retries, 0 to 185. Default: the router's.
    :param max_event_age: how long delivery is retried, 1 minute to 24 hours. Default: the
        router's.
    :param message_group_id: the message group for a FIFO queue (required there).
    """

    resource: Any
    _: KW_ONLY
    name: str | None = None
    input: events.RuleTargetInput | None = None
    retry_attempts: int | None = None
    max_event_age: Duration | None = None
    message_group_id: str | None = None


@dataclass(frozen=True)
class EventRoute:
    """Events matching ``pattern``, or a ``schedule``, delivered to ``targets``.

    ``EventRoute("order-placed", pattern=events.EventPattern(source=["shop.orders"]),
    targets=[queue, EventTarget(function, input=...)])``

    :param name: names the rule in ``rules`` and construct ids (letters, digits, ``.``,
        ``-``, ``_``; up to 64).
    :param pattern: the events to match (give this or ``schedule``).
    :param schedule: ``events.Schedule.cron(...)`` or ``.rate(...)``. Schedule rules always
        run on the account's default bus (EventBridge runs them nowhere else).
    :param targets: one to five targets (EventBridge's limit per rule).
    :param description: the rule's description. Default: none.
    :param enabled: ``False`` creates the rule disabled. Default: ``True``.
    """

    name: str
    _: KW_ONLY
    pattern: events.EventPattern | None = None
    schedule: events.Schedule | None = None
    targets: Sequence[Any] = ()
    description: str | None = None
    enabled: bool = True


# --- what a target is -----------------------------------------------------------------------


_KINDS: tuple[tuple[str, Any], ...] = (
    ("function", lambda_.IFunction),
    ("queue", sqs.IQueue),
    ("topic", sns.ITopic),
    ("state machine", sfn.IStateMachine),
    ("event bus", events.IEventBus),
    ("delivery stream", firehose.IDeliveryStream),
    ("CDK target", events.IRuleTarget),
)


def target_kind(resource: Any) -> str | None:
    """``function``, ``queue``, ``topic``, ``state machine``, ``event bus``, ``delivery
    stream`` (Firehose), ``CDK target``."""
    return next((kind for kind, interface in _KINDS if implements(resource, interface)), None)


def as_target(value: Any) -> EventTarget:
    return value if isinstance(value, EventTarget) else EventTarget(value)


def target_name(target: EventTarget) -> str:
    if target.name is not None:
        return target.name
    node = getattr(target.resource, "node", None)
    return node.id if node is not None else type(target.resource).__name__


def pascal(name: str) -> str:
    """``order-placed`` -> ``OrderPlaced``: a construct id piece from a route or target name."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


# --- validation -----------------------------------------------------------------------------


def validate_retry(
    problems: Problems, option: str, attempts: int | None, age: Duration | None
) -> None:
    low, high = RETRY_ATTEMPTS_RANGE
    if attempts is not None and not is_token(attempts):
        if isinstance(attempts, bool) or not isinstance(attempts, int):
            problems.add(f"{option}retry_attempts", attempts, "give a whole number from 0 to 185")
        else:
            problems.in_range(f"{option}retry_attempts", attempts, low, high)
    problems.expect(f"{option}max_event_age", age, Duration, "a Duration, e.g. Duration.hours(1)")
    if isinstance(age, Duration):
        seconds = age.to_seconds(integral=False)
        if not is_token(seconds):
            low, high = MAX_EVENT_AGE_RANGE
            if not low <= seconds <= high:
                problems.add(
                    f"{option}max_event_age",
                    f"{seconds:g}s",
                    "must be from 1 minute to 24 hours (60 to 86400 seconds)",
                )


def validate_publishers(
    problems: Problems, accounts: Sequence[str], organization_id: str | None
) -> None:
    if isinstance(accounts, str):
        problems.add("publisher_accounts", accounts, "give a list of account ids, not one string")
        return
    for account in accounts:
        if not is_token(account) and not (isinstance(account, str) and _ACCOUNT.match(account)):
            problems.add("publisher_accounts", account, "an AWS account id is 12 digits")
    problems.unique("publisher_accounts", (a for a in accounts if not is_token(a)))
    if (
        organization_id is not None
        and not is_token(organization_id)
        and not _ORGANIZATION.match(organization_id)
    ):
        problems.add(
            "publisher_organization_id",
            organization_id,
            "an organization id looks like o-a1b2c3d4e5 ('o-' and 10 to 32 lowercase letters "
            "or digits)",
        )


def validate_archive_retention(problems: Problems, retention: Duration) -> None:
    seconds = retention.to_seconds(integral=False)
    if is_token(seconds):
        return
    if seconds < 86400 or seconds % 86400:
        problems.add(
            "archive_retention",
            f"{seconds:g}s",
            "give whole days, at least Duration.days(1)",
        )


def validate_name(problems: Problems, option: str, name: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        problems.add(
            option,
            name,
            "use 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit",
        )


# --- builders -------------------------------------------------------------------------------


def event_bus(
    scope: Construct, construct_id: str, *, props: events.EventBusProps | None = None
) -> events.EventBus:
    """A custom event bus; ``props`` override the defaults (an AWS-owned encryption key,
    a generated name, no bus-level logging)."""
    return events.EventBus(scope, construct_id, **options_of(props))


def archive(
    scope: Construct,
    construct_id: str,
    *,
    bus: events.IEventBus,
    retention: Duration = DEFAULT_ARCHIVE_RETENTION,
) -> events.Archive:
    """Keep every event ``bus`` receives for ``retention``, ready for replay.

    The pattern ``{"source": [{"prefix": ""}]}`` matches every event (every event has a
    source), including those other accounts publish. Replayed events carry a
    ``replay-name`` field and are not archived again.
    """
    kept = events.Archive(
        scope,
        construct_id,
        source_event_bus=bus,
        event_pattern=events.EventPattern(source=events.Match.prefix("")),
        retention=retention,
        description="Every event on this bus, kept for replay",
    )
    # aws-cdk renders KmsKeyIdentifier "" without a key (aws/aws-cdk#37847), which some
    # regions reject; absent means the AWS-owned key, as the AWS::Events::Archive reference says.
    resource = kept.node.default_child
    assert isinstance(resource, events.CfnArchive)
    if resource.kms_key_identifier == "":
        resource.add_property_deletion_override("KmsKeyIdentifier")
    return kept


def allow_publishers(
    scope: Construct,
    bus: events.IEventBus,
    *,
    accounts: Sequence[str] = (),
    organization_id: str | None = None,
) -> list[events.CfnEventBusPolicy]:
    """A bus policy letting ``accounts``, or every account of ``organization_id``, put events.

    Only ``events:PutEvents``, only on this bus: publishers cannot create rules on it.
    """
    prefix = Names.unique_id(scope)[-40:]
    statements: list[tuple[str, iam.PolicyStatement]] = []
    if accounts:
        statements.append(
            (
                "Accounts",
                iam.PolicyStatement(
                    principals=[iam.AccountPrincipal(account) for account in accounts],
                    actions=["events:PutEvents"],
                    resources=[bus.event_bus_arn],
                ),
            )
        )
    if organization_id is not None:
        statements.append(
            (
                "Organization",
                iam.PolicyStatement(
                    principals=[iam.AnyPrincipal()],
                    actions=["events:PutEvents"],
                    resources=[bus.event_bus_arn],
                    conditions={"StringEquals": {"aws:PrincipalOrgID": organization_id}},
                ),
            )
        )
    policies = []
    for name, statement in statements:
        statement.sid = f"{prefix}{name}"
        policies.append(
            events.CfnEventBusPolicy(
                scope,
                f"Publisher{name}Policy",
                event_bus_name=bus.event_bus_name,
                statement_id=statement.sid,
                statement=statement.to_statement_json(),
            )
        )
    return policies


def cdk_target(target: EventTarget, kind: str) -> events.IRuleTarget:
    """The CDK target object for ``target`` (its retry policy and DLQ are added on top)."""
    resource, given = target.resource, target.input
    if kind == "function":
        return targets.LambdaFunction(resource, event=given)
    if kind == "queue":
        return targets.SqsQueue(resource, message=given, message_group_id=target.message_group_id)
    if kind == "topic":
        return targets.SnsTopic(resource, message=given)
    if kind == "state machine":
        return targets.SfnStateMachine(resource, input=given)
    if kind == "event bus":
        return targets.EventBus(resource)
    if kind == "delivery stream":
        # The rule's role may put records on this stream only (firehose:PutRecord(Batch)).
        return targets.FirehoseDeliveryStream(resource, message=given)
    return resource  # a CDK target object


@jsii.implements(events.IRuleTarget)
class DeadLetteredTarget:
    """A rule target with a retry policy and a dead-letter queue, whatever target it wraps.

    The DLQ's policy lets EventBridge send to it for this rule only (``aws:SourceArn``).
    A wrapped CDK target that sets its own DLQ or retry policy is left as it is and flagged
    in ``conflict``: the router reports it.
    """

    def __init__(
        self,
        inner: events.IRuleTarget,
        *,
        dead_letter_queue: sqs.IQueue,
        retry_attempts: int,
        max_event_age: Duration,
    ) -> None:
        self.inner = inner
        self.dead_letter_queue = dead_letter_queue
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age
        self.conflict = False

    def bind(self, rule: "IRuleRef", id: str | None = None) -> events.RuleTargetConfig:
        assert isinstance(rule, events.Rule)  # what EventRouter binds it to
        config = options_of(self.inner.bind(rule, id))
        if config.get("dead_letter_config") or config.get("retry_policy"):
            self.conflict = True
            return events.RuleTargetConfig(**config)
        config["dead_letter_config"] = events.CfnRule.DeadLetterConfigProperty(
            arn=self.dead_letter_queue.queue_arn
        )
        config["retry_policy"] = events.CfnRule.RetryPolicyProperty(
            maximum_retry_attempts=self.retry_attempts,
            maximum_event_age_in_seconds=int(self.max_event_age.to_seconds()),
        )
        self.dead_letter_queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"AllowEventRule{Names.node_unique_id(rule.node)}"[:100],
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
            )
        )
        return events.RuleTargetConfig(**config)


def capture_function_failures(
    scope: Construct, function: lambda_.IFunction, dead_letter_queue: sqs.IQueue, label: str
) -> bool:
    """Send ``function``'s asynchronous failures to ``dead_letter_queue``; ``True`` if done.

    EventBridge invokes Lambda asynchronously: its DLQ only sees events Lambda never
    accepted. Errors the function raises are retried by Lambda (2 retries, up to 6 hours),
    then go to this on-failure destination: a record with the event (``requestPayload``)
    and the error (``responsePayload``). Only a function (or alias/version) defined in this
    app without its own asynchronous-invocation settings can be configured; otherwise a
    warning says where its failures go.
    """
    if not isinstance(function, lambda_.Function | lambda_.Alias | lambda_.Version):
        Annotations.of(scope).add_warning_v2(
            "serverless-patterns:function-failures-not-captured",
            f"{label}: the function is not defined in this app, so errors it raises after "
            "EventBridge delivered the event do not reach this route's DLQ; give it an "
            "on-failure destination where it is defined.",
        )
        return False
    if function.node.try_find_child("EventInvokeConfig") is not None or (
        isinstance(function, lambda_.Function) and function.dead_letter_queue is not None
    ):
        Annotations.of(scope).add_warning_v2(
            "serverless-patterns:function-failures-elsewhere",
            f"{label}: the function already has asynchronous-invocation settings (another "
            "route, or your own): errors it raises go where those say, not to this route's DLQ.",
        )
        return False
    function.configure_async_invoke(
        on_failure=destinations.SqsDestination(dead_letter_queue),
        retry_attempts=FUNCTION_RETRY_ATTEMPTS,
        max_event_age=FUNCTION_MAX_EVENT_AGE,
    )
    justify(function, "on-failure-destination")
    return True


def event_trigger(
    scope: Construct,
    construct_id: str,
    machine: sfn.IStateMachine,
    *,
    dead_letter_queue: sqs.IQueue,
    role: iam.IRole,
    event_pattern: events.EventPattern | None = None,
    schedule: events.Schedule | None = None,
    event_bus: events.IEventBus | None = None,
    target_input: events.RuleTargetInput | None = None,
) -> events.Rule:
    """A rule that starts ``machine`` on matching events or on ``schedule``.

    The target retries a failed start with backoff for up to 6 hours, then sends the event to
    ``dead_letter_queue``: no event is lost silently. ``role`` is granted the start.
    """
    return events.Rule(
        scope,
        construct_id,
        event_pattern=event_pattern,
        schedule=schedule,
        event_bus=event_bus,
        targets=[
            targets.SfnStateMachine(
                machine,
                input=target_input,
                role=role,
                dead_letter_queue=dead_letter_queue,
                retry_attempts=DEFAULT_RETRY_ATTEMPTS,
                max_event_age=DEFAULT_MAX_EVENT_AGE,
            )
        ],
    )
