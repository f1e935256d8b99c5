"""The AsyncApi's jobs in the shared emulation: the reference jobs, and the job queues.

:class:`Queues` is the worker's side of a deployed AsyncApi: its job queue, the recorder
queue the job queue redrives to, and the dead-letter queue after it (found by following the
template's redrive policies). Polling runs the event source mappings of
tests/support/emulation (the worker's, then the recorder's).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from tests.support.emulation import Emulation
from tests.support.events import LambdaContext

WORKER_HANDLER = "async_jobs.worker.handler"
RECORDER_HANDLER = "async_jobs.recorder.handler"

#: Jobs of the reference stack (email notifications), as the API accepts them.
WELCOME = {"to": "ada@example.org", "template": "welcome", "data": {"name": "Ada"}}
RECEIPT = {
    "to": "alan@example.org",
    "template": "receipt",
    "data": {"name": "Alan", "order_id": "o-42", "amount": "12.50 EUR"},
}
#: Passes the API's schema, can never be rendered: the poison job.
POISON = {"to": "grace@example.org", "template": "receipt", "data": {"name": "Grace"}}


class Context(LambdaContext):
    """A Lambda context with the time left that the worker leases jobs for."""

    def get_remaining_time_in_millis(self) -> int:
        return 20_000


CONTEXT = Context()


def function_by_handler(template: dict[str, Any], handler: str) -> dict[str, Any]:
    """The properties of the template's one function with ``handler``."""
    return template["Resources"][function_id(template, handler)]["Properties"]


def function_id(template: dict[str, Any], handler: str) -> str:
    """The logical id of the template's one function with ``handler``."""
    [logical_id] = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"]["Handler"] == handler
    ]
    return logical_id


@dataclass
class Queues:
    emulation: Emulation
    queue: str  # logical ids
    recorder_queue: str
    dead_letter_queue: str
    sqs: Any = field(default_factory=lambda: boto3.client("sqs"))

    @classmethod
    def of(cls, emulation: Emulation) -> "Queues":
        """The job queue, whose redrive target (the recorder queue) redrives in turn."""
        queues = emulation.of_type("AWS::SQS::Queue")

        def target(logical_id: str | None) -> str | None:
            policy = queues.get(logical_id or "", {}).get("RedrivePolicy")
            return emulation.resolve.logical_id(policy["deadLetterTargetArn"]) if policy else None

        [queue] = [q for q in queues if target(target(q))]
        recorder = target(queue)
        dead_letter = target(recorder)
        assert recorder is not None and dead_letter is not None
        return cls(emulation, queue, recorder, dead_letter)

    @property
    def url(self) -> str:
        return self.emulation.resolve.ref(self.queue)

    @property
    def arn(self) -> str:
        return self.emulation.resolve.get_att(self.queue, "Arn")

    @property
    def recorder_url(self) -> str:
        return self.emulation.resolve.ref(self.recorder_queue)

    @property
    def dead_letter_url(self) -> str:
        return self.emulation.resolve.ref(self.dead_letter_queue)

    @property
    def max_receive_count(self) -> int:
        queue = self.emulation.of_type("AWS::SQS::Queue")[self.queue]
        return int(queue["RedrivePolicy"]["maxReceiveCount"])

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

    def poll(self, invoke: Callable[[dict[str, Any]], Any] | None = None) -> int:
        """The event source mappings until the queues are empty: the worker's (running
        ``invoke`` instead of the handler, if given), then the recorder's; the worker's
        invocations. SQS moves a message received ``maxReceiveCount`` times to the recorder
        queue, whose function forwards it to the dead-letter queue."""
        worker = self.emulation.functions[self.consumer(self.queue)]
        worker.stand_in = (lambda event, context: invoke(event)) if invoke else None
        try:
            invocations = self.emulation.drain(self.queue).invocations
        finally:
            worker.stand_in = None
        self.emulation.drain(self.recorder_queue)
        return invocations

    def consumer(self, queue: str) -> str:
        function, _ = self.emulation.queue_mappings[queue]
        return function

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


def fifo(template: dict[str, Any]) -> dict[str, Any]:
    """The template with FIFO queues, as an AsyncApi on a FIFO queue deploys them."""
    variant = json.loads(json.dumps(template))
    for resource in variant["Resources"].values():
        if resource["Type"] == "AWS::SQS::Queue":
            resource["Properties"]["FifoQueue"] = True
        if resource["Type"] == "AWS::Lambda::Function":
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            if "QUEUE_FIFO" in variables:
                variables["QUEUE_FIFO"] = "true"
    return variant
