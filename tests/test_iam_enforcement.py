"""Handlers run under their own execution role: a grant the role lacks fails as in AWS.

IAM allows a call only if an identity-based policy of the role allows the action on the
resource and none denies it ("Policy evaluation logic",
docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html). The
resources of each action are those of the service's "Actions, resources, and condition keys"
page: "Actions, resources, and condition keys for Amazon DynamoDB"
(service-authorization/latest/reference/list_amazondynamodb.html) — ``PutItem``, ``GetItem``,
``Query`` act on ``table/NAME``, a ``Query`` of an index on ``table/NAME/index/INDEX``. An
unauthorized DynamoDB call answers ``AccessDeniedException`` ("Common Errors",
amazondynamodb/latest/APIReference/CommonErrors.html).
"""

import copy
import json
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.async_api.jobs import CONTEXT, WELCOME, WORKER_HANDLER
from tests.support.aws import create_table_from_template, load_handler
from tests.support.cdk import resources
from tests.support.emulation import Emulation
from tests.support.events import LambdaContext, rest_api_event, sqs_event
from tests.support.iam import PolicyNotEvaluable, acting_as, by_logical_id

REGION = "us-east-1"
ACCOUNT = "123456789012"


def function_id(template: dict[str, Any], handler: str) -> str:
    [logical_id] = [
        logical_id
        for logical_id, properties in resources(template, "AWS::Lambda::Function").items()
        if properties["Handler"] == handler
    ]
    return logical_id


def role_policy(template: dict[str, Any], function: str) -> dict[str, Any]:
    """The statements of the function's role's default policy (to be edited in a copy)."""
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    [policy] = [
        properties
        for properties in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in properties["Roles"]
    ]
    return policy["PolicyDocument"]


def without_action(template: dict[str, Any], function: str, action: str) -> dict[str, Any]:
    """A copy of ``template`` whose function's role no longer allows ``action``."""
    edited = copy.deepcopy(template)
    statements = role_policy(edited, function)["Statement"]
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if action in actions:
            actions.remove(action)
            if actions:
                statement["Action"] = actions
            else:
                statements.remove(statement)
            return edited
    raise AssertionError(f"the role of {function} does not allow {action}")


# --- SyncApi: the orders handler and its table ------------------------------------------------


@pytest.fixture
def sync_api(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["SyncApi"]


@pytest.fixture
def orders(
    aws: None, sync_api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    monkeypatch.setenv("TABLE_NAME", create_table_from_template(sync_api))
    yield load_handler("examples/handlers/orders/app.py")


def call(handler: ModuleType, event: dict[str, Any]) -> tuple[int, Any]:
    response = handler.handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


ORDER = {"customer_id": "c-1", "items": [{"sku": "book-42", "quantity": 2}]}
PLACE = rest_api_event("POST", "/orders", body=ORDER)
LIST = rest_api_event("GET", "/orders", query={"customer_id": "c-1"})


def get(order_id: str) -> dict[str, Any]:
    return rest_api_event(
        "GET",
        f"/orders/{order_id}",
        resource="/orders/{order_id}",
        path_parameters={"order_id": order_id},
    )


def test_the_orders_handler_works_under_its_own_role(
    orders: ModuleType, sync_api: dict[str, Any]
) -> None:
    function = function_id(sync_api, "app.handler")
    with acting_as(sync_api, function, by_logical_id(sync_api)):
        status, created = call(orders, PLACE)
        assert status == 201
        assert call(orders, get(created["id"])) == (200, created)
        status, listed = call(orders, LIST)  # a Query of the table's index
        assert status == 200 and [order["id"] for order in listed["orders"]] == [created["id"]]


def test_without_put_item_placing_an_order_is_denied_as_aws_denies_it(
    orders: ModuleType, sync_api: dict[str, Any]
) -> None:
    """The must-show: one action removed from the role, and the handler's call is refused."""
    function = function_id(sync_api, "app.handler")
    weakened = without_action(sync_api, function, "dynamodb:PutItem")
    with (
        acting_as(weakened, function, by_logical_id(sync_api)),
        pytest.raises(ClientError) as denied,
    ):
        call(orders, PLACE)
    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "dynamodb:PutItem on resource: arn:aws:dynamodb:" in error["Message"]
    assert "assumed-role/" in error["Message"]
    assert orders.table.scan()["Items"] == []  # outside, the test's own calls are not limited


def test_scoped_to_another_table_reading_an_order_is_denied(
    orders: ModuleType, sync_api: dict[str, Any]
) -> None:
    function = function_id(sync_api, "app.handler")
    status, created = call(orders, PLACE)  # as the test, outside the role
    assert status == 201
    elsewhere = copy.deepcopy(sync_api)
    for statement in role_policy(elsewhere, function)["Statement"]:
        if "dynamodb:GetItem" in statement["Action"]:
            statement["Resource"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/SomeOtherTable"
    with (
        acting_as(elsewhere, function, by_logical_id(sync_api)),
        pytest.raises(ClientError) as denied,
    ):
        call(orders, get(created["id"]))
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    table = orders.table.name
    assert f"on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}" in str(denied.value)


def test_a_query_of_an_index_needs_the_index_in_the_grant(
    orders: ModuleType, sync_api: dict[str, Any]
) -> None:
    """Query on an index acts on ``table/NAME/index/INDEX``, not on the table's ARN."""
    function = function_id(sync_api, "app.handler")
    table_only = copy.deepcopy(sync_api)
    for statement in role_policy(table_only, function)["Statement"]:
        if "dynamodb:Query" in statement["Action"]:
            statement["Resource"] = statement["Resource"][:1]  # without ".../index/*"
    with acting_as(table_only, function, by_logical_id(sync_api)):
        assert call(orders, PLACE)[0] == 201
        with pytest.raises(ClientError) as denied:
            call(orders, LIST)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"table/{orders.table.name}/index/" in str(denied.value)


def test_outside_the_role_everything_is_as_before(
    orders: ModuleType, sync_api: dict[str, Any]
) -> None:
    function = function_id(sync_api, "app.handler")
    weakened = without_action(sync_api, function, "dynamodb:PutItem")
    before = os.environ["AWS_ACCESS_KEY_ID"]
    with acting_as(weakened, function, by_logical_id(sync_api)):
        assert os.environ["AWS_ACCESS_KEY_ID"] not in (before, None)  # as Lambda sets it
    assert os.environ["AWS_ACCESS_KEY_ID"] == before
    assert call(orders, PLACE)[0] == 201  # not enforced any more
    with acting_as(sync_api, function, by_logical_id(sync_api)):  # the same role, policy restored
        assert call(orders, PLACE)[0] == 201


def test_a_policy_moto_cannot_evaluate_fails_loudly(
    orders: ModuleType, sync_api: dict[str, Any]
) -> None:
    function = function_id(sync_api, "app.handler")
    conditional = copy.deepcopy(sync_api)
    statement = role_policy(conditional, function)["Statement"][-1]
    statement["Condition"] = {"StringEquals": {"aws:PrincipalTag/team": "orders"}}
    with (
        pytest.raises(PolicyNotEvaluable, match="Condition"),
        acting_as(conditional, function, by_logical_id(sync_api)),
    ):
        pass


# --- AsyncApi: the worker runtime with the reference ``process`` ------------------------------


@pytest.fixture
def async_api(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["AsyncApi"]


@pytest.fixture
def worker(
    emulate: Callable[[str], Emulation], monkeypatch: pytest.MonkeyPatch
) -> tuple[ModuleType, Callable[..., Any]]:
    """The worker runtime and the reference stack's ``process(job)`` (email through SES)."""
    emulation = emulate("AsyncApi")
    function = emulation.functions[function_id(emulation.template, WORKER_HANDLER)]
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    return function.module, load_handler("examples/handlers/notifications/app.py").process


def run_worker(
    template: dict[str, Any], worker: tuple[ModuleType, Callable[..., Any]]
) -> tuple[set[str], dict[str, Any], list[str]]:
    """One job through the worker under its role: the failed message ids, the job, and the
    calls IAM refused."""
    runtime, process = worker
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    job_id = "job-1"
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(WELCOME),
        MessageAttributes={"job_id": {"DataType": "String", "StringValue": job_id}},
    )
    messages = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"]
    function = function_id(template, WORKER_HANDLER)
    with acting_as(template, function, by_logical_id(template)) as denied:
        answer = runtime.handle(
            sqs_event(messages, f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"), CONTEXT, process
        )
    failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
    item = runtime.jobs.get_item(Key={"pk": job_id, "sk": "job"}).get("Item", {})
    return failed, item, denied


def test_the_worker_runs_a_job_under_its_own_role(
    async_api: dict[str, Any], worker: tuple[ModuleType, Callable[..., Any]]
) -> None:
    failed, job, denied = run_worker(async_api, worker)
    assert failed == set() and denied == []
    assert job["status"] == "succeeded"


@pytest.mark.parametrize("action", ["dynamodb:UpdateItem", "ses:SendEmail"])
def test_without_one_of_its_actions_the_worker_fails_the_job(
    async_api: dict[str, Any], worker: tuple[ModuleType, Callable[..., Any]], action: str
) -> None:
    """The message is reported failed (Lambda returns it to the queue), the job did not
    succeed, and it was IAM that refused the call."""
    weakened = without_action(async_api, function_id(async_api, WORKER_HANDLER), action)
    failed, job, denied = run_worker(weakened, worker)
    assert len(failed) == 1
    assert job.get("status") != "succeeded"
    [refused] = denied
    assert refused.startswith(f"{action} on arn:aws:")
