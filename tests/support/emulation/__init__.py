"""One emulation of AWS for every pattern's tests, built from a synthesized template."""

from tests.support.emulation.deployment import Emulation, Failure, Subscriber, plain
from tests.support.emulation.functions import Deployed, Function, FunctionError, Invocation
from tests.support.emulation.queues import receive_all, receive_bodies, subscribe_inbox
from tests.support.emulation.websockets import posted

__all__ = [
    "Deployed",
    "Emulation",
    "Failure",
    "Function",
    "FunctionError",
    "Invocation",
    "Subscriber",
    "plain",
    "posted",
    "receive_all",
    "receive_bodies",
    "subscribe_inbox",
]
