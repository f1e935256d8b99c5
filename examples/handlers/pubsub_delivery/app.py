"""Delivery: copy each published message into the inbox of every subscriber of its topic,
then store it in the messages table.

Consumes the ``delivery`` queue of the published-messages topic (raw delivery: each SQS body
is the message the API published). Subscribers of a topic come from the subscribers table's
``by_topic`` index. An inbox entry is keyed by the message's publication time and id, so a
message SQS delivers twice is written twice to the same key: one entry, nothing doubled. The
message is stored last, under its id: a stored message has been delivered.
A message that cannot be read is reported as a batch item failure and, after five receives,
moves to the delivery dead-letter queue (alarmed).
"""

import json
import os
import time
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
from boto3.dynamodb.conditions import Key

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

#: Inbox entries expire (DynamoDB TTL) after this long; the messages table keeps the original.
INBOX_TTL_SECONDS = 30 * 24 * 60 * 60
FIELDS = ("id", "topic", "publisher_id", "text", "published_at")

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)
dynamodb = boto3.resource("dynamodb")
subscribers = dynamodb.Table(os.environ["SUBSCRIBERS_TABLE"])
messages = dynamodb.Table(os.environ["MESSAGES_TABLE"])


class InvalidMessage(ValueError):
    """The queue holds something the API did not publish; retrying will not help."""


def published_message(body: str) -> dict[str, str]:
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        raise InvalidMessage("the message is not JSON") from None
    if not isinstance(message, dict):
        raise InvalidMessage("the message is not a JSON object")
    for name in FIELDS:
        if not isinstance(message.get(name), str) or not message[name]:
            raise InvalidMessage(f"the message has no {name}")
    return {name: message[name] for name in FIELDS}


def subscribers_of(topic: str) -> list[str]:
    found: list[str] = []
    query: dict[str, Any] = {
        "IndexName": os.environ["SUBSCRIPTIONS_INDEX"],
        "KeyConditionExpression": Key("subscribed_topic").eq(topic),
    }
    while True:
        page = subscribers.query(**query)
        found += [item["pk"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@tracer.capture_method
def deliver(record: SQSRecord) -> int:
    message = published_message(record.body)
    recipients = subscribers_of(message["topic"])
    expires_at = int(time.time()) + INBOX_TTL_SECONDS
    with subscribers.batch_writer() as batch:
        for subscriber_id in recipients:
            batch.put_item(
                Item={
                    "pk": subscriber_id,
                    "sk": f"inbox#{message['published_at']}#{message['id']}",
                    "message_id": message["id"],
                    "topic": message["topic"],
                    "publisher_id": message["publisher_id"],
                    "text": message["text"],
                    "published_at": message["published_at"],
                    "expires_at": expires_at,
                }
            )
    messages.put_item(Item=message)
    logger.info(
        "message delivered",
        extra={
            "message_id": message["id"],
            "topic": message["topic"],
            "recipients": len(recipients),
        },
    )
    return len(recipients)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    return process_partial_response(
        event=event, record_handler=deliver, processor=processor, context=context
    )
