"""POST <path>: the SendMessage integration rendered as API Gateway renders it, against SQS.

The request and response mapping templates are taken from the synthesized template and
rendered with a Velocity engine (``airspeed``, what the AWS emulators use) given API
Gateway's ``$input``, ``$util`` and ``$context``; the rendered SendMessage request goes to
moto's SQS over HTTP in the query protocol, as API Gateway sends it; the integration
response is chosen by its selection pattern against SQS's HTTP status ("Set up integration
responses in API Gateway": for AWS integrations the pattern matches the status code).
"""

import json
import uuid
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest

from tests.support.cdk import resources
from tests.support.vtl import Answer, integration_response, render, send_to_sqs

QUEUE = "JobsQueue"
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
#: "Amazon SQS message quotas" (AWSSimpleQueueService/latest/SQSDeveloperGuide/
#: quotas-messages.html) and SendMessage's ``MessageBody``: at most 1 MiB, 1,048,576 bytes
#: (since 2025; 256 KiB before), which is also the default ``MaximumMessageSize``.
SQS_MAX_MESSAGE_BYTES = 1_048_576


@pytest.fixture(scope="module")
def integration(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    [post] = [
        m
        for m in resources(templates["AsyncApi"], "AWS::ApiGateway::Method").values()
        if m["HttpMethod"] == "POST"
    ]
    return post["Integration"]


@pytest.fixture
def queue_url(aws: None) -> str:
    return boto3.client("sqs").create_queue(QueueName=QUEUE)["QueueUrl"]


def post(integration: dict[str, Any], queue_url: str, body: str) -> Answer:
    """API Gateway's handling of ``POST`` with ``body`` (already schema-validated)."""
    return send_to_sqs(integration, queue_url, body, REQUEST_ID)


def queued(queue_url: str) -> list[dict[str, Any]]:
    return (
        boto3.client("sqs")
        .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        .get("Messages", [])
    )


@pytest.mark.parametrize(
    "job",
    [
        {"to": "o'brien@example.org", "data": {"name": "Seán O'Brien"}},
        {"quote": 'say "hi"', "backslash": "C:\\temp\\new", "lines": "one\ntwo\r\n\tthree"},
        {"unicode": "Grüße, 日本語, emoji 🎉, math ∑ & + = % #"},
    ],
)
def test_the_body_is_queued_unchanged_with_the_request_id_as_job_id(
    integration: dict[str, Any], queue_url: str, job: dict[str, Any]
) -> None:
    body = json.dumps(job, ensure_ascii=False, indent=1)

    answer = post(integration, queue_url, body)

    assert answer.status == 202
    assert answer.body == {"job_id": REQUEST_ID, "status": "pending"}
    [message] = queued(queue_url)
    assert message["Body"] == body
    assert message["MessageAttributes"] == {
        "job_id": {"DataType": "String", "StringValue": REQUEST_ID}
    }


def test_a_body_sqs_accepts_is_queued_even_when_url_encoding_triples_it(
    integration: dict[str, Any], queue_url: str
) -> None:
    """SQS counts the decoded message, not the URL-encoded request (quotas page above)."""
    body = json.dumps({"text": "€" * 300_000}, ensure_ascii=False)  # 900,012 bytes
    assert len(body.encode()) < SQS_MAX_MESSAGE_BYTES < len(quote_plus(body))

    answer = post(integration, queue_url, body)

    assert answer.status == 202
    [message] = queued(queue_url)
    assert message["Body"] == body


def test_a_body_over_the_sqs_message_size_limit_gets_413_not_500(
    integration: dict[str, Any], queue_url: str
) -> None:
    """A message over SQS's maximum (1,048,576 bytes, "Amazon SQS message quotas") is refused
    with ``InvalidParameterValue`` (HTTP 400, "Common Errors" of the SQS API reference) and
    can never succeed: the caller gets 413 and a JSON reason, not 500 "try again"."""
    body = json.dumps({"blob": "x" * SQS_MAX_MESSAGE_BYTES})

    answer = post(integration, queue_url, body)

    assert answer.status == 413
    assert answer.body["message"].startswith("the job is too large for the queue")
    assert str(SQS_MAX_MESSAGE_BYTES) in answer.body["message"]
    assert queued(queue_url) == []


def sqs_error(code: str, message: str) -> str:
    """An SQS query-API error response ("Query API error responses", SQS developer guide)."""
    return (
        '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message><Detail/>"
        f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (400, sqs_error("InvalidMessageContents", "Invalid binary character"), 400),
        (400, sqs_error("InvalidParameterValue", "MessageGroupId is invalid"), 400),
        (400, sqs_error("KMS.ThrottlingException", "Rate exceeded"), 500),
        (403, sqs_error("AccessDenied", "not authorized to perform sqs:sendmessage"), 500),
        (500, sqs_error("InternalError", "We encountered an internal error"), 500),
        (400, '{"Error": {"Code": "InvalidMessageContents", "Message": "bad"}}', 400),
    ],
)
def test_sqs_refusals_are_the_callers_fault_only_when_retrying_cannot_help(
    integration: dict[str, Any], status: int, error: str, expected: int
) -> None:
    """SendMessage's documented errors (SendMessage, SQS API reference): invalid contents
    are the request's fault (400); throttling, KMS, permission and server errors may pass
    (500). The template reads the error code from either the XML or the JSON form."""
    chosen = integration_response(integration["IntegrationResponses"], status)
    context: dict[str, Any] = {"requestId": REQUEST_ID, "responseOverride": {}}

    text = render(chosen["ResponseTemplates"]["application/json"], error, context)

    assert int(context["responseOverride"].get("status", chosen["StatusCode"])) == expected
    assert json.loads(text)["message"]
