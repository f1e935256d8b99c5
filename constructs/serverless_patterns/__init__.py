"""serverless-patterns: vetted, secure AWS CDK constructs for serverless patterns."""

# isort: off
from serverless_patterns._node import use_wheel_node

use_wheel_node()  # before anything below loads aws_cdk (and starts jsii)
# isort: on

from serverless_patterns.async_api import AsyncApi  # noqa: E402
from serverless_patterns.core.apis import PROXY_ROUTES, Route  # noqa: E402
from serverless_patterns.core.state_machines import TRANSIENT_ERRORS  # noqa: E402
from serverless_patterns.core.tables import TableAccess  # noqa: E402
from serverless_patterns.event_router import EventRoute, EventRouter, EventTarget  # noqa: E402
from serverless_patterns.fan_out import (  # noqa: E402
    FanOut,
    FunctionSubscriber,
    QueueSubscriber,
    SubscriberResources,
)
from serverless_patterns.queue_worker_service import QueueWorkerService  # noqa: E402
from serverless_patterns.sync_api import SyncApi  # noqa: E402
from serverless_patterns.workflow import Saga, SagaStep, Workflow  # noqa: E402

__all__ = [
    "PROXY_ROUTES",
    "TRANSIENT_ERRORS",
    "AsyncApi",
    "EventRoute",
    "EventRouter",
    "EventTarget",
    "FanOut",
    "FunctionSubscriber",
    "QueueSubscriber",
    "QueueWorkerService",
    "Route",
    "Saga",
    "SagaStep",
    "SubscriberResources",
    "SyncApi",
    "TableAccess",
    "Workflow",
]
