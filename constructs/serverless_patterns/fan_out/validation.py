"""FanOut's subscribers checked at construction: every problem at once, one ValueError."""

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs

from serverless_patterns.core import queues as queue_defaults
from serverless_patterns.core import topics as topic_defaults
from serverless_patterns.core.functions import effective_timeout
from serverless_patterns.core.validation import Problems
from serverless_patterns.fan_out.subscribers import FunctionSubscriber, QueueSubscriber

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
_BATCHING = ("batch_size", "max_batching_window", "max_concurrency")


def consumer_timeout(subscriber: QueueSubscriber) -> Duration | None:
    """The consumer's timeout, which sets the queue's visibility timeout (None: no consumer,
    or an imported one)."""
    if subscriber.code is None and subscriber.existing_function is None:
        return None
    return effective_timeout(subscriber.function_options, subscriber.existing_function)


def validate_subscribers(problems: Problems, subscribers: Sequence[Any], *, fifo: bool) -> None:
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
    if subscriber.code is not None and subscriber.existing_function is not None:
        problems.add(f"{option}.code", "and existing_function", "give only one of the two")
    if subscriber.function_options is not None and subscriber.code is None:
        problems.add(
            f"{option}.function_options",
            "without code",
            "function_options configure the function built from code=; give code= or "
            "configure your existing_function yourself",
        )
    has_consumer = subscriber.code is not None or subscriber.existing_function is not None
    for name in _BATCHING:
        if not has_consumer and getattr(subscriber, name) is not None:
            problems.add(
                f"{option}.{name}",
                getattr(subscriber, name),
                "only applies with code= or existing_function=",
            )
    queue_defaults.validate_consumer(
        problems,
        f"{option}.",
        batch_size=subscriber.batch_size,
        max_batching_window=subscriber.max_batching_window,
        max_concurrency=subscriber.max_concurrency,
        function_options=subscriber.function_options,
        fifo=fifo,
    )
    if has_consumer:
        queue_defaults.validate_lambda_max_receive_count(
            problems, f"{option}.max_receive_count", subscriber.max_receive_count
        )
    else:
        problems.in_range(f"{option}.max_receive_count", subscriber.max_receive_count, 1, 1000)
    _validate_queue(problems, option, subscriber, fifo=fifo, has_consumer=has_consumer)


def _validate_queue(
    problems: Problems, option: str, subscriber: QueueSubscriber, *, fifo: bool, has_consumer: bool
) -> None:
    props, existing = subscriber.queue_props, subscriber.existing_queue
    if props is not None and existing is not None:
        problems.add(f"{option}.existing_queue", "and queue_props", "give only one of the two")
    if props is not None and props.dead_letter_queue is not None:
        problems.add(
            f"{option}.queue_props.dead_letter_queue",
            "given",
            "the subscriber's dead-letter queue is built for you (and alarmed); use "
            "max_receive_count to tune it",
        )
    resolved = queue_defaults.resolve_queue(
        problems,
        f"{option}.",
        props=props if props is not None and props.dead_letter_queue is None else None,
        existing=existing,
        consumer_timeout=consumer_timeout(subscriber),
        consumed_by_lambda=has_consumer,
    )
    if existing is not None:
        _validate_existing_queue(problems, option, subscriber, existing, fifo=fifo)
    elif props is not None and props.fifo is not None and resolved.fifo != fifo:
        problems.add(f"{option}.queue_props.fifo", props.fifo, _fifo_fix(fifo))
    if props is None:
        return
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


def _validate_existing_queue(
    problems: Problems,
    option: str,
    subscriber: QueueSubscriber,
    existing: sqs.IQueue,
    *,
    fifo: bool,
) -> None:
    if subscriber.max_receive_count != queue_defaults.DEFAULT_MAX_RECEIVE_COUNT:
        problems.add(
            f"{option}.max_receive_count",
            subscriber.max_receive_count,
            "only applies to the queue FanOut creates; set your queue's redrive policy",
        )
    if bool(existing.fifo) != fifo:
        problems.add(
            f"{option}.existing_queue", "FIFO" if existing.fifo else "standard", _fifo_fix(fifo)
        )
    if queue_defaults.uses_aws_managed_key(existing):
        problems.add(
            f"{option}.existing_queue",
            "encrypted with alias/aws/sqs",
            "SNS cannot deliver to it: use SQS-managed encryption or a customer-managed key",
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
            "code= (it keeps the order per message group)",
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
