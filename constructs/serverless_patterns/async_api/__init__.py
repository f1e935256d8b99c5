"""AsyncApi: storage-first REST API -> SQS -> worker Lambda -> DynamoDB, WebSocket callbacks."""

from serverless_patterns.async_api.async_api import AsyncApi

__all__ = ["AsyncApi"]
