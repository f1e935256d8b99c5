"""A synthesized template in moto: its resources, its functions and the plumbing between them.

:class:`Emulation` creates what the template declares (tables, queues with their redrive
policies, topics and subscriptions, buses, archives, rules and targets, state machines),
loads every Python function from its staged code (functions.py), and wires:

- SQS event source mappings: tests/support/sqs_poller.py (batch size, partial batch
  responses; ``maxReceiveCount`` and the redrive are moto's own).
- DynamoDB stream and Kinesis event source mappings: streams.py.
- Kinesis data streams, S3 buckets, Firehose delivery to S3: kinesis.py.
- EventBridge pipes from a DynamoDB stream to a bus: pipes.py.
- SNS subscriptions: moto filters (``FilterPolicy`` and ``FilterPolicyScope``) and delivers to
  SQS itself, ``RawMessageDelivery`` included. A Lambda endpoint gets the documented SNS event
  ("Invoking Lambda functions with Amazon SNS notifications", lambda/latest/dg/
  with-sns.html), invoked asynchronously; an endpoint SNS cannot reach (the function is
  gone) sends the message to the subscription's dead-letter queue ("Amazon SNS dead-letter
  queues", sns/latest/dg/sns-dead-letter-queues.html).
- EventBridge rules: moto matches the patterns and runs archives; every SQS, Lambda, SNS,
  Step Functions and Firehose target is delivered here (moto raises NotImplementedError for
  the last four; a Firehose target gets one record per event), with ``Input``,
  ``InputPath`` or ``InputTransformer`` applied ("Transforming
  target input", eventbridge/latest/userguide/eb-transform-target-input.html) and the
  target's ``RetryPolicy`` and ``DeadLetterConfig`` ("Event retry policy and using
  dead-letter queues", eventbridge/latest/userguide/eb-rule-dlq.html): a retriable failure is
  retried ``MaximumRetryAttempts`` times, a missing target or permission is not retried,
  and the event then goes to the DLQ with the ``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``,
  ``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION`` and ``RETRY_ATTEMPTS`` attributes. A
  Lambda target is an asynchronous invocation (``EventInvokeConfig`` then applies).
- Step Functions: moto executes the ASL; its Lambda tasks run the real handlers. A
  Retrier's wait is recorded in :attr:`Emulation.retry_waits` instead of slept.

What moto cannot do, and this emulation does not fake: schedule rules never fire by
themselves (:meth:`Emulation.fire` delivers a rule's scheduled event on demand);
EventBridge's ``MaximumEventAgeInSeconds`` is not applied (its back-off schedule is not
documented).

IAM: every handler runs as its execution role (:meth:`Function.invoke`, tests/support/iam.py
``acting_as``). What AWS does itself (delivering an SNS message or an EventBridge event,
polling a queue or stream, recording an asynchronous invocation) runs ``as_platform``:
unchecked, since the resource policies and service roles that govern it are not emulated.
"""

import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config
from moto.core.exceptions import JsonRESTError
from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.sns.models import Subscription
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from tests.support.aws import create_table
from tests.support.cdk import path_of, resources
from tests.support.emulation.functions import Function, Invocation, function_arn
from tests.support.emulation.intrinsics import ACCOUNT, REGION, Resolver
from tests.support.emulation.kinesis import Firehose
from tests.support.emulation.pipes import Pipe, create_pipes
from tests.support.emulation.streams import StreamPoller
from tests.support.events import sns_event
from tests.support.iam import as_platform
from tests.support.sqs_poller import Drained, EventSourceMapping, drain

EXECUTION_DEADLINE_SECONDS = 30
TABLES = ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")
#: EventBridge errors that are not retried (eb-rule-dlq.html: "missing permissions to a
#: target, or a target resource that no longer exists").
NOT_RETRIED = {"NO_PERMISSIONS", "NO_RESOURCE"}
#: EventBridge's default retry policy (eb-rule-dlq.html): 185 attempts in 24 hours.
DEFAULT_RETRIES = 185


@dataclass
class Failure:
    code: str
    message: str


@dataclass
class Subscriber:
    """One SNS subscription as deployed: its endpoint and its dead-letter queue."""

    protocol: str
    endpoint: str  # the logical id of the queue or function subscribed
    subscription_arn: str
    dead_letter_queue_url: str | None
    queue_url: str | None  # for an SQS endpoint


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints (or floats), for readable comparisons."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [plain(item) for item in value]
    return value


class Emulation:
    """One synthesized template, deployed to moto and wired as AWS wires it."""

    def __init__(
        self,
        template: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch,
        assets: Path | None = None,
    ) -> None:
        self.template = template
        self.monkeypatch = monkeypatch
        self.assets = assets
        self.resolve = Resolver(template)
        self.functions: dict[str, Function] = {}
        self.invocations: list[Invocation] = []
        self.streams: dict[str, StreamPoller] = {}
        self.pipes: dict[str, Pipe] = {}
        self.queue_mappings: dict[str, tuple[str, EventSourceMapping]] = {}
        #: target ARN -> the failure EventBridge meets delivering to it (e.g. throttling).
        self.failing_targets: dict[str, Failure] = {}
        #: Called after each Step Functions Lambda task that returned.
        self.after_invoke: Callable[[Invocation], None] | None = None
        self._faults: list[JsonRESTError] = []
        self.state_machine_arn = ""
        #: execution ARN -> the thread moto runs it in (StartExecution).
        self._execution_threads: dict[str, threading.Thread] = {}
        #: The interval, in seconds, of each Step Functions retry: recorded, not slept.
        self.retry_waits: list[float] = []
        self._start()

    def client(self, service: str, **options: Any) -> Any:
        """A boto3 client for the emulation's own calls: the session's one for ``service``
        and ``options`` (``reuse_clients`` in tests/support/aws.py)."""
        return boto3.client(service, **options)

    # --- look-ups ---------------------------------------------------------------------------

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return resources(self.template, resource_type)

    def logical_id(self, name: str, *types: str) -> str:
        """The resource (of one of ``types``, if given) with logical id ``name``, at construct
        path ``name``, or whose logical id starts with ``name``."""
        candidates = {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if not types or resource["Type"] in types
        }
        if name in candidates:
            return name
        found = [k for k, resource in candidates.items() if path_of(resource) == name] or [
            k for k in candidates if k.startswith(name)
        ]
        assert len(found) == 1, f"{name} names {found}"
        return found[0]

    def function(self, name: str) -> Function:
        return self.functions[self.logical_id(name)]

    def ref(self, name: str) -> Any:
        return self.resolve.ref(self.logical_id(name))

    def arn(self, name: str) -> str:
        return self.resolve.get_att(self.logical_id(name), "Arn")

    def subscriber(self, name: str) -> Subscriber:
        """The SNS subscription whose construct path holds the segment ``name``."""
        [(logical_id, properties)] = [
            (logical_id, properties)
            for logical_id, properties in self.of_type("AWS::SNS::Subscription").items()
            if name in path_of(self.template["Resources"][logical_id]).split("/")
        ]
        endpoint = self.resolve.logical_id(properties["Endpoint"])
        redrive = properties.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        return Subscriber(
            protocol=properties["Protocol"],
            endpoint=endpoint,
            subscription_arn=self.resolve.ref(logical_id),
            dead_letter_queue_url=self.resolve.ref(self.resolve.logical_id(redrive))
            if redrive
            else None,
            queue_url=self.resolve.ref(endpoint) if properties["Protocol"] == "sqs" else None,
        )

    def table(self, name: str) -> Any:
        logical_id = self.logical_id(name, *TABLES)
        return boto3.resource("dynamodb").Table(self.resolve.ref(logical_id))

    def items(self, name: str) -> Iterator[dict[str, Any]]:
        yield from (plain(item) for item in self.table(name).scan()["Items"])

    # --- deployment ---------------------------------------------------------------------------

    def _start(self) -> None:
        self.monkeypatch.setitem(
            default_user_config, "stepfunctions", {"execute_state_machine": True}
        )
        self.monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
        python = {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Function"
            and str(resource["Properties"].get("Runtime", "")).startswith("python")
        }
        for logical_id in python:
            self.resolve.register(logical_id, logical_id, Arn=function_arn(logical_id))
        for kind in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
            for logical_id in self.of_type(kind):
                # An API's id is a host name (``ID.execute-api...``): lower case, as the ARN
                # the execute-api policies name must be to match a call made to it.
                self.resolve.register(logical_id, logical_id.lower())
        for kind in TABLES:
            for logical_id, properties in self.of_type(kind).items():
                name = create_table(logical_id, properties)
                table = self.client("dynamodb").describe_table(TableName=name)["Table"]
                extra = (
                    {"StreamArn": table["LatestStreamArn"]} if "LatestStreamArn" in table else {}
                )
                self.resolve.register(logical_id, name, Arn=table["TableArn"], **extra)
        self._create_queues()
        self._create_topics()
        self._create_buses()
        self._create_state_machines()
        self.firehose = Firehose(self.template, self.resolve)  # and Kinesis streams, buckets
        self.firehose.create(self.monkeypatch)
        if self.assets is not None:
            for logical_id, resource in python.items():
                function = Function.from_template(logical_id, resource, self.assets, self.resolve)
                function.deliver = self.deliver
                function.invocations = self.invocations
                dead_letter = resource["Properties"].get("DeadLetterConfig", {})
                function.dead_letter_target = self.resolve(dead_letter.get("TargetArn"))
                self.functions[logical_id] = function
            for config in self.of_type("AWS::Lambda::EventInvokeConfig").values():
                target = self.resolve.logical_id(config["FunctionName"])
                self.functions[target].async_config = self.resolve(config)
            self._map_event_sources()
            self.pipes = create_pipes(self.template, self.resolve, self.functions, self.deliver)
        self._subscribe()
        self._create_rules()
        self._patch_moto()

    def _create_queues(self) -> None:
        sqs = self.client("sqs")
        queues = self.of_type("AWS::SQS::Queue")
        while pending := [q for q in queues if q not in self.resolve.refs]:
            for logical_id in pending:
                properties = queues[logical_id]
                redrive = properties.get("RedrivePolicy")
                if redrive and self.resolve.logical_id(redrive["deadLetterTargetArn"]) in pending:
                    continue  # its dead-letter queue first
                attributes = {
                    name: str(properties[name]).lower()
                    if isinstance(properties[name], bool)
                    else str(properties[name])
                    for name in (
                        "FifoQueue",
                        "ContentBasedDeduplication",
                        "VisibilityTimeout",
                        "MessageRetentionPeriod",
                        "DelaySeconds",
                    )
                    if name in properties
                }
                if redrive:
                    attributes["RedrivePolicy"] = json.dumps(self.resolve(redrive))
                fifo = properties.get("FifoQueue")
                name = f"{logical_id}.fifo" if fifo else logical_id
                url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
                arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
                self.resolve.register(logical_id, url, Arn=arn, QueueName=name, QueueUrl=url)

    def _create_topics(self) -> None:
        sns = self.client("sns")
        for logical_id, properties in self.of_type("AWS::SNS::Topic").items():
            attributes = {}
            name = logical_id
            if properties.get("FifoTopic"):
                name += ".fifo"
                attributes["FifoTopic"] = "true"
                attributes["ContentBasedDeduplication"] = str(
                    properties.get("ContentBasedDeduplication", False)
                ).lower()
            arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
            self.resolve.register(logical_id, arn, TopicArn=arn, TopicName=name)

    def _create_buses(self) -> None:
        events = self.client("events")
        for logical_id, properties in self.of_type("AWS::Events::EventBus").items():
            arn = events.create_event_bus(Name=properties["Name"])["EventBusArn"]
            self.resolve.register(logical_id, properties["Name"], Arn=arn, Name=properties["Name"])
        for logical_id, properties in self.of_type("AWS::Events::Archive").items():
            events.create_archive(
                ArchiveName=logical_id,
                EventSourceArn=self.resolve(properties["SourceArn"]),
                EventPattern=json.dumps(properties.get("EventPattern", {})),
                RetentionDays=properties.get("RetentionDays", 0),
            )
            self.resolve.register(logical_id, logical_id)

    def _create_state_machines(self) -> None:
        for logical_id, properties in self.of_type("AWS::StepFunctions::StateMachine").items():
            arn = self.client("stepfunctions").create_state_machine(
                name=logical_id,
                definition=self.resolve(properties["DefinitionString"]),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/{logical_id}Role",
                type=properties.get("StateMachineType", "STANDARD"),
            )["stateMachineArn"]
            self.resolve.register(logical_id, arn, Name=logical_id)
            self.state_machine_arn = arn

    def _map_event_sources(self) -> None:
        for mapping in self.of_type("AWS::Lambda::EventSourceMapping").values():
            function = self.functions[self.resolve.logical_id(mapping["FunctionName"])]
            source = self.resolve.logical_id(mapping["EventSourceArn"])
            kind = self.template["Resources"][source]["Type"]
            if kind == "AWS::SQS::Queue":
                self.queue_mappings[source] = (
                    function.logical_id,
                    EventSourceMapping.of_queue(self.template, source),
                )
            else:
                self.streams[function.logical_id] = StreamPoller(
                    function,
                    self.resolve(mapping["EventSourceArn"]),
                    self.resolve(mapping),
                    self.deliver,
                )

    def _subscribe(self) -> None:
        sns = self.client("sns")
        for logical_id, properties in self.of_type("AWS::SNS::Subscription").items():
            attributes = {}
            for name in ("FilterPolicy", "RedrivePolicy"):
                if name in properties:
                    attributes[name] = json.dumps(self.resolve(properties[name]))
            if "FilterPolicy" in properties:
                attributes["FilterPolicyScope"] = properties.get(
                    "FilterPolicyScope", "MessageAttributes"
                )
            if properties.get("RawMessageDelivery"):  # moto reads any non-empty string as true
                attributes["RawMessageDelivery"] = "true"
            arn = sns.subscribe(
                TopicArn=self.resolve(properties["TopicArn"]),
                Protocol=properties["Protocol"],
                Endpoint=self.resolve(properties["Endpoint"]),
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            self.resolve.register(logical_id, arn)

    def _create_rules(self) -> None:
        events = self.client("events")
        for logical_id, properties in self.of_type("AWS::Events::Rule").items():
            bus = self.resolve(properties.get("EventBusName", "default"))
            rule: dict[str, Any] = {"Name": logical_id, "EventBusName": bus}
            if "EventPattern" in properties:
                rule["EventPattern"] = json.dumps(properties["EventPattern"])
            else:
                rule["ScheduleExpression"] = properties["ScheduleExpression"]
            arn = events.put_rule(**rule)["RuleArn"]
            self.resolve.register(logical_id, logical_id, Arn=arn)
            targets = [
                {key: self.resolve(value) for key, value in target.items() if key in TARGET_KEYS}
                for target in properties.get("Targets", [])
            ]
            if targets:
                events.put_targets(Rule=logical_id, EventBusName=bus, Targets=targets)

    # --- moto, completed ------------------------------------------------------------------

    def _patch_moto(self) -> None:
        emulation = self
        send_to_targets = Rule.send_to_targets
        publish = Subscription.publish

        def rule_send(rule: Rule, event: dict[str, Any], transform_input: bool = True) -> None:
            ours = [t for t in rule.targets if t["Arn"].split(":")[2] in DELIVERED]
            if not ours:
                return send_to_targets(rule, event, transform_input)
            if not rule.event_pattern.matches_event(event):
                return None
            others = [t for t in rule.targets if t not in ours]
            if others:
                targets, rule.targets = rule.targets, others
                try:
                    send_to_targets(rule, event, transform_input)
                finally:
                    rule.targets = targets
            for target in ours:
                emulation.deliver_event(rule.arn, target, event)
            return None

        def subscription_publish(
            subscription: Subscription, message: str, *args: Any, **kwargs: Any
        ) -> None:
            if subscription.protocol != "lambda":
                return publish(subscription, message, *args, **kwargs)
            return emulation._publish_to_lambda(subscription, message, *args, **kwargs)

        self.monkeypatch.setattr(Rule, "send_to_targets", rule_send)
        self.monkeypatch.setattr(Subscription, "publish", subscription_publish)
        self.monkeypatch.setattr(LambdaSimpleBackend, "invoke", self._lambda_task())
        self._keep_execution_threads()
        self.monkeypatch.setattr(
            retrier_decl, "time", SimpleNamespace(sleep=self.retry_waits.append)
        )

    def _keep_execution_threads(self) -> None:
        """Note the thread of each execution moto starts, so that :meth:`run` joins it
        instead of polling DescribeExecution (each poll a full moto request that takes the
        interpreter from the execution it waits for)."""
        threads = self._execution_threads
        start_execution = Execution.start

        def start_worker(worker: ExecutionWorker) -> None:  # moto's, keeping the thread
            worker.thread = threading.Thread(target=worker._execution_logic, daemon=True)
            worker.thread.start()

        def start(execution: Execution) -> None:
            start_execution(execution)
            if thread := getattr(execution.exec_worker, "thread", None):
                threads[execution.exec_arn] = thread

        self.monkeypatch.setattr(ExecutionWorker, "start", start_worker)
        self.monkeypatch.setattr(Execution, "start", start)

    @as_platform()
    def _publish_to_lambda(
        self,
        subscription: Subscription,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        matcher = subscription._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if message_structure == "json":
            message = subscription._parse_message_structure(message, "lambda")
        envelope = subscription.get_post_data(
            message, message_id, subject, message_attributes=message_attributes
        )
        function = self.functions.get(subscription.endpoint.split(":")[6])
        if function is not None:
            function.invoke_async(sns_event(envelope, subscription.arn))
            return
        redrive = subscription.attributes.get("RedrivePolicy")
        if redrive:  # SNS could not reach the endpoint: the subscription's DLQ keeps it
            self.deliver(json.loads(redrive)["deadLetterTargetArn"], envelope, {})

    @as_platform()
    def deliver_event(self, rule_arn: str, target: dict[str, Any], event: dict[str, Any]) -> None:
        """Deliver one matched event to one target with its retry policy and DLQ."""
        event = dict(event)
        event.setdefault("ingestion-time", time.time())
        if isinstance(event.get("time"), int | float):
            event["time"] = datetime.fromtimestamp(event["time"], UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        matched = dict(event)  # what the input transformer may read
        event.pop("ingestion-time", None)
        if "Input" in target:
            payload: Any = json.loads(target["Input"])
        elif "InputPath" in target:
            payload = event
            for part in target["InputPath"].removeprefix("$").strip(".").split("."):
                payload = payload[part] if part else payload
        elif "InputTransformer" in target:
            payload = EventTemplateParser.parse(
                input_template=target["InputTransformer"].get("InputTemplate"),
                input_paths_map=target["InputTransformer"].get("InputPathsMap", {}),
                event=matched,
            )
        else:
            payload = event
        retries = target.get("RetryPolicy", {}).get("MaximumRetryAttempts", DEFAULT_RETRIES)
        attempts = 0
        while True:
            attempts += 1
            failure = self._send(target, payload)
            if failure is None:
                return
            if failure.code in NOT_RETRIED or attempts > retries:
                break
        dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
        if dead_letter is None:
            return  # EventBridge drops the event
        attributes = {
            "RULE_ARN": rule_arn,
            "TARGET_ARN": target["Arn"],
            "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message,
            "RETRY_ATTEMPTS": str(attempts - 1),
        }
        if failure.code not in NOT_RETRIED:
            attributes["EXHAUSTED_RETRY_CONDITION"] = "MaximumRetryAttempts"
        self.deliver(dead_letter, event, attributes)

    def _send(self, target: dict[str, Any], payload: Any) -> Failure | None:
        arn = target["Arn"]
        if arn in self.failing_targets:
            return self.failing_targets[arn]
        service = arn.split(":")[2]
        if service == "lambda" and arn.split(":")[6] not in self.functions:
            return Failure("NO_RESOURCE", f"Function not found: {arn}")
        try:
            group = target.get("SqsParameters", {}).get("MessageGroupId")
            # The target input is JSON text (a transformer's string output keeps its quotes);
            # a Lambda target is invoked with it parsed.
            self.deliver(
                arn, payload if service == "lambda" else json.dumps(payload), {}, group_id=group
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            missing = "NonExistent" in code or "NotFound" in code
            return Failure("NO_RESOURCE" if missing else "SDK_CLIENT_ERROR", str(error))
        return None

    @as_platform()
    def deliver(
        self,
        arn: str,
        payload: Any,
        attributes: dict[str, str],
        *,
        group_id: str | None = None,
    ) -> None:
        """Send ``payload`` where AWS would send a record or event for ``arn``: an SQS
        message (``attributes`` as String message attributes), an SNS message, an
        asynchronous Lambda invocation, a Step Functions execution, a Firehose record."""
        body = payload if isinstance(payload, str) else json.dumps(payload)
        service = arn.split(":")[2]
        if service == "sqs":
            message: dict[str, Any] = {
                "QueueUrl": self.client("sqs").get_queue_url(QueueName=arn.split(":")[5])[
                    "QueueUrl"
                ],
                "MessageBody": body,
                "MessageAttributes": {
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in attributes.items()
                },
            }
            if group_id is not None:
                message["MessageGroupId"] = group_id
            self.client("sqs").send_message(**message)
        elif service == "sns":
            self.client("sns").publish(TopicArn=arn, Message=body)
        elif service == "lambda":
            self.functions[arn.split(":")[6]].invoke_async(payload)
        elif service == "states":
            self.client("stepfunctions").start_execution(stateMachineArn=arn, input=body)
        elif service == "firehose":  # one record per event (kinesis.py writes it to S3)
            self.client("firehose").put_record(
                DeliveryStreamName=arn.rpartition("/")[2], Record={"Data": body.encode()}
            )
        else:
            raise AssertionError(f"no delivery to {arn} is emulated")

    # --- event sources ------------------------------------------------------------------------

    @as_platform()
    def drain(self, queue: str) -> Drained:
        """Run the function mapped to ``queue`` until the queue is empty (sqs_poller.py)."""
        function_id, mapping = self.queue_mappings[self.logical_id(queue)]
        return drain(self.ref(queue), self.functions[function_id].invoke, mapping)

    def stream(self, function: str) -> StreamPoller:
        return self.streams[self.logical_id(function)]

    def pipe(self, name: str) -> Pipe:
        """An EventBridge pipe of the template (pipes.py); ``run()`` processes new records."""
        return self.pipes[self.logical_id(name, "AWS::Pipes::Pipe")]

    @as_platform()
    def fire(self, rule: str) -> None:
        """A schedule rule's event, delivered to its targets ("Creating a rule that runs on a
        schedule", eventbridge/latest/userguide/eb-create-rule-schedule.html)."""
        logical_id = self.logical_id(rule)
        rule_arn = self.resolve.get_att(logical_id, "Arn")
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": time.time(),
            "region": REGION,
            "resources": [rule_arn],
            "detail": {},
        }
        for target in self.template["Resources"][logical_id]["Properties"]["Targets"]:
            self.deliver_event(rule_arn, self.resolve(target), event)

    # --- Step Functions -----------------------------------------------------------------------

    def fail_next_invoke(self, code: str, message: str, status: int) -> None:
        """The next Lambda task fails on the AWS side (e.g. throttled) without running code."""
        self._faults.append(JsonRESTError(code, message, code=status))

    def _lambda_task(self) -> Callable[..., bytes]:
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
                result = emulation.functions[name].invoke(event)
            except Exception as error:  # what the Lambda runtime reports for an unhandled error
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(
                    {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    }
                ).encode()
            if emulation.after_invoke is not None:
                emulation.after_invoke(emulation.invocations[-1])
            return json.dumps(result).encode()

        return invoke

    def run(self, execution_input: dict[str, Any]) -> dict[str, Any]:
        """Start an execution and wait for its end: ``describe_execution``'s answer."""
        client = self.client("stepfunctions")
        arn = client.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=uuid.uuid4().hex,
            input=json.dumps(execution_input),
        )["executionArn"]
        thread = self._execution_threads.pop(arn)
        thread.join(EXECUTION_DEADLINE_SECONDS)
        assert not thread.is_alive(), "the execution did not finish"
        return client.describe_execution(executionArn=arn)

    def history(self, execution: dict[str, Any]) -> list[dict[str, Any]]:
        return self.client("stepfunctions").get_execution_history(
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


#: What a rule's target holds that the emulation reads.
TARGET_KEYS = {
    "Id",
    "Arn",
    "Input",
    "InputPath",
    "InputTransformer",
    "RetryPolicy",
    "DeadLetterConfig",
    "SqsParameters",
}
#: Target services EventBridge delivers to here (moto delivers the rest: logs, archives, buses).
DELIVERED = {"sqs", "lambda", "sns", "states", "firehose"}
