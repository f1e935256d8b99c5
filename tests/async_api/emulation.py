"""The AsyncApi reference stack in moto: its table, queues and the Lambda pollers between them.

Resources are created from the synthesized template (keys, stream, redrive policies: job
queue -> recorder queue -> dead-letter queue), the library's runtime is imported from its
asset folder as Lambda imports it, and the event source mappings are emulated: the SQS pollers
as tests/support/sqs_poller.py does for every pattern; the stream poller applies the
template's filter.
"""

import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID

from tests.support.cdk import ROOT, resources
from tests.support.events import LambdaContext, dynamodb_stream_event
from tests.support.sqs_poller import EventSourceMapping, drain

RUNTIME = ROOT / "constructs/serverless_patterns/runtime/async_api/python"
WORKER_HANDLER = "async_jobs.worker.handler"
RECORDER_HANDLER = "async_jobs.recorder.handler"
REGION = "us-east-1"
#: moto answers DescribeStream etc. only on the regional endpoint (botocore would use an
#: account-based one for calls that carry a stream ARN).
STREAMS_ENDPOINT = f"https://streams.dynamodb.{REGION}.amazonaws.com"
CONNECTIONS_ENDPOINT = f"https://abcdef1234.execute-api.{REGION}.amazonaws.com/prod"

#: Jobs of the reference stack (email notifications), as the API accepts them.
WELCOME = {"to": "ada@example.org", "template": "welcome", "data": {"name": "Ada"}}
RECEIPT = {
    "to": "alan@example.org",
    "template": "receipt",
    "data": {"name": "Alan", "order_id": "o-42", "amount": "12.50 EUR"},
}
#: Passes the API's schema, can never be rendered: the poison job.
POISON = {"to": "grace@example.org", "template": "receipt", "data": {"name": "Grace"}}


class FunctionError(Exception):
    """The invocation failed (timeout, out of memory, import error): the poller returns every
    message of the batch to the queue."""


class Context(LambdaContext):
    """A Lambda context with the time left that the worker leases jobs for."""

    def get_remaining_time_in_millis(self) -> int:
        return 20_000


def function_by_handler(template: dict[str, Any], handler: str) -> dict[str, Any]:
    [function] = [
        properties
        for properties in resources(template, "AWS::Lambda::Function").values()
        if properties["Handler"] == handler
    ]
    return function


def plain_environment(function: dict[str, Any]) -> dict[str, str]:
    """The function's environment variables that are literal strings (not references)."""
    variables = function.get("Environment", {}).get("Variables", {})
    return {name: value for name, value in variables.items() if isinstance(value, str)}


def load_runtime(module: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``async_jobs.<module>`` afresh from the runtime's asset folder, as Lambda does."""
    monkeypatch.syspath_prepend(str(RUNTIME))
    for name in [n for n in sys.modules if n == "async_jobs" or n.startswith("async_jobs.")]:
        monkeypatch.delitem(sys.modules, name)
    return importlib.import_module(f"async_jobs.{module}")


@dataclass
class Queues:
    url: str
    arn: str
    recorder_url: str
    recorder_arn: str
    dead_letter_url: str
    max_receive_count: int
    #: The worker's and the recorder's event source mappings, as synthesized.
    mapping: EventSourceMapping
    recorder_mapping: EventSourceMapping
    sqs: Any = field(default_factory=lambda: boto3.client("sqs"))
    #: The library's dead-letter recorder (``async_jobs.recorder``), when loaded.
    recorder: ModuleType | None = None

    def send(self, job: Any, job_id: str | None) -> str:
        """Send ``job`` as API Gateway's integration does (``job_id`` attribute)."""
        attributes = (
            {"job_id": {"DataType": "String", "StringValue": job_id}} if job_id is not None else {}
        )
        body = job if isinstance(job, str) else json.dumps(job)
        return self.sqs.send_message(
            QueueUrl=self.url, MessageBody=body, MessageAttributes=attributes
        )["MessageId"]

    def receive(self, url: str | None = None) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=url or self.url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])

    def count(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def poll(self, invoke: Callable[[dict[str, Any]], Any]) -> int:
        """Lambda's SQS pollers (tests/support/sqs_poller.py) until the queues are empty; answer
        the worker's invocations.

        SQS moves a message received ``max_receive_count`` times to the recorder queue, whose
        poller runs the recorder (if loaded), which forwards it to the dead-letter queue.
        """
        invocations = drain(self.url, invoke, self.mapping).invocations
        if self.recorder is not None:
            recorder = self.recorder
            drain(
                self.recorder_url,
                lambda event: recorder.handler(event, CONTEXT),
                self.recorder_mapping,
            )
        return invocations

    def redrive(self) -> int:
        """Move every dead letter back to the queue, as SQS's dead-letter queue redrive does."""
        moved = 0
        while messages := self.receive(self.dead_letter_url):
            for message in messages:
                self.sqs.send_message(
                    QueueUrl=self.url,
                    MessageBody=message["Body"],
                    MessageAttributes={
                        name: {key: value[key] for key in ("DataType", "StringValue")}
                        for name, value in message.get("MessageAttributes", {}).items()
                    },
                )
                self.sqs.delete_message(
                    QueueUrl=self.dead_letter_url, ReceiptHandle=message["ReceiptHandle"]
                )
                moved += 1
        return moved


def create_queues(template: dict[str, Any], *, fifo: bool = False) -> Queues:
    """The template's job queue, recorder queue and dead-letter queue, redrives as synthesized."""
    queues = resources(template, "AWS::SQS::Queue")

    def target(queue: dict[str, Any]) -> str | None:
        policy = queue.get("RedrivePolicy")
        return policy["deadLetterTargetArn"]["Fn::GetAtt"][0] if policy else None

    [queue_id] = [k for k, q in queues.items() if target(queues.get(target(q) or "", {}))]
    recorder_id = target(queues[queue_id])
    assert recorder_id is not None
    dead_letter_id = target(queues[recorder_id])
    sqs = boto3.client("sqs")
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}

    def create(logical_id: str, redrive_to: str | None = None) -> tuple[str, str]:
        attributes = dict(fifo_attributes)
        properties = queues[logical_id]
        if "VisibilityTimeout" in properties:
            attributes["VisibilityTimeout"] = str(properties["VisibilityTimeout"])
        if redrive_to is not None:
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": redrive_to,
                    "maxReceiveCount": properties["RedrivePolicy"]["maxReceiveCount"],
                }
            )
        url = sqs.create_queue(QueueName=logical_id + suffix, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    dead_letter_url, dead_letter_arn = create(str(dead_letter_id))
    recorder_url, recorder_arn = create(recorder_id, dead_letter_arn)
    url, arn = create(queue_id, recorder_arn)
    max_receive_count = queues[queue_id]["RedrivePolicy"]["maxReceiveCount"]
    return Queues(
        url,
        arn,
        recorder_url,
        recorder_arn,
        dead_letter_url,
        max_receive_count,
        EventSourceMapping.of_queue(template, queue_id),
        EventSourceMapping.of_queue(template, recorder_id),
        sqs,
    )


def start_recorder(
    queues: Queues, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Queues:
    """Have polling ``queues`` run the template's dead-letter recorder, as Lambda would."""
    for name, value in plain_environment(function_by_handler(template, RECORDER_HANDLER)).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", queues.dead_letter_url)
    queues.recorder = load_runtime("recorder", monkeypatch)
    return queues


def matches(pattern: Any, value: Any) -> bool:
    """An event source mapping filter pattern (nested objects, lists of allowed values)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and matches(part, value[key]) for key, part in pattern.items()
        )
    return value in pattern


class Stream:
    """The jobs table's stream, read with the stream poller's filter from the template."""

    def __init__(self, table_name: str, template: dict[str, Any]) -> None:
        self.client = boto3.client("dynamodbstreams", endpoint_url=STREAMS_ENDPOINT)
        self.arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"][
            "LatestStreamArn"
        ]
        [mapping] = [
            m
            for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
            if "StartingPosition" in m
        ]
        self.filters = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
        shard = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]
        self.iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def read(self) -> list[dict[str, Any]]:
        """Every record since the last read."""
        page = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = page["NextShardIterator"]
        return page["Records"]

    def event(self) -> dict[str, Any]:
        """The next event the stream poller delivers: new records that pass the filter."""
        records = [r for r in self.read() if any(matches(f, r) for f in self.filters)]
        return dynamodb_stream_event(records, self.arn)


def posted(connection_id: str) -> list[dict[str, Any]]:
    """The messages moto's API Gateway management API received for ``connection_id``."""
    backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION]
    connection = backend.connections.get(connection_id)
    data = connection.data.decode() if connection is not None else ""
    decoder, messages, position = json.JSONDecoder(), [], 0
    while position < len(data):
        message, position = decoder.raw_decode(data, position)
        messages.append(message)
    return messages


CONTEXT = Context()
