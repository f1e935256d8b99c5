"""The AsyncApi runtime: Lambda code the library ships (worker wrapper, status, WebSocket).

Every function reads and writes one DynamoDB table (``TABLE_NAME``, string keys ``pk`` and
``sk``, TTL attribute ``expires_at``) holding three kinds of items:

- a job: ``pk=<job id>, sk="job"`` with its status, attempts, result or error; it expires
  ``JOB_RETENTION_SECONDS`` (default 30 days) after its last change;
- a subscription: ``pk=<job id>, sk="connection#<connection id>"`` (who to tell);
- a connection's index entry: ``pk="connection#<connection id>", sk="job#<job id>"`` (what to
  clean up when the connection closes).

Subscriptions expire by TTL even when ``$disconnect`` never arrives.
"""

import json
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeGuard

PENDING = "pending"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
FINISHED = frozenset({SUCCEEDED, FAILED})

JOB = "job"
CONNECTION = "connection#"
#: API Gateway closes a WebSocket connection after 2 hours at most.
SUBSCRIPTION_TTL_SECONDS = 3 * 60 * 60
_JOB_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_PUBLIC = ("status", "attempts", "submitted_at", "started_at", "finished_at", "result", "error")
#: How long a job record is kept after its last change (the construct's ``job_retention``).
DEFAULT_JOB_RETENTION_SECONDS = 30 * 24 * 60 * 60
#: API Gateway's quota for a WebSocket message, pushed or answered: 128 KB (131,072 bytes).
MAX_WEBSOCKET_BYTES = 131_072


def table() -> Any:
    import boto3

    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def is_job_id(value: Any) -> TypeGuard[str]:
    """Job ids are API Gateway request ids (or SQS message ids): short, no ``#``."""
    return isinstance(value, str) and bool(_JOB_ID.match(value))


def job_key(job_id: str) -> dict[str, str]:
    return {"pk": job_id, "sk": JOB}


def subscription_key(job_id: str, connection_id: str) -> dict[str, str]:
    return {"pk": job_id, "sk": CONNECTION + connection_id}


def connection_key(connection_id: str, job_id: str) -> dict[str, str]:
    return {"pk": CONNECTION + connection_id, "sk": f"{JOB}#{job_id}"}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def job_expires_at() -> int:
    """When a job record written now expires (epoch seconds, the table's TTL attribute)."""
    retention = int(os.environ.get("JOB_RETENTION_SECONDS", DEFAULT_JOB_RETENTION_SECONDS))
    return int(time.time()) + retention


def job_id_of(message_attributes: dict[str, Any] | None, message_id: str) -> str:
    """The job id the API put in an SQS message's ``job_id`` attribute; else the message id.

    ``message_attributes`` as Lambda's SQS event spells them (``{"job_id": {"stringValue":
    ...}}``): the API's mapping template sends API Gateway's ``$context.requestId`` there.
    """
    job_id = ((message_attributes or {}).get("job_id") or {}).get("stringValue")
    return job_id if is_job_id(job_id) else message_id


def public_view(item: dict[str, Any]) -> dict[str, Any]:
    """What callers see of a job item: never the worker's lease bookkeeping."""
    view = {"job_id": item["pk"]}
    view.update({name: item[name] for name in _PUBLIC if name in item})
    return view


def without_result(view: dict[str, Any]) -> dict[str, Any]:
    """``view`` without its result, saying where to get it: ``GET <path>/{job_id}``."""
    if "result" not in view:
        return view
    short = {name: value for name, value in view.items() if name != "result"}
    short["result_omitted"] = True
    if path := os.environ.get("JOBS_PATH"):
        short["status_path"] = f"{path}/{view['job_id']}"
    return short


def websocket_json(views: list[dict[str, Any]], wrap: Callable[[list[Any]], Any]) -> str:
    """``wrap(views)`` as JSON that fits a WebSocket message: without results if it would not.

    API Gateway refuses a message over 128 KB (``PayloadTooLargeException``; a route reply is
    not delivered): a result of up to 300 kB is then only available from the status API.
    """
    text = to_json(wrap(views))
    if len(text.encode()) <= MAX_WEBSOCKET_BYTES:
        return text
    return to_json(wrap([without_result(view) for view in views]))


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> str:
    """JSON text of ``value``; DynamoDB's ``Decimal`` numbers become JSON numbers."""
    return json.dumps(value, default=_number)


def to_item(value: Any) -> Any:
    """``value`` as DynamoDB accepts it (floats become ``Decimal``); not JSON → TypeError."""
    return json.loads(to_json(value), parse_float=Decimal)


def subscribe(jobs: Any, job_id: str, connection_id: str) -> None:
    """Tell ``connection_id`` when ``job_id`` finishes; both items expire with the connection."""
    expires_at = int(time.time()) + SUBSCRIPTION_TTL_SECONDS
    common = {"job_id": job_id, "connection_id": connection_id, "expires_at": expires_at}
    with jobs.batch_writer() as batch:
        batch.put_item(Item={**subscription_key(job_id, connection_id), **common})
        batch.put_item(Item={**connection_key(connection_id, job_id), **common})


def subscriptions_of_connection(jobs: Any, connection_id: str) -> list[str]:
    """The job ids ``connection_id`` subscribed to."""
    job_ids: list[str] = []
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": CONNECTION + connection_id},
        "ConsistentRead": True,
    }
    while True:
        page = jobs.query(**query)
        job_ids += [item["job_id"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return job_ids
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def subscribers_of_job(jobs: Any, job_id: str) -> list[str]:
    """The connection ids subscribed to ``job_id``."""
    connection_ids: list[str] = []
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :connection)",
        "ExpressionAttributeValues": {":pk": job_id, ":connection": CONNECTION},
        "ConsistentRead": True,
    }
    while True:
        page = jobs.query(**query)
        connection_ids += [item["connection_id"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return connection_ids
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def forget_connection(jobs: Any, connection_id: str) -> int:
    """Delete every subscription of ``connection_id``; answer how many there were."""
    job_ids = subscriptions_of_connection(jobs, connection_id)
    with jobs.batch_writer() as batch:
        for job_id in job_ids:
            batch.delete_item(Key=subscription_key(job_id, connection_id))
            batch.delete_item(Key=connection_key(connection_id, job_id))
    return len(job_ids)
