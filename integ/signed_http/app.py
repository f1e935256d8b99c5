"""A caller of an IAM-authorized REST API: one SigV4-signed HTTPS request, as a client sends it.

The assertions invoke this function with ``{"method", "url", "body"?}`` and assert on what it
answers: ``{"status": <HTTP status>, "body": <JSON body, or the text if not JSON>}``. The
CDK assertion provider cannot sign requests, and the reference APIs refuse unsigned ones.
"""

import json
import os
import urllib.error
import urllib.request
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    data = None if event.get("body") is None else json.dumps(event["body"]).encode()
    request = AWSRequest(
        method=event["method"],
        url=event["url"],
        data=data,
        headers={"Content-Type": "application/json"} if data else {},
    )
    credentials = boto3.Session().get_credentials().get_frozen_credentials()
    SigV4Auth(credentials, "execute-api", os.environ["AWS_REGION"]).add_auth(request)
    signed = urllib.request.Request(
        event["url"], data=data, method=event["method"], headers=dict(request.headers)
    )
    try:
        with urllib.request.urlopen(signed, timeout=20) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    return {"status": status, "body": body}
