"""The reference router, rebuilt in moto from its synthesized template.

What moto can emulate, and what it cannot (moto 5.2.5):

- It matches event patterns, applies ``InputTransformer`` templates, archives, and delivers
  to **SQS** targets. It cannot deliver to Lambda, SNS or Step Functions targets (it raises
  ``NotImplementedError``), so each of those is stood in for by a capture queue that
  receives exactly what the target would have received.
- It does not run schedule rules, and it never fails a delivery: EventBridge's retry policy
  and target DLQ are asserted on the template (test_construct.py), not exercised here.
- SQS redrive to a DLQ after ``maxReceiveCount`` receives is real moto behaviour.
"""

import json
from dataclasses import dataclass
from typing import Any

import boto3

from tests.support.cdk import only, resources


def reference(value: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    return value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]


@dataclass
class EmulatedRouter:
    bus_name: str
    archive_name: str
    #: target logical id (queue, function, topic) -> URL of the queue receiving its events
    inboxes: dict[str, str]
    queue_urls: dict[str, str]

    def put(self, *entries: dict[str, Any]) -> None:
        answer = boto3.client("events").put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": entry["source"],
                    "DetailType": entry["detail-type"],
                    "Detail": json.dumps(entry["detail"]),
                }
                for entry in entries
            ]
        )
        assert answer["FailedEntryCount"] == 0, answer

    def received(self, target: str, *, delete: bool = True) -> list[Any]:
        """Every message body that reached ``target`` (JSON-decoded)."""
        return drain(self.inboxes[target], delete=delete)


def drain(queue_url: str, *, delete: bool = True) -> list[Any]:
    sqs = boto3.client("sqs")
    bodies = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            if delete:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not delete:
            return bodies


def create_queues(template: dict[str, Any]) -> dict[str, str]:
    """Every SQS queue of the template, named by logical id, redrive policies included."""
    sqs = boto3.client("sqs")
    queues = resources(template, "AWS::SQS::Queue")
    urls: dict[str, str] = {}
    # dead-letter queues first: a redrive policy needs its DLQ's ARN
    for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]):
        attributes = {}
        redrive = queues[logical_id].get("RedrivePolicy")
        if redrive:
            dlq = reference(redrive["deadLetterTargetArn"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": arn(urls[dlq]),
                    "maxReceiveCount": redrive["maxReceiveCount"],
                }
            )
        urls[logical_id] = sqs.create_queue(QueueName=logical_id, Attributes=attributes)["QueueUrl"]
    return urls


def arn(queue_url: str) -> str:
    return boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]


def emulate(template: dict[str, Any]) -> EmulatedRouter:
    """The bus, archive and pattern rules of ``template`` in moto; SQS stand-ins for targets."""
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    queue_urls = create_queues(template)
    bus_id, bus = only(template, "AWS::Events::EventBus")
    bus_arn = events.create_event_bus(Name=bus["Name"])["EventBusArn"]
    archive_id, archive = only(template, "AWS::Events::Archive")
    assert reference(archive["SourceArn"]) == bus_id
    events.create_archive(
        ArchiveName=archive_id,
        EventSourceArn=bus_arn,
        EventPattern=json.dumps(archive["EventPattern"]),
        RetentionDays=archive["RetentionDays"],
    )
    inboxes: dict[str, str] = {}
    for rule_id, rule in resources(template, "AWS::Events::Rule").items():
        if "EventPattern" not in rule:
            continue  # schedule rules: moto does not run them
        assert reference(rule["EventBusName"]) == bus_id
        events.put_rule(
            Name=rule_id, EventBusName=bus["Name"], EventPattern=json.dumps(rule["EventPattern"])
        )
        moto_targets = []
        for target in rule["Targets"]:
            receiver = reference(target["Arn"])
            if receiver not in queue_urls:  # a function or topic: a capture queue stands in
                queue_urls[receiver] = sqs.create_queue(QueueName=receiver)["QueueUrl"]
            inboxes[receiver] = queue_urls[receiver]
            moto_target = {"Id": target["Id"], "Arn": arn(queue_urls[receiver])}
            if "InputTransformer" in target:
                moto_target["InputTransformer"] = target["InputTransformer"]
            assert "InputPath" not in target, "moto ignores InputPath: this emulation would lie"
            moto_targets.append(moto_target)
        events.put_targets(Rule=rule_id, EventBusName=bus["Name"], Targets=moto_targets)
    return EmulatedRouter(bus["Name"], archive_id, inboxes, queue_urls)
