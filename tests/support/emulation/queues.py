"""Reading what reached a queue nobody consumes (a DLQ, a subscriber queue under test)."""

import json
from typing import Any

import boto3


def receive_all(queue_url: str) -> list[dict[str, Any]]:
    """Every message visible in the queue (attributes included), deleted as read."""
    sqs = boto3.client("sqs")
    received: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return received
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        received.extend(messages)


def receive_bodies(queue_url: str) -> list[Any]:
    """The JSON-decoded body of every message in the queue, deleted as read."""
    return [json.loads(message["Body"]) for message in receive_all(queue_url)]


def subscribe_inbox(topic_arn: str, name: str = "inbox") -> str:
    """A queue subscribed to ``topic_arn`` (SNS envelopes): what a subscriber receives."""
    sqs = boto3.client("sqs")
    inbox = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])
    boto3.client("sns").subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"]
    )
    return inbox
