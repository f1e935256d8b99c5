"""FanOut: one SNS topic, many subscribers, each with its own filter policy and DLQ."""

from serverless_patterns.fan_out.fan_out import FanOut
from serverless_patterns.fan_out.subscribers import (
    FunctionSubscriber,
    QueueSubscriber,
    SubscriberResources,
)

__all__ = ["FanOut", "FunctionSubscriber", "QueueSubscriber", "SubscriberResources"]
