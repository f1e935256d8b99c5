"""The FanOut reference stack in moto, built from its synthesized template.

Topic, queues (with their redrive policies) and subscriptions (with their filter policies,
filter scopes and raw-delivery settings) are created from the template itself, so the tests
check the filters the stack really deploys. A Lambda subscription is stood in for by a probe
queue with the same filter policy: SNS filters the same way whatever the endpoint, and the
envelope the probe receives is what SNS hands the function.

:func:`drain` runs a subscriber's consumer with the event source mapping the template gives it.
"""

import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3

from tests.support.cdk import only, resources
from tests.support.events import LambdaContext
from tests.support.sqs_poller import Drained, EventSourceMapping
from tests.support.sqs_poller import drain as poll


def subscriber_of(resource: dict[str, Any]) -> str:
    """``billing`` for a resource at ``FanOut/OrderEvents/billing/...``."""
    return resource["Metadata"]["aws:cdk:path"].split("/")[2]


def logical_id_of(reference: dict[str, Any]) -> str:
    """The resource a ``{"Fn::GetAtt": [id, "Arn"]}`` or ``{"Ref": id}`` points to."""
    return reference["Fn::GetAtt"][0] if "Fn::GetAtt" in reference else reference["Ref"]


@dataclass
class Subscriber:
    name: str
    queue_url: str  # the subscriber's queue, or the probe queue of a Lambda subscription
    dead_letter_queue_url: str
    protocol: str
    subscription_arn: str = ""
    #: The event source mapping of the function consuming the subscriber's queue, if any.
    mapping: EventSourceMapping | None = None


@dataclass
class Deployment:
    topic_arn: str
    subscribers: dict[str, Subscriber] = field(default_factory=dict)


def deploy(template: dict[str, Any]) -> Deployment:
    """Create the template's topic, queues and subscriptions in moto."""
    sqs = boto3.client("sqs")
    sns = boto3.client("sns")
    queue_urls: dict[str, str] = {}
    queue_arns: dict[str, str] = {}
    queues = resources(template, "AWS::SQS::Queue")
    # Dead-letter queues (no redrive policy of their own) first.
    for logical_id, properties in sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1]):
        fifo = bool(properties.get("FifoQueue"))
        attributes = {"FifoQueue": "true"} if fifo else {}
        for name in ("VisibilityTimeout", "MessageRetentionPeriod"):
            if name in properties:
                attributes[name] = str(properties[name])
        if "ContentBasedDeduplication" in properties:
            attributes["ContentBasedDeduplication"] = str(properties["ContentBasedDeduplication"])
        redrive = properties.get("RedrivePolicy")
        if redrive:
            target = logical_id_of(redrive["deadLetterTargetArn"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": queue_arns[target],
                    "maxReceiveCount": redrive["maxReceiveCount"],
                }
            )
        url = sqs.create_queue(
            QueueName=f"{logical_id}.fifo" if fifo else logical_id, Attributes=attributes
        )["QueueUrl"]
        queue_urls[logical_id] = url
        queue_arns[logical_id] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]

    topic_id, topic = only(template, "AWS::SNS::Topic")
    topic_attributes = {}
    if topic.get("FifoTopic"):
        topic_attributes["FifoTopic"] = "true"
        topic_attributes["ContentBasedDeduplication"] = str(
            topic.get("ContentBasedDeduplication", False)
        ).lower()
    topic_name = f"{topic_id}.fifo" if topic.get("FifoTopic") else topic_id
    topic_arn = sns.create_topic(Name=topic_name, Attributes=topic_attributes)["TopicArn"]
    deployment = Deployment(topic_arn)
    mappings = resources(template, "AWS::Lambda::EventSourceMapping").values()
    consumed = {logical_id_of(m["EventSourceArn"]) for m in mappings}  # queues with a function

    for subscription in (
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::SNS::Subscription"
    ):
        properties = subscription["Properties"]
        name = subscriber_of(subscription)
        protocol = properties["Protocol"]
        endpoint = logical_id_of(properties["Endpoint"])
        if protocol == "lambda":  # a probe queue receives what SNS would hand the function
            url = sqs.create_queue(QueueName=f"probe-{endpoint}")["QueueUrl"]
            queue_urls[endpoint] = url
            queue_arns[endpoint] = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        dead_letter_queue = logical_id_of(properties["RedrivePolicy"]["deadLetterTargetArn"])
        attributes = {
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arns[dead_letter_queue]})
        }
        if "FilterPolicy" in properties:
            attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
            attributes["FilterPolicyScope"] = properties.get(
                "FilterPolicyScope", "MessageAttributes"
            )
        if properties.get("RawMessageDelivery"):  # moto reads any non-empty string as true
            attributes["RawMessageDelivery"] = "true"
        arn = sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arns[endpoint],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        deployment.subscribers[name] = Subscriber(
            name=name,
            queue_url=queue_urls[endpoint],
            dead_letter_queue_url=queue_urls[dead_letter_queue],
            protocol=protocol,
            subscription_arn=arn,
            mapping=EventSourceMapping.of_queue(template, endpoint)
            if endpoint in consumed
            else None,
        )
    return deployment


def receive_all(queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue, deleted as read (for queues nobody consumes)."""
    sqs = boto3.client("sqs")
    received: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return received
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        received.extend(messages)


def drain(subscriber: Subscriber, handler: ModuleType) -> Drained:
    """Feed the subscriber's queue to ``handler`` until it is empty, as the function's event
    source mapping (tests/support/sqs_poller.py) does."""
    assert subscriber.mapping is not None, f"no function consumes {subscriber.name}'s queue"
    return poll(
        subscriber.queue_url,
        lambda event: handler.handler(event, LambdaContext()),
        subscriber.mapping,
    )
