"""Real event shapes, as AWS delivers them to Lambda."""

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def rest_api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy-integration event. A ``str`` body is sent verbatim."""
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "api.example.com"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7", "userArn": None},
            "accountId": "123456789012",
            "apiId": "abcdef1234",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def eventbridge_event(
    source: str,
    detail_type: str,
    detail: Any,
    *,
    event_id: str = "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    time: str = "2026-11-03T14:07:21Z",
    resources: list[str] | None = None,
    account: str = "123456789012",
) -> dict[str, Any]:
    """An EventBridge event as a rule delivers it to a Lambda target (no transformation)."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time,
        "region": "us-east-1",
        "resources": resources or [],
        "detail": detail,
    }


def scheduled_event(
    time: str = "2026-11-03T02:00:00Z",
    rule_arn: str = "arn:aws:events:us-east-1:123456789012:rule/nightly-report",
) -> dict[str, Any]:
    """The event a schedule rule delivers: source ``aws.events``, an empty detail."""
    return eventbridge_event(
        "aws.events",
        "Scheduled Event",
        {},
        event_id="89d1a02d-5ec7-412e-82f5-13505f849b41",
        time=time,
        resources=[rule_arn],
    )


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller delivers for ``messages`` as boto3 received them."""
    records = []
    for message in messages:
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": attributes,
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
        )
    return {"Records": records}


def sns_event(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The event SNS invokes a subscribed function with, for one SNS message ``envelope``."""
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "EventSource": "aws:sns",
                "Sns": {
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Timestamp": envelope["Timestamp"],
                    "Signature": envelope.get("Signature", "EXAMPLE"),
                    "SigningCertUrl": envelope.get("SigningCertURL", ""),
                    "MessageId": envelope["MessageId"],
                    "Message": envelope["Message"],
                    "MessageAttributes": envelope.get("MessageAttributes", {}),
                    "Type": envelope.get("Type", "Notification"),
                    "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
                    "TopicArn": envelope["TopicArn"],
                    "Subject": envelope.get("Subject"),
                },
            }
        ]
    }


def websocket_event(
    route: str,
    connection_id: str,
    *,
    query: dict[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway WebSocket event: ``$connect`` (with ``query``), ``$disconnect`` or a
    message route (with ``body``)."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "messageDirection": "IN",
            "connectionId": connection_id,
            "connectedAt": 1795000000000,
            "requestTimeEpoch": 1795000000500,
            "requestId": "Lx1YqG3kIAMFZQw=",
            "extendedRequestId": "Lx1YqG3kIAMFZQw=",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "stage": "prod",
            "apiId": "abcdef1234",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "test"},
        },
        "isBase64Encoded": False,
    }
    if route == "$connect":
        event["headers"] = {"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"}
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = (
            {k: [v] for k, v in query.items()} if query else None
        )
    elif route == "$disconnect":
        event["headers"] = {"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"}
        event["requestContext"]["disconnectStatusCode"] = 1000
        event["requestContext"]["disconnectReason"] = "Client-side close frame"
    else:
        event["requestContext"]["messageId"] = "Lx1YrcZ2IAMCJpQ="
        event["body"] = body
    return event


def dynamodb_stream_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """The event Lambda's stream poller delivers for ``records`` as boto3's
    ``dynamodbstreams.get_records`` returned them."""
    delivered = []
    for record in records:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if created is not None and not isinstance(created, int | float):
            change["ApproximateCreationDateTime"] = int(created.timestamp())
        delivered.append(
            {
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": record.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": record.get("awsRegion", stream_arn.split(":")[3]),
                "dynamodb": change,
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": delivered}


def kinesis_stream_event(
    records: list[dict[str, Any]], stream_arn: str, shard_id: str
) -> dict[str, Any]:
    """The event Lambda's Kinesis poller delivers for ``records`` of one shard, as boto3's
    ``kinesis.get_records`` returned them ("Using Lambda with Kinesis Data Streams",
    lambda/latest/dg/with-kinesis.html: the example event)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode(),
                    "approximateArrivalTimestamp": record[
                        "ApproximateArrivalTimestamp"
                    ].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{stream_arn.split(':')[4]}:role/consumer",
                "awsRegion": stream_arn.split(":")[3],
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }
