"""DeviceTelemetry reference: readings put through the producer role become per-device
aggregates in the table (the Kinesis event source mapping runs the consumer)."""

import json
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e

STACK = "DeviceTelemetry"
TIMEOUT = 60


@pytest.fixture(scope="module")
def kinesis(stack, session, endpoint) -> Any:
    """A Kinesis client with the credentials of the device fleet's producer role."""
    outputs = stack(STACK).outputs
    credentials = session.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=outputs["ProducerRoleArn"], RoleSessionName="device-gateway"
    )["Credentials"]
    return session.client(
        "kinesis",
        endpoint_url=endpoint,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_readings_become_per_device_aggregates(stack, kinesis, client) -> None:
    outputs = stack(STACK).outputs
    device = f"e2e-{uuid.uuid4()}"
    kinesis.put_records(
        StreamName=outputs["StreamName"],
        Records=[
            {"PartitionKey": device, "Data": json.dumps({"device_id": device, "reading": value})}
            for value in (20, 22.5, 21)
        ],
    )
    table = outputs["AggregatesTableName"]

    def totals() -> tuple[int, float, float, float] | None:
        """Count, sum, min and max over the device's minutes (the readings may span two)."""
        items = client("dynamodb").query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"device#{device}"}},
        )["Items"]
        count = sum(int(item["count"]["N"]) for item in items if "count" in item)
        if count < 3 or not all("min" in item and "max" in item for item in items):
            return None
        return (
            count,
            sum(float(item["sum"]["N"]) for item in items),
            min(float(item["min"]["N"]) for item in items),
            max(float(item["max"]["N"]) for item in items),
        )

    found = eventually(totals, timeout=TIMEOUT, what=f"3 readings of {device} aggregated")
    assert found == (3, 63.5, 20, 22.5)
