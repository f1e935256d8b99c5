"""``GET <path>/{job_id}`` of an AsyncApi: the job's status, result or error; 404 if unknown.

A job appears in the table when a worker first picks it up: until then (a backlog behind the
worker's capped concurrency) its id is unknown here too — the 404 message says so. A record
expires ``JOB_RETENTION_SECONDS`` after its last change (the table's TTL).
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from async_jobs import is_job_id, job_key, public_view, table, to_json

logger = Logger()
jobs = table()


def answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": to_json(body),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job_id = (event.get("pathParameters") or {}).get("job_id")
    if not is_job_id(job_id):
        return answer(400, {"message": "job_id must be 1 to 128 letters, digits or ._:-"})
    item = jobs.get_item(Key=job_key(job_id), ConsistentRead=True).get("Item")
    if item is None:
        return answer(
            404,
            {
                "message": f"job {job_id} not found: the id is unknown, or the job is still "
                "queued (it appears once a worker picks it up), or its record has expired"
            },
        )
    return answer(200, public_view(item))
