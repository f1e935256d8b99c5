"""The notification service end to end in moto: request -> queued -> recorded -> SNS -> SMS.

The jobs queue (with its redrive policy), both tables and the topic with its SMS
subscriptions (filter policies as synthesized) come from the ``NotificationService``
template, deployed by tests/support/emulation; the worker is the AsyncApi runtime wrapping
the app's ``process``, run by its queue's event source mapping. moto accepts SMS
subscriptions but does not record what a topic texts, so each SMS subscription has a probe
queue with the same filter policy: SNS filters the same way whatever the endpoint, and the
probe sees what the phone would.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.async_api.jobs import Queues
from tests.support.cdk import logical_id_at, resources
from tests.support.emulation import Emulation, receive_all

STACK = "NotificationService"
ON_CALL, BOTH, UPDATES = "+12025550100", "+12025550101", "+12025550102"
PAGE = {"audience": "on-call", "message": "Database failover in eu-west-1: join the bridge."}
UPDATE = {
    "audience": "incident-updates",
    "message": "Resolved. Details: https://status.example.com/incidents/42",
}
#: Passes the API's schema, can never be sent: a link to a foreign (shortened) domain.
POISON = {"audience": "on-call", "message": "Reset your password at https://bit.ly/3xYz"}


@dataclass
class Service:
    queues: Queues
    jobs: Any
    records: Any
    probes: dict[str, str]  # phone number -> probe queue

    def run(self) -> int:
        return self.queues.poll()

    def texts(self) -> dict[str, list[str]]:
        """What each phone number was sent (from its probe), with the SMS attributes checked."""
        sent: dict[str, list[str]] = {}
        for phone, probe in self.probes.items():
            sent[phone] = []
            for message in receive_all(probe):
                envelope = json.loads(message["Body"])
                attributes = envelope["MessageAttributes"]
                assert attributes["AWS.SNS.SMS.SMSType"]["Value"] == "Transactional"
                sent[phone].append(envelope["Message"])
        return sent

    def job(self, job_id: str) -> dict[str, Any]:
        return self.jobs.get_item(Key={"pk": job_id, "sk": "job"}, ConsistentRead=True)["Item"]


@pytest.fixture
def template(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates[STACK]


def sms_subscriptions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        properties["Endpoint"]: properties
        for properties in resources(template, "AWS::SNS::Subscription").values()
        if properties["Protocol"] == "sms"
    }


def probe_queues(emulation: Emulation) -> dict[str, str]:
    """A probe queue per SMS subscription, subscribed with the same filter policy."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    probes = {}
    for phone, properties in sms_subscriptions(emulation.template).items():
        probes[phone] = sqs.create_queue(QueueName=f"probe-{phone.lstrip('+')}")["QueueUrl"]
        probe_arn = sqs.get_queue_attributes(QueueUrl=probes[phone], AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=emulation.resolve(properties["TopicArn"]),
            Protocol="sqs",
            Endpoint=probe_arn["Attributes"]["QueueArn"],
            Attributes={"FilterPolicy": json.dumps(properties["FilterPolicy"])},
        )
    return probes


@pytest.fixture
def service(emulate: Callable[[str], Emulation]) -> Service:
    emulation = emulate(STACK)
    variables = emulation.function("Notifications/Function").environment
    dynamodb = boto3.resource("dynamodb")
    return Service(
        queues=Queues.of(emulation),
        jobs=dynamodb.Table(variables["TABLE_NAME"]),
        records=dynamodb.Table(variables["RECORDS_TABLE"]),
        probes=probe_queues(emulation),
    )


def new_id() -> str:
    return str(uuid.uuid4())


def test_requests_are_queued_recorded_and_texted_to_the_subscribers_of_their_audience(
    service: Service,
) -> None:
    burst = {new_id(): PAGE, new_id(): UPDATE, new_id(): PAGE}
    for job_id, request in burst.items():
        service.queues.send(request, job_id)
    # Accepted and waiting: nothing recorded, nobody texted before a worker runs.
    assert service.queues.count(service.queues.url) == 3
    assert service.records.scan()["Items"] == []

    assert service.run() == 1  # one batch

    for job_id, request in burst.items():
        job = service.job(job_id)
        assert job["status"] == "succeeded", job
        record = service.records.get_item(Key={"id": job_id})["Item"]
        assert record["status"] == "sent"
        assert record["audience"] == request["audience"]
        assert record["message"] == request["message"]
        assert job["result"] == {
            "notification_id": job_id,
            "audience": request["audience"],
            "status": "sent",
            "sns_message_id": record["sns_message_id"],
        }
    texts = service.texts()
    assert sorted(texts[ON_CALL]) == [PAGE["message"]] * 2
    assert sorted(texts[BOTH]) == sorted([PAGE["message"]] * 2 + [UPDATE["message"]])
    assert texts[UPDATES] == [UPDATE["message"]]
    assert receive_all(service.queues.dead_letter_url) == []


def test_a_poison_request_ends_in_the_dead_letter_queue_failed_and_kept(
    service: Service,
) -> None:
    poison_id, good_id = new_id(), new_id()
    service.queues.send(POISON, poison_id)
    service.queues.send(UPDATE, good_id)

    service.run()

    assert service.job(good_id)["status"] == "succeeded"
    poison = service.job(poison_id)
    assert poison["status"] == "failed"
    assert poison["attempts"] == service.queues.max_receive_count == 5
    assert poison["error"] == (
        "InvalidNotification: links may only point to example.com: found bit.ly"
    )
    # Nothing lost: the request waits in the dead-letter queue, as it was sent, for redrive.
    [dead] = receive_all(service.queues.dead_letter_url)
    assert json.loads(dead["Body"]) == POISON
    assert dead["MessageAttributes"]["job_id"]["StringValue"] == poison_id
    # Never recorded as a notification, never texted.
    assert "Item" not in service.records.get_item(Key={"id": poison_id})
    assert service.texts() == {ON_CALL: [], BOTH: [UPDATE["message"]], UPDATES: [UPDATE["message"]]}


def test_a_request_published_before_the_worker_died_is_not_texted_again(
    service: Service,
) -> None:
    job_id = new_id()
    # The previous attempt published and recorded "sent", then died before the runtime
    # recorded the job's success: SQS delivers the request again.
    service.records.put_item(
        Item={
            "id": job_id,
            "audience": "on-call",
            "message": PAGE["message"],
            "status": "sent",
            "sns_message_id": "sent-before",
        }
    )
    service.queues.send(PAGE, job_id)

    service.run()

    assert service.job(job_id)["result"]["sns_message_id"] == "sent-before"
    assert service.texts() == {ON_CALL: [], BOTH: [], UPDATES: []}


def test_every_sms_subscription_keeps_what_it_cannot_deliver_and_the_worker_may_only_publish(
    template: dict[str, Any],
) -> None:
    undelivered = logical_id_at(template, "UndeliveredSms")
    subscriptions = sms_subscriptions(template)
    assert set(subscriptions) == {ON_CALL, BOTH, UPDATES}
    for properties in subscriptions.values():
        assert properties["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [undelivered, "Arn"]}
        }
    alarmed = [
        alarm["Dimensions"][0]["Value"]
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert {"Fn::GetAtt": [undelivered, "QueueName"]} in alarmed
    topic = logical_id_at(template, "SubscribedUsers")
    worker_policy = template["Resources"][
        logical_id_at(template, "Notifications/FunctionRole/DefaultPolicy")
    ]
    publishing = [
        statement
        for statement in worker_policy["Properties"]["PolicyDocument"]["Statement"]
        if "sns:Publish" in statement["Action"]
    ]
    assert publishing == [{"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic}}]
