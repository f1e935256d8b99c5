"""SQS queues: encrypted, TLS-only, each with a dead-letter queue kept 14 days."""

from dataclasses import dataclass
from typing import cast

from aws_cdk import Annotations, Duration, Names
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core.compliance import justify
from serverless_patterns.core.props import merge, options_of
from serverless_patterns.core.validation import Problems, is_alias, is_token

DLQ_RETENTION = Duration.days(14)
#: Receives before a message is dead-lettered. AWS recommends at least 5 for a queue Lambda
#: consumes, so that receives Lambda throttles do not dead-letter good messages.
DEFAULT_MAX_RECEIVE_COUNT = 5
MIN_LAMBDA_MAX_RECEIVE_COUNT = 5
#: The AWS-managed SQS key: its key policy cannot be changed, so services that send to a
#: queue (SNS, EventBridge, S3) cannot use it.
AWS_MANAGED_KEY_ALIAS = "alias/aws/sqs"
#: AWS's guidance: a queue's visibility timeout is at least 6 x its consumer's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
#: Lambda's SQS event source: messages per batch without / with a batching window (FIFO
#: queues take no window), the longest window, and the range of maximum concurrency.
MAX_BATCH_SIZE = 10
MAX_BATCH_SIZE_WITH_WINDOW = 10_000
MAX_BATCHING_WINDOW_SECONDS = 300
MAX_CONCURRENCY_RANGE = (2, 1000)


def validate_lambda_max_receive_count(problems: Problems, option: str, value: float | None) -> None:
    """``value`` receives are allowed on a queue Lambda consumes: at least 5, at most 1,000."""
    if value is None or is_token(value):
        return
    if not MIN_LAMBDA_MAX_RECEIVE_COUNT <= value <= 1000:
        problems.add(
            option,
            value,
            f"give {MIN_LAMBDA_MAX_RECEIVE_COUNT} to 1000: a queue Lambda consumes needs at "
            "least 5 receives, or messages Lambda throttled are dead-lettered unprocessed",
        )


def uses_aws_managed_key(queue: sqs.IQueue) -> bool:
    """True if ``queue`` is known to be encrypted with ``alias/aws/sqs``."""
    if isinstance(queue, sqs.Queue) and queue.encryption_type == sqs.QueueEncryption.KMS_MANAGED:
        return True
    return is_alias(queue.encryption_master_key, AWS_MANAGED_KEY_ALIAS)


def dead_letter_queue(scope: Construct, construct_id: str, *, fifo: bool = False) -> sqs.Queue:
    """A dead-letter queue: SQS-managed encryption, TLS only, messages kept 14 days.

    SQS-managed encryption (SSE-SQS) lets SNS, EventBridge and Lambda deliver to it without a
    customer-managed KMS key (SNS cannot use the AWS-managed ``alias/aws/sqs`` key).
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
        fifo=fifo or None,
    )
    justify(queue, ["dead-letter-queue", "sse-sqs"])
    return queue


def queue(
    scope: Construct,
    construct_id: str,
    *,
    dead_letter_queue: sqs.IQueue,
    props: sqs.QueueProps | None = None,
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
    consumer_timeout: Duration | None = None,
) -> sqs.Queue:
    """A queue with the library's defaults; ``props`` override any of them.

    Defaults: SQS-managed encryption, TLS only, messages moved to ``dead_letter_queue`` after
    ``max_receive_count`` receives, and a visibility timeout of 6 x ``consumer_timeout``.
    """
    defaults: dict = {
        "encryption": sqs.QueueEncryption.SQS_MANAGED,
        "enforce_ssl": True,
        "dead_letter_queue": sqs.DeadLetterQueue(
            queue=dead_letter_queue, max_receive_count=max_receive_count
        ),
    }
    if consumer_timeout is not None:
        defaults["visibility_timeout"] = Duration.seconds(
            consumer_timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR
        )
    created = sqs.Queue(scope, construct_id, **merge(defaults, props))
    resource = created.node.default_child
    if isinstance(resource, sqs.CfnQueue) and resource.sqs_managed_sse_enabled is True:
        justify(created, "sse-sqs")
    return created


def validate_visibility_timeout(
    problems: Problems,
    option: str,
    visibility_timeout: Duration | None,
    consumer_timeout: Duration,
) -> None:
    """A visibility timeout shorter than 6 x the consumer's timeout re-delivers work in flight."""
    if visibility_timeout is None or is_token(visibility_timeout.to_seconds()):
        return
    needed = consumer_timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR
    if visibility_timeout.to_seconds() < needed:
        problems.add(
            option,
            f"{visibility_timeout.to_seconds():g}s",
            f"must be at least {VISIBILITY_TIMEOUT_FACTOR} x the consumer's timeout "
            f"({needed:g}s); raise it or shorten the function's timeout",
        )


def consume(
    function: lambda_.IFunction,
    source: sqs.IQueue,
    *,
    batch_size: int = 10,
    max_batching_window: Duration | None = None,
    max_concurrency: int | None = None,
) -> sources.SqsEventSource:
    """Have ``function`` consume ``source`` in batches, reporting partial batch failures.

    Only the failed messages of a batch return to the queue (and, after the queue's
    ``max_receive_count``, to its DLQ); the handler must answer ``batchItemFailures``
    (Powertools' ``BatchProcessor`` does).
    """
    event_source = sources.SqsEventSource(
        source,
        batch_size=batch_size,
        max_batching_window=max_batching_window,
        max_concurrency=max_concurrency,
        report_batch_item_failures=True,
    )
    function.add_event_source(event_source)
    mapping = function.node.try_find_child(f"SqsEventSource:{Names.node_unique_id(source.node)}")
    justify(mapping or function, "sqs-event-source")
    justify(function, "invoked-synchronously")
    return event_source


@dataclass(frozen=True)
class ResolvedQueue:
    """What a construct's queue options amount to, as far as they are known at synth.

    :param fifo: whether the queue is FIFO (None: an imported queue whose type is a token).
    :param dead_letter_queue: where the queue redrives to, if known (given in ``queue_props``
        or on an ``existing_queue`` defined in the app).
    :param max_receive_count: receives before a message moves to the dead-letter queue: the
        redrive policy's if known, else the one asked for, else the default.
    """

    fifo: bool | None
    dead_letter_queue: sqs.IQueue | None
    max_receive_count: int


def validate_existing_queue_keeps_failures(
    scope: Construct, problems: Problems, existing: sqs.IQueue | None
) -> None:
    """An ``existing_queue`` of a job-recording pattern must redrive to a dead-letter queue;
    for an imported one that cannot be checked at synth, so the app gets a warning."""
    if isinstance(existing, sqs.Queue) and existing.dead_letter_queue is None:
        problems.add(
            "existing_queue",
            existing.node.path,
            "has no dead-letter queue: give it dead_letter_queue=sqs.DeadLetterQueue"
            "(...) so failed jobs are kept for redrive",
        )
    elif existing is not None and not isinstance(existing, sqs.Queue):
        Annotations.of(scope).add_warning_v2(
            "serverless-patterns:imported-queue",
            "existing_queue is imported: make sure its redrive policy's maxReceiveCount "
            "equals max_receive_count, or jobs are marked failed too early or never.",
        )


def resolve_queue(
    problems: Problems,
    prefix: str,
    *,
    props: sqs.QueueProps | None,
    existing: sqs.IQueue | None,
    max_receive_count: int | None = None,
    consumer_timeout: Duration | None = None,
    consumed_by_lambda: bool = True,
) -> ResolvedQueue:
    """Resolve ``queue_props`` / ``existing_queue`` (options named after ``prefix``) and check
    that they agree: with ``max_receive_count``, with their dead-letter queue's type, and with
    the visibility timeout the consumer needs (6 x ``consumer_timeout``)."""
    options = options_of(props)
    wiring: sqs.DeadLetterQueue | None = options.get("dead_letter_queue")
    fifo: bool | None = bool(options.get("fifo"))
    if existing is not None:
        fifo = None if is_token(existing.fifo) else existing.fifo
        wiring = existing.dead_letter_queue if isinstance(existing, sqs.Queue) else None
    elif consumer_timeout is not None:
        validate_visibility_timeout(
            problems,
            f"{prefix}queue_props.visibility_timeout",
            options.get("visibility_timeout"),
            consumer_timeout,
        )
    if wiring is None:
        return ResolvedQueue(fifo, None, max_receive_count or DEFAULT_MAX_RECEIVE_COUNT)
    wired = wiring.max_receive_count
    if max_receive_count is not None and max_receive_count != wired:
        problems.add(
            f"{prefix}max_receive_count",
            max_receive_count,
            f"the queue's dead-letter queue says {wired}: omit it or make them equal",
        )
    if consumed_by_lambda:
        validate_lambda_max_receive_count(
            problems,
            f"{prefix}{'existing_queue' if existing is not None else 'queue_props'}"
            ".dead_letter_queue.max_receive_count",
            wired,
        )
    dead_letters = wiring.queue
    if fifo is not None and not is_token(dead_letters.fifo) and dead_letters.fifo != fifo:
        problems.add(
            f"{prefix}dead_letter_queue",
            "FIFO" if dead_letters.fifo else "standard",
            f"a {'FIFO' if fifo else 'standard'} queue needs a dead-letter queue of the same type",
        )
    return ResolvedQueue(fifo, dead_letters, cast(int, wired))  # a jsii number: int or token


def validate_consumer(
    problems: Problems,
    prefix: str,
    *,
    batch_size: int | None,
    max_batching_window: Duration | None,
    max_concurrency: int | None,
    function_options: lambda_.FunctionOptions | None,
    fifo: bool | None,
) -> None:
    """What Lambda's SQS event source accepts (options named after ``prefix``).

    Batches of 1 to 10 messages, up to 10,000 with a batching window of at most 5 minutes,
    which FIFO queues do not take; a maximum concurrency of 2 to 1,000, which a reserved
    concurrency below it would throttle.
    """
    window = max_batching_window
    if window is not None and fifo:
        problems.add(
            f"{prefix}max_batching_window",
            window.to_human_string(),
            "Lambda supports no batching window on FIFO queues; drop it",
        )
    elif (
        window is not None
        and not is_token(window.to_seconds())
        and window.to_seconds() > MAX_BATCHING_WINDOW_SECONDS
    ):
        problems.add(
            f"{prefix}max_batching_window",
            window.to_human_string(),
            f"must be {MAX_BATCHING_WINDOW_SECONDS} seconds or less",
        )
    largest = MAX_BATCH_SIZE if window is None or fifo else MAX_BATCH_SIZE_WITH_WINDOW
    if batch_size is not None and not is_token(batch_size) and not 1 <= batch_size <= largest:
        fix = f"must be between 1 and {largest}"
        if largest == MAX_BATCH_SIZE and not fifo:
            fix += f" (up to {MAX_BATCH_SIZE_WITH_WINDOW} with a max_batching_window)"
        problems.add(f"{prefix}batch_size", batch_size, fix)
    problems.in_range(f"{prefix}max_concurrency", max_concurrency, *MAX_CONCURRENCY_RANGE)
    reserved = options_of(function_options).get("reserved_concurrent_executions")
    if (
        reserved is not None
        and max_concurrency is not None
        and not is_token(reserved)
        and not is_token(max_concurrency)
        and reserved < max_concurrency
    ):
        problems.add(
            f"{prefix}function_options.reserved_concurrent_executions",
            reserved,
            f"is below max_concurrency ({max_concurrency}): the queue would throttle the "
            "consumer; lower max_concurrency or raise the reservation",
        )
