"""Run a synthesized state machine in moto's Step Functions emulation.

The definition is the template's own ``DefinitionString`` with its ``Ref`` / ``Fn::GetAtt`` /
``Fn::Join`` resolved to the moto resources created from the same template: tables are named
after their logical ids, functions answer at ``arn:aws:lambda:...:function:<logical id>``.
moto's Lambda backend is patched to run the real handler in-process (TOOLCHAIN.md); AWS-side
faults (throttling) can be queued with :meth:`Emulation.fail_next_invoke`.
"""

import json
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config
from moto.core.exceptions import JsonRESTError

from tests.support.aws import load_handler
from tests.support.cdk import resources
from tests.support.events import LambdaContext

REGION = "us-east-1"
ACCOUNT = "123456789012"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
EXECUTION_DEADLINE_SECONDS = 30


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def resolve(value: Any, template: dict[str, Any]) -> Any:
    """``value`` with the intrinsic functions the state machine uses resolved for moto."""
    if isinstance(value, list):
        return [resolve(item, template) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        name = value["Ref"]
        if name in PSEUDO:
            return PSEUDO[name]
        assert name in template["Resources"], f"unknown Ref {name}"
        return name  # tables (and queues, topics) are created under their logical id
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        kind = template["Resources"][logical_id]["Type"]
        assert (kind, attribute) == ("AWS::Lambda::Function", "Arn"), value
        return function_arn(logical_id)
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, template)) for part in parts)
    return {key: resolve(item, template) for key, item in value.items()}


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints, for readable comparisons."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [plain(item) for item in value]
    return value


@dataclass
class Invocation:
    function: str
    event: dict[str, Any]
    outcome: str  # "ok", the error type the handler raised, or the AWS fault injected


@dataclass
class Emulation:
    """One reference template's state machine, tables and functions in moto."""

    template: dict[str, Any]
    monkeypatch: pytest.MonkeyPatch
    handlers: dict[str, str]  # function logical-id prefix -> handler file
    invocations: list[Invocation] = field(default_factory=list)
    #: Called after each invoke that returned: what happens elsewhere meanwhile.
    after_invoke: Callable[[Invocation], None] | None = None
    _faults: list[JsonRESTError] = field(default_factory=list)
    _modules: dict[str, Callable[..., Any]] = field(default_factory=dict)
    state_machine_arn: str = ""

    def start(self) -> "Emulation":
        self.monkeypatch.setitem(
            default_user_config, "stepfunctions", {"execute_state_machine": True}
        )
        self.monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
        for logical_id, properties in resources(
            self.template, "AWS::DynamoDB::GlobalTable"
        ).items():
            boto3.client("dynamodb").create_table(
                TableName=logical_id,
                KeySchema=properties["KeySchema"],
                AttributeDefinitions=properties["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
            )
        for logical_id, properties in resources(self.template, "AWS::Lambda::Function").items():
            prefix = next(p for p in self.handlers if logical_id.startswith(p))
            variables = properties.get("Environment", {}).get("Variables", {})
            for name, value in resolve(variables, self.template).items():
                self.monkeypatch.setenv(name, value)
            module: ModuleType = load_handler(self.handlers[prefix])
            self._modules[logical_id] = getattr(module, properties["Handler"].split(".")[-1])
        self.monkeypatch.setattr(LambdaSimpleBackend, "invoke", self._invoke_factory())
        machine_id, machine = next(
            iter(resources(self.template, "AWS::StepFunctions::StateMachine").items())
        )
        self.state_machine_arn = boto3.client("stepfunctions").create_state_machine(
            name=machine_id,
            definition=resolve(machine["DefinitionString"], self.template),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/{machine_id}Role",
            type=machine.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        return self

    def fail_next_invoke(self, code: str, message: str, status: int) -> None:
        """The next Lambda invoke fails on the AWS side (e.g. throttled) without running code."""
        self._faults.append(JsonRESTError(code, message, code=status))

    def _invoke_factory(self) -> Callable[..., bytes]:
        emulation = self

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: Any,
            body: Any,
            headers: Any,
            response_headers: dict[str, str],
        ) -> bytes:
            name = function_name.split(":")[-1]
            event = json.loads(body or "{}")
            if emulation._faults:
                fault = emulation._faults.pop(0)
                emulation.invocations.append(Invocation(name, event, fault.error_type))
                raise fault
            try:
                result = emulation._modules[name](event, LambdaContext(function_name=name))
            except Exception as error:  # what the Lambda runtime reports for an unhandled error
                emulation.invocations.append(Invocation(name, event, type(error).__name__))
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(
                    {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    }
                ).encode()
            emulation.invocations.append(Invocation(name, event, "ok"))
            if emulation.after_invoke is not None:
                emulation.after_invoke(emulation.invocations[-1])
            return json.dumps(result).encode()

        return invoke

    def run(self, execution_input: dict[str, Any]) -> dict[str, Any]:
        """Start an execution and wait for its end: ``describe_execution``'s answer."""
        client = boto3.client("stepfunctions")
        arn = client.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=uuid.uuid4().hex,
            input=json.dumps(execution_input),
        )["executionArn"]
        deadline = time.monotonic() + EXECUTION_DEADLINE_SECONDS
        while (execution := client.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the execution did not finish"
            time.sleep(0.01)
        return execution

    def history(self, execution: dict[str, Any]) -> list[dict[str, Any]]:
        return boto3.client("stepfunctions").get_execution_history(
            executionArn=execution["executionArn"], maxResults=1000
        )["events"]

    def states_entered(self, execution: dict[str, Any]) -> list[str]:
        """The names of the states the execution entered, in order."""
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(execution)
            if "stateEnteredEventDetails" in event
        ]

    def task_failures(self, execution: dict[str, Any]) -> list[str]:
        """The error of every failed task attempt (retries included), in order."""
        return [
            event["taskFailedEventDetails"]["error"]
            for event in self.history(execution)
            if event["type"] == "TaskFailed"
        ]

    def table(self, prefix: str) -> Any:
        [logical_id] = [
            name
            for name in resources(self.template, "AWS::DynamoDB::GlobalTable")
            if name.startswith(prefix)
        ]
        return boto3.resource("dynamodb").Table(logical_id)

    def items(self, prefix: str) -> Iterator[dict[str, Any]]:
        yield from (plain(item) for item in self.table(prefix).scan()["Items"])
