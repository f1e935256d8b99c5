"""What the integration-test apps share: the reference stack under test and the assertions.

Each ``integ/integ_*.py`` app deploys one reference stack (the class from ``examples/``, not a
copy) under the name ``Integ<stack id>``, with CDK's ``IntegTest``, and an assertions stack
that drives it as a user would; ``make integ`` (``tools/integ.py``) deploys both, reads the
assertions' results and destroys both.
"""

import json
from pathlib import Path
from typing import Any

from aws_cdk import App, Duration, RemovalPolicies, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.integ_tests_alpha import (
    ExpectedResult,
    IApiCall,
    IntegTest,
    LambdaInvokeFunction,
    Match,
)

from examples.app import REFERENCE_STACKS, cli_context, new_app

#: Outcomes behind a queue or a stream (a job's result, a consumer's log line).
EVENTUALLY: dict[str, Any] = {
    "interval": Duration.seconds(20),
    "total_timeout": Duration.minutes(5),
}
#: A poison message fails every receive (each after the queue's visibility timeout) until
#: maxReceiveCount moves it to the dead-letter queue.
DEAD_LETTERED: dict[str, Any] = {
    "interval": Duration.minutes(1),
    "total_timeout": Duration.minutes(30),
}
#: A dead-letter queue alarm looks at 5-minute periods of the queue's metric.
ALARMED: dict[str, Any] = {"interval": Duration.minutes(1), "total_timeout": Duration.minutes(15)}
#: Not deleted with the test stack, as in any deployment: the account-wide API Gateway logging
#: setting and its role, which other APIs in the account may rely on.
KEPT_RESOURCE_TYPES = ["AWS::ApiGateway::Account", "AWS::IAM::Role"]
SIGNED_HTTP = Path(__file__).parent / "signed_http"


def app(**props: Any) -> App:
    """An app with the reference app's feature flags (cdk.json), whatever the runner adds."""
    return new_app(post_cli_context=cli_context(), **props)


class ReferenceTest:
    """One reference stack under test (``stack``) and where its assertions go (``assertions``).

    The stack is the reference one except that its tables, queues, keys and log groups are
    deleted with it (they are retained by default), so that a test run leaves nothing behind
    but the kept resource types above.
    """

    def __init__(self, scope: App, stack_id: str) -> None:
        self.stack: Stack = REFERENCE_STACKS[stack_id](scope, f"Integ{stack_id}")
        RemovalPolicies.of(self.stack).destroy(exclude_resource_types=KEPT_RESOURCE_TYPES)
        self.assertion_stack = Stack(scope, f"Integ{stack_id}Assertions")
        self.test = IntegTest(
            scope,
            f"Integ{stack_id}Test",
            test_cases=[self.stack],
            assertion_stack=self.assertion_stack,
            stack_update_workflow=False,
        )
        self.assertions = self.test.assertions
        self._caller: lambda_.Function | None = None

    def part(self, construct_id: str) -> Any:
        """The construct ``construct_id`` of the stack (construct ids are the library's API)."""
        return self.stack.node.find_child(construct_id)

    def call_api(
        self, api: apigw.RestApi, method: str, path: str, body: dict[str, Any] | None = None
    ) -> LambdaInvokeFunction:
        """A SigV4-signed ``method path`` on the API's deployed stage; answers ``Payload``
        ``{"status", "body"}`` (see ``signed_http/app.py``)."""
        caller = self._signed_caller()
        caller.add_to_role_policy(
            iam.PolicyStatement(
                actions=["execute-api:Invoke"], resources=[api.arn_for_execute_api()]
            )
        )
        return self.invoke(caller, {"method": method, "url": api.url_for_path(path), "body": body})

    def invoke(self, function: lambda_.IFunction, payload: dict[str, Any]) -> LambdaInvokeFunction:
        call = self.assertions.invoke_function(
            function_name=function.function_name,
            # json.dumps, not Stack.to_json_string: the provider JSON-encodes the payload
            # string once more, and only a string with tokens inside it survives that intact.
            payload=json.dumps(payload),
        )
        assert isinstance(call, LambdaInvokeFunction)
        return call

    def eventually(self, call: IApiCall, expected: ExpectedResult, **timing: Any) -> IApiCall:
        """``call`` repeated until it answers ``expected`` (or the timing's total timeout)."""
        call.expect(expected).wait_for_assertions(**(timing or EVENTUALLY))
        return call

    def _signed_caller(self) -> lambda_.Function:
        if self._caller is None:
            self._caller = lambda_.Function(
                self.assertion_stack,
                "SignedHttpCaller",
                runtime=lambda_.Runtime.PYTHON_3_13,
                architecture=lambda_.Architecture.ARM_64,
                handler="app.handler",
                code=lambda_.Code.from_asset(str(SIGNED_HTTP), exclude=["__pycache__"]),
                timeout=Duration.seconds(30),
            )
        return self._caller

    def dead_lettered_and_alarmed(
        self, after: IApiCall, dead_letter_queue: sqs.IQueue, alarm: cloudwatch.IAlarm
    ) -> IApiCall:
        """After ``after``: one message in ``dead_letter_queue``, then ``alarm`` in ALARM."""
        queued = self.assertions.aws_api_call(
            "SQS",
            "getQueueAttributes",
            {
                "QueueUrl": dead_letter_queue.queue_url,
                "AttributeNames": ["ApproximateNumberOfMessages"],
            },
        )
        queued.expect(
            ExpectedResult.object_like({"Attributes": {"ApproximateNumberOfMessages": "1"}})
        ).wait_for_assertions(**DEAD_LETTERED)
        alarmed = self.assertions.aws_api_call(
            "CloudWatch", "describeAlarms", {"AlarmNames": [alarm.alarm_name]}
        )
        alarmed.expect(
            ExpectedResult.object_like({"MetricAlarms": [{"StateValue": "ALARM"}]})
        ).wait_for_assertions(**ALARMED)
        return after.next(queued).next(alarmed)

    def probe(self, topic: sns.ITopic) -> sqs.Queue:
        """A queue of the assertions stack that receives what ``topic`` publishes (raw)."""
        queue = sqs.Queue(self.assertion_stack, f"Probe{topic.node.id}", enforce_ssl=True)
        topic.add_subscription(subscriptions.SqsSubscription(queue, raw_message_delivery=True))
        return queue

    def received(self, queue: sqs.IQueue, body: Any) -> IApiCall:
        """Eventually, a message in ``queue`` whose body matches ``body``."""
        call = self.assertions.aws_api_call(
            "SQS", "receiveMessage", {"QueueUrl": queue.queue_url, "WaitTimeSeconds": 5}
        )
        return self.eventually(
            call, ExpectedResult.object_like({"Messages": Match.array_with([{"Body": body}])})
        )

    def logged(self, function: lambda_.Function, text: str) -> IApiCall:
        """Eventually, a line of ``function``'s log that contains ``text``."""
        path = "events.0.logStreamName"
        call = self.assertions.aws_api_call(
            "CloudWatchLogs",
            "filterLogEvents",
            {
                "logGroupName": function.log_group.log_group_name,
                "filterPattern": f'"{text}"',
                "limit": 1,
            },
            output_paths=[path],
        )
        call.assert_at_path(path, ExpectedResult.string_like_regexp(".")).wait_for_assertions(
            **EVENTUALLY
        )
        return call


def answered(status: int, body: dict[str, Any] | None = None) -> ExpectedResult:
    """A signed call's answer: the HTTP status and (part of) the JSON body.

    The assertion provider hands Lambda's ``Payload`` over as the JSON text it is.
    """
    answer = {"status": status, **({} if body is None else {"body": body})}
    return ExpectedResult.object_like({"Payload": Match.serialized_json(Match.object_like(answer))})
