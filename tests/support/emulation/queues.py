"""Reading what reached a queue nobody consumes (a DLQ, a subscriber queue under test)."""

from typing import Any

import boto3


def receive_all(queue_url: str, *, delete: bool = True) -> list[dict[str, Any]]:
    """Every message visible in the queue (attributes included), deleted as read unless
    ``delete`` is false (then each is read once, and stays)."""
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
            if delete:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        received.extend(messages)
