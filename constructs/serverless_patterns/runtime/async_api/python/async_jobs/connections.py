"""The AsyncApi WebSocket routes: subscribe on ``$connect``, clean up on ``$disconnect``.

- ``$connect?job_id=<id>``: subscribe the new connection to that job (optional). API Gateway
  never delivers a ``$connect`` response body to the client (only its status code decides
  whether the connection opens), so nothing is said here.
- any message (``$default``), e.g. ``{"job_id": "<id>"}`` or ``{}``: subscribe to that job
  too; the reply (delivered: the route has a route response) lists the current state of every
  job the connection follows, with its result if it has finished — so a job that finished
  before the subscription was stored is not missed. Send one after connecting. A reply over
  API Gateway's 128 KB message quota leaves the results out (``"result_omitted": true``).
- ``$disconnect``: delete the connection's subscriptions.

When a job finishes, the notifier posts its outcome to every subscribed connection.
"""

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from async_jobs import (
    forget_connection,
    is_job_id,
    job_key,
    public_view,
    subscribe,
    subscriptions_of_connection,
    table,
    to_json,
    websocket_json,
)

#: One connection follows a handful of jobs; more is a runaway client.
MAX_SUBSCRIPTIONS = 25
#: Not in the table: no worker has picked the job up yet, or there is no such job.
UNKNOWN = "unknown"

logger = Logger()
jobs = table()


def answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "body": to_json(body)}


def connect(connection_id: str, query: dict[str, str]) -> dict[str, Any]:
    """Accept (200) or refuse (400) the connection: API Gateway delivers no body here."""
    job_id = query.get("job_id")
    if job_id is None:
        return {"statusCode": 200}
    if not is_job_id(job_id):
        logger.info("refused: malformed job_id")
        return {"statusCode": 400}
    subscribe(jobs, job_id, connection_id)
    logger.info("subscribed", job_id=job_id)
    return {"statusCode": 200}


def message(connection_id: str, body: str | None) -> dict[str, Any]:
    try:
        request = json.loads(body or "{}")
    except json.JSONDecodeError as error:
        return answer(400, {"message": f"the message is not JSON: {error.msg}"})
    if not isinstance(request, dict):
        return answer(400, {"message": 'send a JSON object, e.g. {"job_id": "..."}'})
    job_ids = subscriptions_of_connection(jobs, connection_id)
    job_id = request.get("job_id")
    if job_id is not None and job_id not in job_ids:
        if not is_job_id(job_id):
            return answer(400, {"message": "job_id must be 1 to 128 letters, digits or ._:-"})
        if len(job_ids) >= MAX_SUBSCRIPTIONS:
            return answer(400, {"message": f"at most {MAX_SUBSCRIPTIONS} jobs per connection"})
        subscribe(jobs, job_id, connection_id)
        job_ids.append(job_id)
    states = []
    for each in sorted(job_ids):
        item = jobs.get_item(Key=job_key(each), ConsistentRead=True).get("Item")
        states.append(public_view(item) if item else {"job_id": each, "status": UNKNOWN})
    return {"statusCode": 200, "body": websocket_json(states, lambda views: {"jobs": views})}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event["requestContext"]
    route, connection_id = request["routeKey"], request["connectionId"]
    logger.append_keys(connection_id=connection_id, route=route)
    if route == "$connect":
        return connect(connection_id, event.get("queryStringParameters") or {})
    if route == "$disconnect":
        forgotten = forget_connection(jobs, connection_id)
        logger.info("disconnected", subscriptions=forgotten)
        return {"statusCode": 200}
    return message(connection_id, event.get("body"))
