"""Notification requests: record each one, then text its audience through SNS.

The AsyncApi runtime calls :func:`process` once per request (``job_id`` is the request's id),
records the outcome in the jobs table, retries when it raises, and marks the request failed
after the last retry (the message stays in the dead-letter queue for redrive).

1. **Check** what the API's schema cannot: the text is not blank and its links point only to
   ``LINK_DOMAIN`` (carriers drop texts with foreign or shortened links). A request that
   breaks these rules fails on every attempt: it is poison and ends in the dead-letter queue.
2. **Record** it in the notification records table (``status: recorded``).
3. **Publish** it to the topic with the ``audience`` attribute; the SMS subscriptions whose
   filter policy admits the audience text the message. Then record ``status: sent``.

A retried request that was already published (the worker died after publishing, before the
runtime recorded success) is not published again: the record says ``sent``.

Environment: ``RECORDS_TABLE``, ``TOPIC_ARN``, ``AUDIENCES`` (a JSON list), ``LINK_DOMAIN``.
"""

import json
import os
import re
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer

LINK = re.compile(r"(?:https?://|www\.)([^/\s?#:]+)", re.IGNORECASE)
SENT = "sent"

logger = Logger()
tracer = Tracer()
records = boto3.resource("dynamodb").Table(os.environ["RECORDS_TABLE"])
sns = boto3.client("sns")
AUDIENCES = frozenset(json.loads(os.environ["AUDIENCES"]))
LINK_DOMAIN = os.environ["LINK_DOMAIN"].lower()


class InvalidNotification(ValueError):
    """The request can never be sent as it is: retrying will not help."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def allowed_host(host: str) -> bool:
    host = host.lower().removeprefix("www.")
    return host == LINK_DOMAIN or host.endswith("." + LINK_DOMAIN)


def checked(job: dict[str, Any]) -> tuple[str, str]:
    """The request's audience and text; ``InvalidNotification`` if it cannot be sent."""
    audience, message = job.get("audience", ""), job.get("message", "")
    if audience not in AUDIENCES:
        raise InvalidNotification(f"audience must be one of {sorted(AUDIENCES)}")
    if not isinstance(message, str) or not message.strip():
        raise InvalidNotification("message must contain text")
    foreign = sorted({host for host in LINK.findall(message) if not allowed_host(host)})
    if foreign:
        raise InvalidNotification(
            f"links may only point to {LINK_DOMAIN}: found {', '.join(foreign)}"
        )
    return audience, message.strip()


def result(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "notification_id": record["id"],
        "audience": record["audience"],
        "status": record["status"],
        "sns_message_id": record["sns_message_id"],
    }


@tracer.capture_method
def process(job: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Record the request, text its audience, answer what was sent."""
    audience, message = checked(job)
    known = records.get_item(Key={"id": job_id}, ConsistentRead=True).get("Item")
    if known is not None and known.get("status") == SENT:
        logger.info("already sent: not publishing again", notification_id=job_id)
        return result(known)
    records.update_item(
        Key={"id": job_id},
        UpdateExpression=(
            "SET audience = :audience, message = :message, #status = :recorded, "
            "recorded_at = if_not_exists(recorded_at, :now)"
        ),
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":audience": audience,
            ":message": message,
            ":recorded": "recorded",
            ":now": now(),
        },
    )
    published = sns.publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Message=message,
        MessageAttributes={
            "audience": {"DataType": "String", "StringValue": audience},
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        },
    )
    record = records.update_item(
        Key={"id": job_id},
        UpdateExpression="SET #status = :sent, sns_message_id = :sns_id, sent_at = :now",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":sent": SENT,
            ":sns_id": published["MessageId"],
            ":now": now(),
        },
        ReturnValues="ALL_NEW",
    )["Attributes"]
    logger.info("notification sent", notification_id=job_id, audience=audience)
    return result(record)
