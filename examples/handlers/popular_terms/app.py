"""Popular terms: count the words of each published message, exactly once per message.

Consumes the ``popular-terms`` queue of the published-messages topic (raw delivery: each SQS
body is the message the API published). A message's terms (lowercased words of two letters
or more, common English words left out) are added to the word-count table in **one
transaction with a marker** ``counted#<message id>#<part>`` that may only be written once:
when SQS delivers the message again, the marker's condition fails, the whole transaction is
cancelled, and nothing is counted twice. A message with more distinct terms than a
transaction holds is counted in parts, each with its own marker, so a retry after a partial
failure finishes the remaining parts only.

Each term item carries ``shard`` and ``count``; the table's ``by_count`` index sorts the
terms of each shard by count, and the API merges the top N of every shard. The shard is
``terms#<crc32(term) mod TERMS_SHARDS>``: always the same for a term (so each term has one
count, in one shard), and spread over ``TERMS_SHARDS`` index partitions instead of one hot one
(DynamoDB developer guide, "Using write sharding to distribute workloads evenly").

Throttling and contention are retried, then handed back to SQS. The SDK retries DynamoDB's
throttling errors itself (standard retry mode, 3 attempts). A transaction that DynamoDB
cancels for throttling (``ThrottlingError`` / ``ProvisionedThroughputExceeded`` reasons) or for
a conflict on a hot term (``TransactionConflict``) is retried here with exponential backoff
and jitter. Still throttled, the message is reported as a batch item failure, and so is the
rest of the batch without being tried: SQS redelivers them after the visibility timeout (after
five receives, to the dead-letter queue). A throttled transaction writes nothing, and a
transaction that did commit has written its marker, so a redelivery still counts once.
"""

import json
import os
import random
import re
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

#: DynamoDB allows 100 actions per transaction: the marker and 99 terms.
TERMS_PER_TRANSACTION = 99
#: Markers outlive the dead-letter queue's 14 days, so a redriven message still counts once.
MARKER_TTL_SECONDS = 15 * 24 * 60 * 60
#: Attempts at a transaction DynamoDB cancels for throttling or a conflict, and the backoff.
TRANSACTION_ATTEMPTS = 4
BACKOFF_SECONDS = 0.05
#: What DynamoDB answers when a table, index or account is over its throughput.
THROTTLING_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
#: Cancellation reasons that another try can clear (each other item's reason is "None").
RETRYABLE_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}
)
MIN_LENGTH, MAX_LENGTH = 2, 40
APOSTROPHE = "\u2019"  # the typographic apostrophe, read as "'"
WORD = re.compile(rf"[^\W\d_]+(?:['{APOSTROPHE}-][^\W\d_]+)*")
#: Common English words: frequent everywhere, popular nowhere.
STOP_WORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves it's i'm don't can't won't isn't aren't wasn't weren't let's
"""
STOP_WORDS = frozenset(STOP_WORDS_TEXT.split())

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)
word_counts = boto3.resource(
    "dynamodb", config=Config(retries={"mode": "standard", "total_max_attempts": 3})
).Table(os.environ["WORD_COUNTS_TABLE"])


class Throttled(RuntimeError):
    """DynamoDB is still throttling (or contended) after the retries: SQS redelivers later."""


@dataclass
class Invocation:
    """Whether DynamoDB throttled this invocation: its later messages are not tried then."""

    throttled: bool = False


class InvalidMessage(ValueError):
    """The queue holds something the API did not publish; retrying will not help."""


def shard_of(term: str) -> str:
    """The terms-index partition of ``term``: the same one every time, spread over the shards."""
    return f"terms#{zlib.crc32(term.encode()) % int(os.environ['TERMS_SHARDS'])}"


def worth_retrying(cancelled: ClientError) -> bool:
    """A transaction cancelled only for throttling or a conflict: it can succeed later."""
    reasons = {reason.get("Code") for reason in cancelled.response.get("CancellationReasons", [])}
    return bool(reasons & RETRYABLE_REASONS) and reasons <= RETRYABLE_REASONS | {"None"}


def terms(text: str) -> Counter[str]:
    """How often each term occurs in ``text``."""
    words = (word.casefold().replace(APOSTROPHE, "'") for word in WORD.findall(text))
    return Counter(
        word for word in words if MIN_LENGTH <= len(word) <= MAX_LENGTH and word not in STOP_WORDS
    )


def published_message(body: str) -> tuple[str, str]:
    """The message's id and text."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        raise InvalidMessage("the message is not JSON") from None
    if not isinstance(message, dict):
        raise InvalidMessage("the message is not a JSON object")
    message_id, text = message.get("id"), message.get("text")
    if not isinstance(message_id, str) or not message_id:
        raise InvalidMessage("the message has no id")
    if not isinstance(text, str):
        raise InvalidMessage("the message has no text")
    return message_id, text


def count_once(marker: str, counts: list[tuple[str, int]]) -> bool:
    """Add ``counts`` and write ``marker`` in one transaction; False if ``marker`` exists."""
    table = word_counts.table_name
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table,
                "Item": {"pk": marker, "expires_at": int(time.time()) + MARKER_TTL_SECONDS},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ]
    for term, occurrences in counts:
        actions.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": f"term#{term}"},
                    "UpdateExpression": "SET #term = :term, #shard = :shard ADD #count :n",
                    "ExpressionAttributeNames": {
                        "#term": "term",
                        "#shard": "shard",
                        "#count": "count",
                    },
                    "ExpressionAttributeValues": {
                        ":term": term,
                        ":shard": shard_of(term),
                        ":n": occurrences,
                    },
                }
            }
        )
    for attempt in range(TRANSACTION_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
        try:
            word_counts.meta.client.transact_write_items(TransactItems=actions)
            return True
        except ClientError as error:
            code = error.response["Error"]["Code"]
            reasons = error.response.get("CancellationReasons") or [{}]
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            if code in THROTTLING_ERRORS:  # the SDK has retried it already
                raise Throttled(f"{marker}: {error}") from error
            if code != "TransactionCanceledException" or not worth_retrying(error):
                raise
            cancelled = error
    raise Throttled(f"{marker}: {cancelled}") from cancelled


@tracer.capture_method
def count_message(record: SQSRecord, invocation: Invocation) -> dict[str, Any]:
    if invocation.throttled:
        raise Throttled("not tried: DynamoDB throttled an earlier message of this batch")
    message_id, text = published_message(record.body)
    counts = sorted(terms(text).items())
    parts = [
        counts[start : start + TERMS_PER_TRANSACTION]
        for start in range(0, len(counts), TERMS_PER_TRANSACTION)
    ]
    try:
        counted = sum(
            count_once(f"counted#{message_id}#{index}", part) for index, part in enumerate(parts)
        )
    except Throttled:
        invocation.throttled = True
        logger.warning("throttled: SQS redelivers the message", extra={"message_id": message_id})
        raise
    if parts and not counted:
        logger.info("duplicate delivery: already counted", extra={"message_id": message_id})
    else:
        logger.info("message counted", extra={"message_id": message_id, "terms": len(counts)})
    return {"message_id": message_id, "parts": len(parts), "counted": counted}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    return process_partial_response(
        event=event,
        record_handler=partial(count_message, invocation=Invocation()),
        processor=processor,
        context=context,
    )
