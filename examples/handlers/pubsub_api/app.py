"""Pub/sub API: register publishers and subscribers, subscribe, publish, read, popular terms.

Routes (bad input is a 4xx JSON error ``{"statusCode": ..., "message": ...}``):

- ``POST /publishers`` ``{"name"}`` and ``POST /subscribers`` ``{"name"}``: register; 201 with
  the new id.
- ``PUT`` / ``DELETE /subscribers/{subscriber_id}/topics/{topic}``: subscribe / unsubscribe.
- ``POST /topics/{topic}/messages`` ``{"publisher_id", "text"}``: publish the message to the SNS
  topic; 202 with its id. Storing it, delivering it to subscribers and counting its words
  happen behind the topic, so a burst of publishers costs one write each and nothing more,
  and no message is stored that was not published. If the publish fails or times out, the
  answer is a 503 JSON error to retry.
- ``GET /subscribers/{subscriber_id}/messages``: the subscriber's inbox, newest first.
- ``GET /messages/{message_id}``: one stored message (stored by the delivery consumer, within
  seconds of the 202).
- ``GET /terms?limit=N``: the N most popular terms (default 10, at most 100): the top N of
  each shard of the word-count table's count index, merged.
"""

import json
import os
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    ServiceError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.conditions import Key
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from rest_json import json_body, query_page, resolver, stored_item

TOPIC = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MAX_NAME = 64
MAX_TEXT = 2000
DEFAULT_TERMS = 10
MAX_TERMS = 100
INBOX_PAGE = 25
PROFILE = "profile"

logger = Logger()
tracer = Tracer()


app = resolver()
dynamodb = boto3.resource("dynamodb")
publishers = dynamodb.Table(os.environ["PUBLISHERS_TABLE"])
subscribers = dynamodb.Table(os.environ["SUBSCRIBERS_TABLE"])
messages = dynamodb.Table(os.environ["MESSAGES_TABLE"])
word_counts = dynamodb.Table(os.environ["WORD_COUNTS_TABLE"])
#: Two attempts of at most 1 s to connect and 2 s to read, plus one backoff (at most 1 s):
#: a slow SNS answers a 503 within about 7 s, before the function's 10 s timeout.
sns = boto3.client(
    "sns",
    config=Config(
        connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}
    ),
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def json_object() -> dict[str, Any]:
    body = json_body(app, "a JSON object")
    if not isinstance(body, dict):
        raise BadRequestError("request body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, longest: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise BadRequestError(f"{name} must be a non-blank string of at most {longest} characters")
    return value.strip()


def only_fields(body: dict[str, Any], *names: str) -> None:
    unknown = sorted(set(body) - set(names))
    if unknown:
        raise BadRequestError(f"unknown fields: {', '.join(unknown)}")


def checked_topic(topic: str) -> str:
    if not TOPIC.match(topic):
        raise BadRequestError(
            "topic must be 1 to 64 lowercase letters, digits, '-' or '_', starting with a "
            "letter or digit"
        )
    return topic


def checked_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise BadRequestError(f"{what} must be an id this API returned")
    return value


def register(table: Any, key: dict[str, str], kind: str) -> tuple[dict[str, Any], int]:
    body = json_object()
    only_fields(body, "name")
    item = {**key, "name": text_field(body, "name", MAX_NAME), "registered_at": now()}
    table.put_item(Item=item, ConditionExpression="attribute_not_exists(registered_at)")
    logger.info(f"{kind} registered", extra={f"{kind}_id": next(iter(key.values()))})
    return item, 201


@app.post("/publishers")
@tracer.capture_method
def register_publisher() -> tuple[dict[str, Any], int]:
    publisher_id = str(uuid.uuid4())
    item, status = register(publishers, {"id": publisher_id}, "publisher")
    return {"publisher_id": publisher_id, "name": item["name"]}, status


@app.post("/subscribers")
@tracer.capture_method
def register_subscriber() -> tuple[dict[str, Any], int]:
    subscriber_id = str(uuid.uuid4())
    item, status = register(subscribers, {"pk": subscriber_id, "sk": PROFILE}, "subscriber")
    return {"subscriber_id": subscriber_id, "name": item["name"]}, status


def require_subscriber(subscriber_id: str) -> None:
    checked_id(subscriber_id, "subscriber_id")
    key = {"pk": subscriber_id, "sk": PROFILE}
    stored_item(subscribers, key, f"subscriber {subscriber_id} is not registered")


@app.put("/subscribers/<subscriber_id>/topics/<topic>")
@tracer.capture_method
def subscribe(subscriber_id: str, topic: str) -> dict[str, Any]:
    checked_topic(topic)
    require_subscriber(subscriber_id)
    subscribers.put_item(
        Item={
            "pk": subscriber_id,
            "sk": f"topic#{topic}",
            "subscribed_topic": topic,
            "subscribed_at": now(),
        }
    )
    logger.info("subscribed", extra={"subscriber_id": subscriber_id, "topic": topic})
    return {"subscriber_id": subscriber_id, "topic": topic, "subscribed": True}


@app.delete("/subscribers/<subscriber_id>/topics/<topic>")
@tracer.capture_method
def unsubscribe(subscriber_id: str, topic: str) -> dict[str, Any]:
    checked_topic(topic)
    require_subscriber(subscriber_id)
    subscribers.delete_item(Key={"pk": subscriber_id, "sk": f"topic#{topic}"})
    return {"subscriber_id": subscriber_id, "topic": topic, "subscribed": False}


@app.post("/topics/<topic>/messages")
@tracer.capture_method
def publish(topic: str) -> tuple[dict[str, Any], int]:
    checked_topic(topic)
    body = json_object()
    only_fields(body, "publisher_id", "text")
    publisher_id = checked_id(body.get("publisher_id"), "publisher_id")
    text = text_field(body, "text", MAX_TEXT)
    stored_item(publishers, {"id": publisher_id}, f"publisher {publisher_id} is not registered")
    message = {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "publisher_id": publisher_id,
        "text": text,
        "published_at": now(),
    }
    try:
        sns.publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Message=json.dumps(message),
            MessageAttributes={"topic": {"DataType": "String", "StringValue": topic}},
        )
    except (BotoCoreError, ClientError):
        # Refused, timed out or unreachable: nothing was stored, so the caller's retry is the
        # only copy (unless SNS took a timed-out publish: then the retry is a second message).
        logger.exception("publishing failed", extra={"message_id": message["id"]})
        raise ServiceError(503, "the message could not be published: try again") from None
    logger.info("message published", extra={"message_id": message["id"], "topic": topic})
    return {
        "message_id": message["id"],
        "topic": topic,
        "published_at": message["published_at"],
    }, 202


@app.get("/messages/<message_id>")
@tracer.capture_method
def get_message(message_id: str) -> dict[str, Any]:
    checked_id(message_id, "message_id")
    return stored_item(messages, {"id": message_id}, f"message {message_id} not found")


@app.get("/subscribers/<subscriber_id>/messages")
@tracer.capture_method
def inbox(subscriber_id: str) -> dict[str, Any]:
    require_subscriber(subscriber_id)
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(subscriber_id) & Key("sk").begins_with("inbox#"),
        "ScanIndexForward": False,
        "Limit": INBOX_PAGE,
    }
    items, next_token = query_page(
        subscribers, query, app.current_event.get_query_string_value("next_token")
    )
    fields = ("message_id", "topic", "publisher_id", "text", "published_at")
    answer: dict[str, Any] = {"messages": [{name: item[name] for name in fields} for item in items]}
    if next_token:
        answer["next_token"] = next_token
    return answer


@app.get("/terms")
@tracer.capture_method
def popular_terms() -> dict[str, Any]:
    limit_text = app.current_event.get_query_string_value("limit", str(DEFAULT_TERMS))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_TERMS:
        raise BadRequestError(f"limit must be a whole number from 1 to {MAX_TERMS}")
    limit = int(limit_text)
    # Each term lives in one shard, so the top N overall are among the top N of the shards.
    top = [
        item
        for shard in range(int(os.environ["TERMS_SHARDS"]))
        for item in word_counts.query(
            IndexName=os.environ["TERMS_INDEX"],
            KeyConditionExpression=Key("shard").eq(f"terms#{shard}"),
            ScanIndexForward=False,
            Limit=limit,
        )["Items"]
    ]
    top.sort(key=lambda item: (-item["count"], item["term"]))
    return {"terms": [{"term": item["term"], "count": item["count"]} for item in top[:limit]]}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
