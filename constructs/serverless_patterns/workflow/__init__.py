"""Workflow (Step Functions with secure defaults) and Saga (compensating steps)."""

from serverless_patterns.workflow.saga import Saga
from serverless_patterns.workflow.steps import SagaStep
from serverless_patterns.workflow.workflow import Workflow

__all__ = ["Saga", "SagaStep", "Workflow"]
