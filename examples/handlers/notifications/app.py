"""Notification jobs: render a templated email and send it through Amazon SES.

The AsyncApi runtime calls :func:`process` once per job, records its result, retries it when
it raises and marks it failed after the last retry. A job the API accepted can still be
poison: a ``receipt`` whose ``data`` lacks the order id or amount passes the API's schema but
can never be rendered, so it fails on every attempt and ends in the dead-letter queue.
"""

import os
import re
from string import Formatter
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer

#: template name -> (subject, text body). Fields in braces come from the job's ``data``.
TEMPLATES = {
    "welcome": (
        "Welcome to Example, {name}!",
        "Hi {name},\n\nyour account is ready. Sign in any time at https://example.com.\n",
    ),
    "receipt": (
        "Your receipt for order {order_id}",
        "Hi {name},\n\nwe received your payment of {amount} for order {order_id}.\n"
        "Thank you for shopping with us.\n",
    ),
}
ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

logger = Logger()
tracer = Tracer()
ses = boto3.client("sesv2")
SENDER = os.environ["SENDER"]


class InvalidJob(ValueError):
    """The job can never be sent as it is: retrying will not help."""


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def render(template: str, data: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of ``template`` filled with ``data``."""
    if template not in TEMPLATES:
        raise InvalidJob(f"unknown template {template!r}: use one of {sorted(TEMPLATES)}")
    subject, body = TEMPLATES[template]
    missing = sorted((fields(subject) | fields(body)) - set(data))
    if missing:
        raise InvalidJob(f"template {template!r} needs data: {', '.join(missing)}")
    values = {name: str(data[name]) for name in fields(subject) | fields(body)}
    return subject.format_map(values), body.format_map(values)


@tracer.capture_method
def process(job: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Send the email the job describes; the job id tags it for tracing and support."""
    to = job.get("to")
    if not isinstance(to, str) or not ADDRESS.match(to):
        raise InvalidJob("to must be an email address")
    data = job.get("data") or {}
    if not isinstance(data, dict):
        raise InvalidJob("data must be an object")
    subject, body = render(str(job.get("template")), data)
    sent = ses.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [to]},
        Content={
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
            }
        },
        EmailTags=[{"Name": "job_id", "Value": TAG_UNSAFE.sub("-", job_id)}],
    )
    logger.info("email sent", template=job["template"], message_id=sent["MessageId"])
    return {"message_id": sent["MessageId"], "template": job["template"]}
