"""Popular terms: count the words of each published message, exactly once per message.

Consumes the ``popular-terms`` queue of the published-messages topic (raw delivery: each SQS
body is the message the API published). A message's terms (lowercased words of two letters
or more, common English words left out) are added to the word-count table in **one
transaction with a marker** ``counted#<message id>#<part>`` that may only be written once:
when SQS delivers the message again, the marker's condition fails, the whole transaction is
cancelled, and nothing is counted twice. A message with more distinct terms than a
transaction holds is counted in parts, each with its own marker, so a retry after a partial
failure finishes the remaining parts only.

Each term item carries ``shard`` (a constant) and ``count``: the table's ``by_count`` index
sorts every term by count, so the API's "top N" is one Query. Concurrent counters touching
the same popular term can conflict; a conflicted transaction is retried here a few times,
then the message returns to the queue (and, after five receives, its dead-letter queue).
"""

import json
import os
import random
import re
import time
from collections import Counter
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

#: DynamoDB allows 100 actions per transaction: the marker and 99 terms.
TERMS_PER_TRANSACTION = 99
#: Markers outlive the dead-letter queue's 14 days, so a redriven message still counts once.
MARKER_TTL_SECONDS = 15 * 24 * 60 * 60
CONFLICT_RETRIES = 3
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
word_counts = boto3.resource("dynamodb").Table(os.environ["WORD_COUNTS_TABLE"])


class InvalidMessage(ValueError):
    """The queue holds something the API did not publish; retrying will not help."""


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
                        ":shard": os.environ["TERMS_SHARD"],
                        ":n": occurrences,
                    },
                }
            }
        )
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            word_counts.meta.client.transact_write_items(TransactItems=actions)
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response["CancellationReasons"]]
            if reasons[0] == "ConditionalCheckFailed":
                return False
            if "TransactionConflict" not in reasons or attempt == CONFLICT_RETRIES:
                raise
            time.sleep(0.05 * 2**attempt + random.uniform(0, 0.05))
    raise AssertionError("unreachable")


@tracer.capture_method
def count_message(record: SQSRecord) -> dict[str, Any]:
    message_id, text = published_message(record.body)
    counts = sorted(terms(text).items())
    parts = [
        counts[start : start + TERMS_PER_TRANSACTION]
        for start in range(0, len(counts), TERMS_PER_TRANSACTION)
    ]
    counted = sum(
        count_once(f"counted#{message_id}#{index}", part) for index, part in enumerate(parts)
    )
    if parts and not counted:
        logger.info("duplicate delivery: already counted", extra={"message_id": message_id})
    else:
        logger.info("message counted", extra={"message_id": message_id, "terms": len(counts)})
    return {"message_id": message_id, "parts": len(parts), "counted": counted}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=count_message, processor=processor, context=context
    )
