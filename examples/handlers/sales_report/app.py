"""Nightly sales report: the schedule's tick becomes a "Sales Report Requested" event.

The event names the previous UTC day and carries a ``report_id`` derived from it, so the
report builders that subscribe to it can drop the duplicate a retried tick produces. A tick
this function cannot read raises ``InvalidEvent``; a rejected PutEvents raises too, so
Lambda retries it, then the route's dead-letter queue receives it.
"""

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

SOURCE = "commerce.reports"
DETAIL_TYPE = "Sales Report Requested"

logger = Logger()
tracer = Tracer()
event_bridge = boto3.client("events")
EVENT_BUS_NAME = os.environ["EVENT_BUS_NAME"]


class InvalidEvent(ValueError):
    """An event this function cannot handle: retrying will not help; it ends in the DLQ."""


def fired_at(event: EventBridgeEvent) -> datetime:
    if event.source != "aws.events" or event.detail_type != "Scheduled Event":
        raise InvalidEvent(
            f"expected a 'Scheduled Event' from 'aws.events', got {event.detail_type!r} "
            f"from {event.source!r}"
        )
    try:
        fired = datetime.fromisoformat(event.time)
    except (TypeError, ValueError):
        raise InvalidEvent(f"time {event.get('time')!r} is not an ISO 8601 timestamp") from None
    if fired.tzinfo is None:
        raise InvalidEvent(f"time {event.time!r} has no time zone")
    return fired.astimezone(UTC)


def report_request(fired: datetime) -> dict[str, str]:
    """The previous UTC day, as the report to build."""
    day = fired.date() - timedelta(days=1)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return {
        "report_id": f"sales-{day.isoformat()}",
        "period_start": start.isoformat().replace("+00:00", "Z"),
        "period_end": (start + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    request = report_request(fired_at(event))
    answer = event_bridge.put_events(
        Entries=[
            {
                "EventBusName": EVENT_BUS_NAME,
                "Source": SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(request),
                "Resources": list(event.resources),
            }
        ]
    )
    if answer["FailedEntryCount"]:
        raise RuntimeError(f"PutEvents rejected the report request: {answer['Entries']}")
    logger.info("report requested", extra=request)
    return request
