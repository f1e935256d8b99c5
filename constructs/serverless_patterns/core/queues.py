"""SQS queues: encrypted, TLS-only, each with a dead-letter queue kept 14 days."""

from aws_cdk import Duration, Names
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.props import merge
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


def validate_lambda_max_receive_count(problems: Problems, option: str, value: int | None) -> None:
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
    justify(queue, "dead-letter-queue")
    justify(queue, "sse-sqs")
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
