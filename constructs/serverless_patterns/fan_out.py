"""FanOut: one SNS topic, many subscribers, each with its own filter policy and DLQ."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from types import MappingProxyType
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core import queues as queue_defaults
from serverless_patterns.core import topics as topic_defaults
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.functions import DEFAULT_TIMEOUT, python_function
from serverless_patterns.core.props import merge
from serverless_patterns.core.validation import Problems, is_token

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
DEFAULT_BATCH_SIZE = 10
MAX_BATCH_SIZE = 10  # without a batching window (and always for FIFO queues)
MAX_BATCH_SIZE_WITH_WINDOW = 10_000
MAX_BATCHING_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class QueueSubscriber:
    """A subscriber whose messages wait in its own SQS queue, optionally consumed by a Lambda.

    ``QueueSubscriber("billing", consumer=lambda_.Code.from_asset("handlers/billing"),
    filter_policy={"event_type": sns.SubscriptionFilter.string_filter(allowlist=["OrderPlaced"])})``

    :param name: unique within the FanOut; names the subscriber's constructs (renaming it
        replaces its queue) and its service in logs, traces and metrics.
    :param filter_policy: only messages whose **attributes** match reach the queue.
        Default: every message.
    :param filter_policy_with_message_body: only messages whose JSON **body** matches reach
        the queue (instead of ``filter_policy``). Default: every message.
    :param raw_message_delivery: the queue receives the published body as is (attributes
        become SQS message attributes) instead of SNS's JSON envelope. Default: ``False``,
        the envelope, whose ``MessageId`` stays the same across redeliveries.
    :param consumer: code of a function that consumes the queue in batches and reports
        partial batch failures (handler ``consumer_handler``). Default: no consumer.
    :param consumer_handler: the handler within ``consumer``. Default: ``"app.handler"``.
    :param consumer_options: overrides for the consumer's function defaults. Default: none.
    :param existing_consumer: your function consumes the queue instead (it is granted
        consume access and must answer ``batchItemFailures``).
    :param batch_size: messages per invocation. Default: 10 (at most 10, or 10,000 with a
        batching window on a standard queue).
    :param max_batching_window: wait up to this long (≤ 5 min, standard queues only) to fill
        a batch. Default: none.
    :param max_concurrency: at most this many concurrent consumers (2-1000). Default: none.
    :param max_receive_count: receives before a message moves to the dead-letter queue; at
        least 5 when a function consumes the queue (AWS's advice). Default: 5.
    :param queue_props: overrides for the queue's defaults (SSE-SQS, TLS only, DLQ after
        ``max_receive_count``, visibility timeout 6 x the consumer's timeout).
    :param existing_queue: your queue instead (its own redrive policy applies; the
        subscription still gets a dead-letter queue).
    """

    name: str
    _: KW_ONLY
    filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None
    filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None
    raw_message_delivery: bool = False
    consumer: lambda_.Code | None = None
    consumer_handler: str = "app.handler"
    consumer_options: lambda_.FunctionOptions | None = None
    existing_consumer: lambda_.IFunction | None = None
    batch_size: int | None = None
    max_batching_window: Duration | None = None
    max_concurrency: int | None = None
    max_receive_count: int = queue_defaults.DEFAULT_MAX_RECEIVE_COUNT
    queue_props: sqs.QueueProps | None = None
    existing_queue: sqs.IQueue | None = None


@dataclass(frozen=True)
class FunctionSubscriber:
    """A subscriber that SNS invokes directly (asynchronously), one message per invocation.

    ``FunctionSubscriber("audit", code=lambda_.Code.from_asset("handlers/audit"))``

    Lambda retries a failed invocation twice; then the message goes to the subscriber's
    dead-letter queue, which also receives what SNS could not deliver to Lambda at all.
    Standard topics only: SNS FIFO topics deliver to SQS FIFO queues only.

    :param name: unique within the FanOut; names the subscriber's constructs and its service.
    :param code: the function's code (give this or ``existing_function``).
    :param handler: the handler within ``code``. Default: ``"app.handler"``.
    :param function_options: overrides for the function's defaults; by default its
        asynchronous failures go to the subscriber's dead-letter queue.
    :param existing_function: your function instead (its asynchronous failures go where you
        configured them; the subscription gets a dead-letter queue).
    :param filter_policy: only messages whose attributes match invoke the function.
    :param filter_policy_with_message_body: only messages whose JSON body matches.
    """

    name: str
    _: KW_ONLY
    code: lambda_.Code | None = None
    handler: str = "app.handler"
    function_options: lambda_.FunctionOptions | None = None
    existing_function: lambda_.IFunction | None = None
    filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None
    filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None


Subscriber = QueueSubscriber | FunctionSubscriber


@dataclass(frozen=True)
class SubscriberResources:
    """What FanOut built (or wired) for one subscriber.

    :param subscription: the SNS subscription, with its filter policy and redrive policy.
    :param dead_letter_queue: everything this subscriber failed to take: messages SNS could
        not deliver, messages the consumer failed ``max_receive_count`` times, and (function
        subscribers) invocations that failed after Lambda's retries.
    :param queue: the subscriber's queue (queue subscribers).
    :param function: the consumer (queue subscribers) or the subscribed function.
    """

    name: str
    subscription: sns.Subscription
    dead_letter_queue: sqs.IQueue
    queue: sqs.IQueue | None = None
    function: lambda_.IFunction | None = None


class FanOut(Construct):
    """An SNS topic whose every message reaches each subscriber its filter policy admits.

    One event, many independent consumers: each subscriber has its own filter, its own
    dead-letter queue (with an alarm) and, for queues, its own pace.

    Smallest use::

        FanOut(self, "OrderEvents", subscribers=[
            QueueSubscriber("billing", consumer=lambda_.Code.from_asset("handlers/billing")),
        ])

    :param subscribers: the ``QueueSubscriber`` and ``FunctionSubscriber`` declarations,
        each with a unique name. At least one.
    :param topic_props: overrides for the topic's defaults (encrypted with the AWS-managed
        ``alias/aws/sns`` key, TLS-only policy that grants nothing). ``fifo=True`` makes a
        FIFO topic whose queues (and DLQs) are FIFO too; ``master_key`` a customer-managed
        key (needed when AWS services or other accounts publish). Default: none.
    :param existing_topic: your topic instead of a new one (FIFO if its name ends in ``.fifo``).
    :param alarm_topic: an SNS topic that receives every alarm and its recovery.

    Attributes: ``topic``, ``subscribers`` (name -> :class:`SubscriberResources`), ``alarms``.
    Publishers need a grant: ``grant_publish(role)``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        subscribers: Sequence[Subscriber],
        topic_props: sns.TopicProps | None = None,
        existing_topic: sns.ITopic | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        problems = Problems("FanOut")
        problems.exclusive(existing_topic=existing_topic, topic_props=topic_props)
        fifo = topic_defaults.is_fifo(topic_props, existing_topic)
        topic_defaults.validate_fifo_only_options(
            problems, "topic_props", topic_props, topic_defaults.FIFO_TOPIC_OPTIONS
        )
        topic_defaults.validate_alarm_topic(problems, alarm_topic)
        _validate_subscribers(problems, subscribers, fifo=fifo)
        problems.raise_if_any()

        self.topic: sns.ITopic = existing_topic or topic_defaults.topic(
            self, "Topic", props=topic_props
        )
        self.alarms: list[cloudwatch.Alarm] = [
            topic_defaults.lost_messages_alarm(self, "LostMessages", self.topic)
        ]
        built: dict[str, SubscriberResources] = {}
        for subscriber in subscribers:
            scope_of_subscriber = Construct(self, subscriber.name)
            if isinstance(subscriber, QueueSubscriber):
                built[subscriber.name] = self._queue_subscriber(
                    scope_of_subscriber, subscriber, fifo=fifo
                )
            else:
                built[subscriber.name] = self._function_subscriber(scope_of_subscriber, subscriber)
        self.subscribers: Mapping[str, SubscriberResources] = MappingProxyType(built)
        alarm_defaults.notify(self.alarms, alarm_topic)

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to publish to the topic (and use its key, if customer-managed)."""
        return self.topic.grant_publish(grantee)

    def _queue_subscriber(
        self, scope: Construct, subscriber: QueueSubscriber, *, fifo: bool
    ) -> SubscriberResources:
        dead_letter_queue = queue_defaults.dead_letter_queue(scope, "DeadLetterQueue", fifo=fifo)
        function: lambda_.IFunction | None = subscriber.existing_consumer
        if subscriber.consumer is not None:
            function = python_function(
                scope,
                "Consumer",
                code=subscriber.consumer,
                handler=subscriber.consumer_handler,
                service_name=subscriber.name,
                options=subscriber.consumer_options,
            )
        queue = subscriber.existing_queue or queue_defaults.queue(
            scope,
            "Queue",
            dead_letter_queue=dead_letter_queue,
            props=_queue_props(subscriber.queue_props, fifo=fifo),
            max_receive_count=subscriber.max_receive_count,
            consumer_timeout=_timeout_of(subscriber, function),
        )
        subscription = topic_defaults.subscribe_queue(
            self.topic,
            queue,
            dead_letter_queue=dead_letter_queue,
            raw_message_delivery=subscriber.raw_message_delivery,
            filter_policy=subscriber.filter_policy,
            filter_policy_with_message_body=subscriber.filter_policy_with_message_body,
        )
        self.alarms.append(
            alarm_defaults.dead_letter_queue_alarm(scope, "DeadLetterQueueAlarm", dead_letter_queue)
        )
        if function is not None:
            queue_defaults.consume(
                function,
                queue,
                batch_size=subscriber.batch_size or DEFAULT_BATCH_SIZE,
                max_batching_window=subscriber.max_batching_window,
                max_concurrency=subscriber.max_concurrency,
            )
            self.alarms.extend(alarm_defaults.function_alarms(scope, "Consumer", function))
        return SubscriberResources(
            name=subscriber.name,
            subscription=subscription,
            dead_letter_queue=dead_letter_queue,
            queue=queue,
            function=function,
        )

    def _function_subscriber(
        self, scope: Construct, subscriber: FunctionSubscriber
    ) -> SubscriberResources:
        dead_letter_queue = queue_defaults.dead_letter_queue(scope, "DeadLetterQueue")
        if subscriber.existing_function is not None:
            function: lambda_.IFunction = subscriber.existing_function
        else:
            assert subscriber.code is not None
            function = python_function(
                scope,
                "Function",
                code=subscriber.code,
                handler=subscriber.handler,
                service_name=subscriber.name,
                options=lambda_.FunctionOptions(
                    **merge({"dead_letter_queue": dead_letter_queue}, subscriber.function_options)
                ),
            )
        subscription = topic_defaults.subscribe_function(
            self.topic,
            function,
            dead_letter_queue=dead_letter_queue,
            filter_policy=subscriber.filter_policy,
            filter_policy_with_message_body=subscriber.filter_policy_with_message_body,
        )
        if subscriber.existing_function is None:
            justify(function, "function-dead-letter-queue")
        self.alarms.append(
            alarm_defaults.dead_letter_queue_alarm(scope, "DeadLetterQueueAlarm", dead_letter_queue)
        )
        self.alarms.extend(alarm_defaults.function_alarms(scope, "Function", function))
        return SubscriberResources(
            name=subscriber.name,
            subscription=subscription,
            dead_letter_queue=dead_letter_queue,
            function=function,
        )


def _queue_props(props: sqs.QueueProps | None, *, fifo: bool) -> sqs.QueueProps | None:
    """A FIFO topic's queues are FIFO; the user's props change only what they set."""
    if not fifo:
        return props
    return sqs.QueueProps(**merge({"fifo": True}, props))


def _timeout_of(subscriber: QueueSubscriber, function: lambda_.IFunction | None) -> Duration | None:
    """The consumer's timeout, which sets the queue's visibility timeout (None: no consumer)."""
    if subscriber.consumer is not None:
        options = subscriber.consumer_options
        return (options.timeout if options else None) or DEFAULT_TIMEOUT
    return getattr(function, "timeout", None)


def _validate_subscribers(problems: Problems, subscribers: Sequence[Any], *, fifo: bool) -> None:
    if isinstance(subscribers, (str, bytes)) or not isinstance(subscribers, Sequence):
        problems.add(
            "subscribers", subscribers, "give a list of QueueSubscriber/FunctionSubscriber"
        )
        return
    if not subscribers:
        problems.add("subscribers", [], "give at least one QueueSubscriber or FunctionSubscriber")
    names = []
    for subscriber in subscribers:
        if not isinstance(subscriber, (QueueSubscriber, FunctionSubscriber)):
            problems.add(
                "subscribers", subscriber, "each must be a QueueSubscriber or FunctionSubscriber"
            )
            continue
        option = f"subscribers[{subscriber.name!r}]"
        if not isinstance(subscriber.name, str) or not _NAME.match(subscriber.name):
            problems.add(
                f"{option}.name",
                subscriber.name,
                "use 1-64 letters, digits or hyphens, starting with a letter",
            )
        else:
            names.append(subscriber.name)
        topic_defaults.validate_filter_policies(
            problems, option, subscriber.filter_policy, subscriber.filter_policy_with_message_body
        )
        if isinstance(subscriber, QueueSubscriber):
            _validate_queue_subscriber(problems, option, subscriber, fifo=fifo)
        else:
            _validate_function_subscriber(problems, option, subscriber, fifo=fifo)
    problems.unique("subscribers", names)


def _validate_queue_subscriber(
    problems: Problems, option: str, subscriber: QueueSubscriber, *, fifo: bool
) -> None:
    if subscriber.consumer is not None and subscriber.existing_consumer is not None:
        problems.add(f"{option}.consumer", "and existing_consumer", "give only one of the two")
    if subscriber.consumer_options is not None and subscriber.consumer is None:
        problems.add(
            f"{option}.consumer_options",
            "without consumer",
            "consumer_options configure the function built from consumer=; give consumer= or "
            "configure your existing_consumer yourself",
        )
    has_consumer = subscriber.consumer is not None or subscriber.existing_consumer is not None
    for name in ("batch_size", "max_batching_window", "max_concurrency"):
        if not has_consumer and getattr(subscriber, name) is not None:
            problems.add(
                f"{option}.{name}",
                getattr(subscriber, name),
                "only applies with consumer= or existing_consumer=",
            )
    window = subscriber.max_batching_window
    if window is not None and fifo:
        problems.add(
            f"{option}.max_batching_window",
            window.to_human_string(),
            "Lambda supports no batching window on FIFO queues; drop it",
        )
    elif (
        window is not None
        and not is_token(window.to_seconds())
        and window.to_seconds() > MAX_BATCHING_WINDOW_SECONDS
    ):
        problems.add(
            f"{option}.max_batching_window",
            window.to_human_string(),
            f"must be {MAX_BATCHING_WINDOW_SECONDS} seconds or less",
        )
    limit = MAX_BATCH_SIZE_WITH_WINDOW if window is not None and not fifo else MAX_BATCH_SIZE
    problems.in_range(f"{option}.batch_size", subscriber.batch_size, 1, limit)
    problems.in_range(f"{option}.max_concurrency", subscriber.max_concurrency, 2, 1000)
    if subscriber.consumer is not None or subscriber.existing_consumer is not None:
        queue_defaults.validate_lambda_max_receive_count(
            problems, f"{option}.max_receive_count", subscriber.max_receive_count
        )
    else:
        problems.in_range(f"{option}.max_receive_count", subscriber.max_receive_count, 1, 1000)
    _validate_queue(problems, option, subscriber, fifo=fifo)


def _validate_queue(
    problems: Problems, option: str, subscriber: QueueSubscriber, *, fifo: bool
) -> None:
    props, existing = subscriber.queue_props, subscriber.existing_queue
    if props is not None and existing is not None:
        problems.add(f"{option}.existing_queue", "and queue_props", "give only one of the two")
    if existing is not None:
        if subscriber.max_receive_count != queue_defaults.DEFAULT_MAX_RECEIVE_COUNT:
            problems.add(
                f"{option}.max_receive_count",
                subscriber.max_receive_count,
                "only applies to the queue FanOut creates; set your queue's redrive policy",
            )
        if bool(existing.fifo) != fifo:
            problems.add(
                f"{option}.existing_queue",
                "FIFO" if existing.fifo else "standard",
                _fifo_fix(fifo),
            )
        if queue_defaults.uses_aws_managed_key(existing):
            problems.add(
                f"{option}.existing_queue",
                "encrypted with alias/aws/sqs",
                "SNS cannot deliver to it: use SQS-managed encryption or a customer-managed key",
            )
    if props is None:
        return
    if props.fifo is not None and bool(props.fifo) != fifo:
        problems.add(f"{option}.queue_props.fifo", props.fifo, _fifo_fix(fifo))
    if not fifo:
        topic_defaults.validate_fifo_only_options(
            problems, f"{option}.queue_props", props, topic_defaults.FIFO_QUEUE_OPTIONS
        )
    if props.encryption == sqs.QueueEncryption.KMS_MANAGED:
        problems.add(
            f"{option}.queue_props.encryption",
            "KMS_MANAGED",
            "SNS cannot deliver to a queue encrypted with alias/aws/sqs: keep the default "
            "(SQS-managed) or use QueueEncryption.KMS with your key",
        )
    if props.dead_letter_queue is not None:
        problems.add(
            f"{option}.queue_props.dead_letter_queue",
            "given",
            "the subscriber's dead-letter queue is built for you (and alarmed); use "
            "max_receive_count to tune it",
        )
    consumer_timeout = _timeout_of(subscriber, subscriber.existing_consumer)
    if consumer_timeout is not None:
        queue_defaults.validate_visibility_timeout(
            problems,
            f"{option}.queue_props.visibility_timeout",
            props.visibility_timeout,
            consumer_timeout,
        )


def _fifo_fix(fifo: bool) -> str:
    if fifo:
        return (
            "a FIFO topic fans out to FIFO queues only (ordering and deduplication hold end to end)"
        )
    return "a standard topic cannot deliver to a FIFO queue; use a FIFO topic or a standard queue"


def _validate_function_subscriber(
    problems: Problems, option: str, subscriber: FunctionSubscriber, *, fifo: bool
) -> None:
    if fifo:
        problems.add(
            option,
            "FunctionSubscriber",
            "SNS FIFO topics deliver only to SQS FIFO queues: use a QueueSubscriber with "
            "consumer= (it keeps the order per message group)",
        )
    if (subscriber.code is None) == (subscriber.existing_function is None):
        problems.add(
            f"{option}.code", subscriber.code, "give exactly one of code= or existing_function="
        )
    if subscriber.existing_function is not None and subscriber.function_options is not None:
        problems.add(
            f"{option}.function_options",
            "with existing_function",
            "function_options configure the function built from code=; configure yours yourself",
        )
