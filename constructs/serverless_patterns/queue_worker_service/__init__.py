"""QueueWorkerService: SQS (DLQ) -> a Fargate worker service that scales 0..N on queue depth."""

from serverless_patterns.queue_worker_service.queue_worker_service import (
    RUNTIME,
    QueueWorkerService,
)

__all__ = ["RUNTIME", "QueueWorkerService"]
