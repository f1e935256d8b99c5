"""Place an order asynchronously (AsyncApi): the caller gets a job id, the order comes later.

The AsyncApi runtime calls :func:`process` for each accepted ``POST /orders`` (the body the
API validated) and records what it returns as the job's result, which the job status endpoint
answers and the WebSocket pushes to subscribed callers. Without a client token the order's id
is the job id, so the runtime's retries never place it twice.

An order that cannot be placed raises: the runtime retries it, marks the job failed on the
last receive and leaves the message in the dead-letter queue. (The API's schema already
refuses most bad orders with a 400; what it cannot know, like an unknown SKU, fails here.)

The business logic is :mod:`ordering`, shared word for word with ``sync_app``.
"""

import os
from typing import Any

import boto3
import ordering
from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer()
orders = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])


@tracer.capture_method
def process(job: dict[str, Any], job_id: str) -> dict[str, Any]:
    order, created = ordering.place(orders, job, default_id=job_id)
    logger.info("order placed" if created else "order already placed", order_id=order["id"])
    return order
