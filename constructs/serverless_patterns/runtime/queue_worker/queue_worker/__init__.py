"""The QueueWorkerService runtime: your ``process(job)`` run from an SQS queue on Fargate."""
