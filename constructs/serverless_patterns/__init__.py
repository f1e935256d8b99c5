"""serverless-patterns: vetted, secure AWS CDK constructs for serverless patterns.

The public names load on first use (PEP 562): asking for one first points jsii at a Node it
supports (``_node.use_wheel_node``), before the pattern's module loads ``aws_cdk``. Importing
the package itself loads nothing else.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from serverless_patterns._node import use_wheel_node

if TYPE_CHECKING:
    from serverless_patterns.async_api import AsyncApi
    from serverless_patterns.change_capture import ChangeCapture
    from serverless_patterns.core.apis import PROXY_ROUTES, Route
    from serverless_patterns.core.firehose import S3DeliveryProps
    from serverless_patterns.core.state_machines import TRANSIENT_ERRORS
    from serverless_patterns.core.tables import TableAccess
    from serverless_patterns.event_router import EventRoute, EventRouter, EventTarget
    from serverless_patterns.fan_out import (
        FanOut,
        FunctionSubscriber,
        QueueSubscriber,
        SubscriberResources,
    )
    from serverless_patterns.queue_worker_service import QueueWorkerService
    from serverless_patterns.stream_ingestion import StreamIngestion
    from serverless_patterns.sync_api import SyncApi
    from serverless_patterns.workflow import Saga, SagaStep, Workflow

#: Each public name and the module that defines it.
_MODULES = {
    "AsyncApi": "serverless_patterns.async_api",
    "EventRoute": "serverless_patterns.event_router",
    "EventRouter": "serverless_patterns.event_router",
    "EventTarget": "serverless_patterns.event_router",
    "FanOut": "serverless_patterns.fan_out",
    "FunctionSubscriber": "serverless_patterns.fan_out",
    "PROXY_ROUTES": "serverless_patterns.core.apis",
    "QueueSubscriber": "serverless_patterns.fan_out",
    "QueueWorkerService": "serverless_patterns.queue_worker_service",
    "Route": "serverless_patterns.core.apis",
    "Saga": "serverless_patterns.workflow",
    "SagaStep": "serverless_patterns.workflow",
    "SubscriberResources": "serverless_patterns.fan_out",
    "SyncApi": "serverless_patterns.sync_api",
    "TRANSIENT_ERRORS": "serverless_patterns.core.state_machines",
    "TableAccess": "serverless_patterns.core.tables",
    "Workflow": "serverless_patterns.workflow",
    "StreamIngestion": "serverless_patterns.stream_ingestion",
    "S3DeliveryProps": "serverless_patterns.core.firehose",
    "ChangeCapture": "serverless_patterns.change_capture",
}

__all__ = [
    "PROXY_ROUTES",
    "TRANSIENT_ERRORS",
    "AsyncApi",
    "ChangeCapture",
    "EventRoute",
    "EventRouter",
    "EventTarget",
    "FanOut",
    "FunctionSubscriber",
    "QueueSubscriber",
    "QueueWorkerService",
    "Route",
    "S3DeliveryProps",
    "Saga",
    "SagaStep",
    "StreamIngestion",
    "SubscriberResources",
    "SyncApi",
    "TableAccess",
    "Workflow",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'serverless_patterns' has no attribute {name!r}")
    use_wheel_node()  # before the module below loads aws_cdk (and starts jsii)
    value = getattr(import_module(_MODULES[name]), name)
    globals()[name] = value
    return value
