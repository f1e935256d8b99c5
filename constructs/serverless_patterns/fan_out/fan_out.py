"""FanOut: one SNS topic, many subscribers, each with its own filter policy and DLQ."""

from collections.abc import Mapping, Sequence
from types import MappingProxyType

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
from serverless_patterns.core.functions import python_function
from serverless_patterns.core.props import merge
from serverless_patterns.core.validation import Problems
from serverless_patterns.fan_out.subscribers import (
    FunctionSubscriber,
    QueueSubscriber,
    SubscriberResources,
)
from serverless_patterns.fan_out.validation import consumer_timeout, validate_subscribers

DEFAULT_BATCH_SIZE = 10
Subscriber = QueueSubscriber | FunctionSubscriber


class FanOut(Construct):
    """An SNS topic whose every message reaches each subscriber its filter policy admits.

    One event, many independent consumers: each subscriber has its own filter, its own
    dead-letter queue (with an alarm) and, for queues, its own pace.

    Smallest use::

        FanOut(self, "OrderEvents", subscribers=[
            QueueSubscriber("billing", code=lambda_.Code.from_asset("handlers/billing")),
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
        problems.expect("topic_props", topic_props, sns.TopicProps, "sns.TopicProps(...)")
        problems.raise_if_any()  # the checks below rely on its type
        problems.exclusive(existing_topic=existing_topic, topic_props=topic_props)
        fifo = topic_defaults.is_fifo(topic_props, existing_topic)
        topic_defaults.validate_fifo_only_options(
            problems, "topic_props", topic_props, topic_defaults.FIFO_TOPIC_OPTIONS
        )
        topic_defaults.validate_alarm_topic(problems, alarm_topic)
        validate_subscribers(problems, subscribers, fifo=fifo)
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
        function: lambda_.IFunction | None = subscriber.existing_function
        if subscriber.code is not None:
            function = _function_of(scope, "Consumer", subscriber, subscriber.function_options)
        queue = subscriber.existing_queue or queue_defaults.queue(
            scope,
            "Queue",
            dead_letter_queue=dead_letter_queue,
            props=_queue_props(subscriber.queue_props, fifo=fifo),
            max_receive_count=subscriber.max_receive_count,
            consumer_timeout=consumer_timeout(subscriber),
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
            # By default its asynchronous failures go to the subscriber's dead-letter queue.
            options = merge({"dead_letter_queue": dead_letter_queue}, subscriber.function_options)
            function = _function_of(
                scope, "Function", subscriber, lambda_.FunctionOptions(**options)
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


def _function_of(
    scope: Construct,
    construct_id: str,
    subscriber: QueueSubscriber | FunctionSubscriber,
    options: lambda_.FunctionOptions | None,
) -> lambda_.Function:
    """The function built from a subscriber's ``code=`` (its service named after it)."""
    assert subscriber.code is not None  # validated
    return python_function(
        scope,
        construct_id,
        code=subscriber.code,
        handler=subscriber.handler,
        service_name=subscriber.name,
        options=options,
    )
