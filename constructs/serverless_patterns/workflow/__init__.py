"""Workflow (Step Functions with secure defaults) and Saga (compensating steps)."""

from serverless_patterns.workflow.saga import Saga, SagaStep
from serverless_patterns.workflow.workflow import Workflow

__all__ = ["Saga", "SagaStep", "Workflow"]
