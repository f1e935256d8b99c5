"""Lambda functions of a template, run in-process as the Lambda runtime runs them.

Each function's handler is imported from its own code asset and layers (the folders
``cdk synth`` staged) with the function's environment resolved from the template, and every
invocation runs through :meth:`Function.invoke` ("Define Lambda function handler in Python",
lambda/latest/dg/python-handler.html): the function sees only its own modules, its own
environment, and a context whose remaining time starts at the function's ``Timeout``.
Functions are separate processes in Lambda: two functions that both ship an ``app.py`` (or
the same ``async_jobs`` runtime) never share module state here either.

The Powertools layer holds the release the test virtualenv pins; it is imported from there,
once per session, instead of once per function.

Asynchronous invocation follows "How Lambda handles errors and retries with asynchronous
invocation" (lambda/latest/dg/invocation-async-error-handling.html) and "Capturing records of
Lambda asynchronous invocations" (lambda/latest/dg/invocation-async-retain-records.html):
see :meth:`Function.invoke_async`.
"""

import contextlib
import copy
import functools
import importlib
import json
import os
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.emulation.intrinsics import ACCOUNT, REGION, Resolver
from tests.support.events import LambdaContext
from tests.support.iam import acting_as

#: Lambda's default ``MaximumRetryAttempts`` for asynchronous invocation (invocation-async-
#: error-handling.html: "by default Lambda attempts to run it two more times").
DEFAULT_ASYNC_RETRIES = 2
#: The waits between the documented asynchronous retries: one minute, then two minutes.
ASYNC_RETRY_DELAYS = (60, 120)


class FunctionError(Exception):
    """The runtime failed the invocation before or after the handler (import error,
    timeout, out of memory): nothing the handler returned counts."""


class Context(LambdaContext):
    """The Lambda context, with the time left of a function that has just started."""

    def __init__(self, function_name: str, timeout_seconds: int) -> None:
        super().__init__(
            function_name=function_name,
            invoked_function_arn=function_arn(function_name),
            aws_request_id=str(uuid.uuid4()),
        )
        self.timeout_seconds = timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@contextlib.contextmanager
def compiled_once() -> Iterator[None]:
    """Let Python cache the bytecode of what is imported meanwhile (the code assets in the
    session's cdk.out), even where the environment says not to (``PYTHONDONTWRITEBYTECODE``):
    each deployment imports its handlers afresh, and compiling them again every time cost
    more than a second of the suite."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


@dataclass
class Invocation:
    function: str
    event: Any
    outcome: str  # "ok", or the error type the handler raised
    result: Any = None


@dataclass
class Function:
    """One ``AWS::Lambda::Function`` of the template (named by its logical id)."""

    logical_id: str
    handler: str
    timeout: int
    paths: list[str]
    environment: dict[str, str]
    #: Set by the emulation: where records of asynchronous invocations go.
    deliver: Callable[[str, dict[str, Any], dict[str, str]], None] | None = None
    async_config: dict[str, Any] = field(default_factory=dict)
    dead_letter_target: str | None = None
    invocations: list[Invocation] = field(default_factory=list)
    #: A test's stand-in for the handler (``(event, context) -> answer``): what the runtime
    #: runs instead, e.g. to crash the way a timeout does.
    stand_in: Callable[[Any, Any], Any] | None = None
    #: The template's resolver: the execution role's policies, resolved to moto's resources.
    resolve: Resolver | None = None
    _modules: dict[str, Any] = field(default_factory=dict)
    _entry: Callable[..., Any] | None = None
    _running: bool = False

    @classmethod
    def from_template(
        cls, logical_id: str, resource: dict[str, Any], assets: Path, resolve: Resolver
    ) -> "Function":
        properties = resource["Properties"]
        paths = [str(assets / resource["Metadata"]["aws:asset:path"])]
        for layer in properties.get("Layers", []):
            layer_resource = resolve.template["Resources"][resolve.logical_id(layer)]
            folder = assets / layer_resource["Metadata"]["aws:asset:path"] / "python"
            if not (folder / "aws_lambda_powertools").exists():
                paths.append(str(folder))
        variables = resolve(properties.get("Environment", {}).get("Variables", {}))
        return cls(
            logical_id=logical_id,
            handler=properties["Handler"],
            timeout=properties.get("Timeout", 3),
            paths=paths,
            environment={name: str(value) for name, value in variables.items()},
            resolve=resolve,
        )

    @property
    def arn(self) -> str:
        return function_arn(self.logical_id)

    @property
    def module(self) -> Any:
        """The handler's module, imported on the first use (as on a cold start)."""
        entry = self._load()
        return self._modules.get(entry.__module__) or sys.modules[entry.__module__]

    def _load(self) -> Callable[..., Any]:
        if self._entry is None:
            module_name, _, attribute = self.handler.rpartition(".")
            with self.process(), compiled_once():
                module = importlib.import_module(module_name)
                self._entry = getattr(module, attribute)
        return self._entry

    @functools.cached_property
    def _owned(self) -> tuple[set[str], tuple[str, ...]]:
        """Top-level module names this function's code and layers provide, and the prefixes
        of their submodules' names."""
        names = set()
        for path in self.paths:
            for entry in Path(path).iterdir():
                if entry.suffix == ".py" or (entry / "__init__.py").exists():
                    names.add(entry.stem if entry.suffix == ".py" else entry.name)
        return names, tuple(f"{name}." for name in names)

    def _is_owned(self, module_name: str) -> bool:
        names, prefixes = self._owned
        return module_name in names or module_name.startswith(prefixes)

    @contextlib.contextmanager
    def process(self) -> Iterator[None]:
        """Run as this function's process: its modules, ``sys.path`` and environment."""
        if self._running:  # already inside it (a stand-in reading the module)
            yield
            return
        self._running = True
        mine = [n for n in sys.modules if self._is_owned(n)]
        others = {n: sys.modules.pop(n) for n in mine}
        sys.modules.update(self._modules)
        saved_path, saved_environment = sys.path[:], dict(os.environ)
        sys.path[:0] = self.paths
        os.environ.update(
            self.environment | {"AWS_LAMBDA_FUNCTION_NAME": self.logical_id, "AWS_REGION": REGION}
        )
        try:
            yield
        finally:
            self._running = False
            self._modules = {n: sys.modules.pop(n) for n in list(sys.modules) if self._is_owned(n)}
            sys.modules.update(others)
            sys.path[:] = saved_path
            os.environ.clear()
            os.environ.update(saved_environment)

    def invoke(self, event: Any) -> Any:
        """A synchronous invocation: the handler's answer, or the error it raised. The handler
        runs as the function's execution role (tests/support/iam.py): a call its policies do
        not allow fails as in AWS."""
        entry = self._load()  # the cold start is not part of the invocation
        entry = self.stand_in or entry
        assert self.resolve is not None, "a function runs with the role of its template"
        with acting_as(self.resolve.template, self.logical_id, self.resolve), self.process():
            try:
                result = entry(copy.deepcopy(event), Context(self.logical_id, self.timeout))
            except BaseException as error:
                self.invocations.append(Invocation(self.logical_id, event, type(error).__name__))
                raise
        result = json.loads(json.dumps(result)) if result is not None else None
        self.invocations.append(Invocation(self.logical_id, event, "ok", result))
        return result

    def invoke_async(self, event: Any, *, age_seconds: int = 0) -> int:
        """An asynchronous invocation (``InvocationType=Event``); returns the attempts made.

        invocation-async-error-handling.html: a function error is retried
        ``MaximumRetryAttempts`` times (default 2), one minute after the first attempt and two
        after the second; an event older than ``MaximumEventAgeInSeconds`` is not run again.
        invocation-async-retain-records.html: then the invocation record goes to the
        ``OnFailure`` destination (``OnSuccess`` for a success), and with no destination
        the event alone goes to the function's dead-letter queue with the ``RequestID``,
        ``ErrorCode`` and ``ErrorMessage`` attributes.
        """
        retries = self.async_config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES)
        max_age = self.async_config.get("MaximumEventAgeInSeconds", 6 * 3600)
        request_id = str(uuid.uuid4())
        attempts, condition = 0, "RetriesExhausted"
        while True:
            attempts += 1
            try:
                result = self.invoke(event)
            except Exception as error:
                failure = error
            else:
                self._record("OnSuccess", request_id, event, attempts, "Success", result)
                return attempts
            if attempts > retries:
                break
            age_seconds += ASYNC_RETRY_DELAYS[min(attempts - 1, 1)]
            if age_seconds > max_age:
                condition = "EventAgeExceeded"
                break
        payload = {
            "errorMessage": str(failure),
            "errorType": type(failure).__name__,
            "stackTrace": traceback.format_tb(failure.__traceback__),
        }
        if not self._record("OnFailure", request_id, event, attempts, condition, payload):
            self._dead_letter(request_id, event, failure)
        return attempts

    def _record(
        self, outcome: str, request_id: str, event: Any, attempts: int, condition: str, payload: Any
    ) -> bool:
        destination = self.async_config.get("DestinationConfig", {}).get(outcome, {})
        if not destination.get("Destination"):
            return False
        response = {"statusCode": 200, "executedVersion": "$LATEST"}
        if outcome == "OnFailure":
            response["functionError"] = "Unhandled"
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "requestContext": {
                "requestId": request_id,
                "functionArn": f"{self.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": response,
            "responsePayload": payload,
        }
        assert self.deliver is not None
        self.deliver(destination["Destination"], record, {})
        return True

    def _dead_letter(self, request_id: str, event: Any, failure: Exception) -> None:
        if self.dead_letter_target is None:
            return  # Lambda discards the event
        assert self.deliver is not None
        self.deliver(
            self.dead_letter_target,
            event,
            {
                "RequestID": request_id,
                "ErrorCode": "200",
                "ErrorMessage": str(failure)[:1024],
            },
        )


class Deployed:
    """A deployed function as a test holds it: its attributes are its module's, and
    ``handler(event, context)`` is an invocation through :meth:`Function.invoke` (its own
    modules, environment and context; ``context`` is ignored)."""

    def __init__(self, function: Function) -> None:
        object.__setattr__(self, "function", function)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.function.module, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.function.module, name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self.function.module, name)

    def handler(self, event: Any, context: Any = None) -> Any:
        return self.function.invoke(event)
