"""The queue worker runtime, run in-process against moto: queues, DLQ and jobs table."""

import json
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from serverless_patterns.queue_worker_service import RUNTIME

#: The jobs table's key, as the construct creates it (pinned in test_construct.py).
JOBS_KEY = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
}


@pytest.fixture(scope="session")
def runtime() -> ModuleType:
    """``queue_worker.worker`` as the image runs it (``/runtime`` on ``PYTHONPATH``)."""
    sys.path.insert(0, str(RUNTIME))
    from queue_worker import worker

    return worker


@dataclass
class Queues:
    url: str
    dead_letter_url: str
    table: str

    def send(self, body: Any) -> str:
        sent = boto3.client("sqs").send_message(QueueUrl=self.url, MessageBody=json.dumps(body))
        return sent["MessageId"]

    def receive(self, url: str | None = None, visibility: int | None = None) -> list[dict]:
        extra = {} if visibility is None else {"VisibilityTimeout": visibility}
        return (
            boto3.client("sqs")
            .receive_message(
                QueueUrl=url or self.url,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
                **extra,
            )
            .get("Messages", [])
        )

    def record(self, message_id: str) -> dict[str, Any]:
        item = boto3.client("dynamodb").get_item(
            TableName=self.table, Key={"pk": {"S": message_id}}, ConsistentRead=True
        )["Item"]
        return {name: next(iter(value.values())) for name, value in item.items()}


@pytest.fixture
def queues(aws: None) -> Queues:
    """A queue whose redrive policy moves a message to its DLQ after 2 receives."""
    sqs = boto3.client("sqs")
    dead_letters = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    url = sqs.create_queue(
        QueueName="jobs",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    boto3.client("dynamodb").create_table(
        TableName="jobs", BillingMode="PAY_PER_REQUEST", **JOBS_KEY
    )
    return Queues(url, dead_letters, "jobs")
