"""What a FanOut is told (its subscribers) and what it answers (their resources)."""

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from serverless_patterns.core.queues import DEFAULT_MAX_RECEIVE_COUNT


@dataclass(frozen=True)
class QueueSubscriber:
    """A subscriber whose messages wait in its own SQS queue, optionally consumed by a Lambda.

    ``QueueSubscriber("billing", code=lambda_.Code.from_asset("handlers/billing"),
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
    :param code: code of a function that consumes the queue in batches and reports partial
        batch failures (the consumer). Default: no consumer.
    :param handler: the handler within ``code``. Default: ``"app.handler"``.
    :param function_options: overrides for the consumer's function defaults. Default: none.
    :param existing_function: your function consumes the queue instead (it is granted
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
    code: lambda_.Code | None = None
    handler: str = "app.handler"
    function_options: lambda_.FunctionOptions | None = None
    existing_function: lambda_.IFunction | None = None
    batch_size: int | None = None
    max_batching_window: Duration | None = None
    max_concurrency: int | None = None
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
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
