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
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.async_api.jobs import CONTEXT, WELCOME, WORKER_HANDLER
from tests.support.aws import create_table, create_table_from_template, load_handler
from tests.support.cdk import resources
from tests.support.emulation import Emulation
from tests.support.events import LambdaContext, rest_api_event, sqs_event, websocket_event
from tests.support.iam import PolicyNotEvaluable, acting_as, as_platform, by_logical_id

REGION = "us-east-1"
ACCOUNT = "123456789012"
ARN_PREFIX = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}"


def function_id(template: dict[str, Any], handler: str, prefix: str = "") -> str:
    """The logical id of the one function with ``handler`` (and id starting with ``prefix``)."""
    [logical_id] = [
        logical_id
        for logical_id, properties in resources(template, "AWS::Lambda::Function").items()
        if properties["Handler"] == handler and logical_id.startswith(prefix)
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


# --- Scope: the calling thread, innermost first --------------------------------------------------


def caller_arn() -> str:
    return str(boto3.client("sts").get_caller_identity()["Arn"])


def in_another_thread(call: Callable[[], Any]) -> Any:
    """``call()``'s answer (or the error it raised), run in a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).exception() or pool.submit(call).result()


def test_a_role_applies_to_its_own_thread_only(
    orders: ModuleType, sync_api: dict[str, Any]
) -> None:
    """What moto runs in threads of its own (a Step Functions execution) or the test polls
    meanwhile is neither signed as the role a handler acts as, nor checked against it."""
    function = function_id(sync_api, "app.handler")
    weakened = without_action(sync_api, function, "dynamodb:PutItem")
    with acting_as(weakened, function, by_logical_id(sync_api)):
        assert "assumed-role/" in caller_arn()
        assert "assumed-role/" not in in_another_thread(caller_arn)
        assert in_another_thread(lambda: call(orders, PLACE)[0]) == 201
        with pytest.raises(ClientError, match="AccessDeniedException"):
            call(orders, PLACE)


def test_the_platform_acts_unchecked_until_a_function_acts_again(
    orders: ModuleType, sync_api: dict[str, Any]
) -> None:
    """``as_platform``: a service delivering for the handler (EventBridge to a target, SNS to a
    subscriber) acts under its own authority, not the caller's role; the function it invokes
    acts as its own role again, and the caller's role applies again after."""
    function = function_id(sync_api, "app.handler")
    weakened = without_action(sync_api, function, "dynamodb:PutItem")
    with acting_as(weakened, function, by_logical_id(sync_api)):
        with as_platform():
            assert "assumed-role/" not in caller_arn()
            assert call(orders, PLACE)[0] == 201
            with (
                acting_as(weakened, function, by_logical_id(sync_api)) as denied,
                pytest.raises(ClientError, match="AccessDeniedException"),
            ):
                call(orders, PLACE)
            assert denied == [f"dynamodb:PutItem on {ARN_PREFIX}:table/{orders.table.name}"]
        with pytest.raises(ClientError, match="AccessDeniedException"):
            call(orders, PLACE)
    assert call(orders, PLACE)[0] == 201


def test_an_emulated_handler_runs_as_its_role(
    reference_app: Any, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every invocation through the emulation (Function.invoke) acts as the function's role:
    without ``dynamodb:PutItem`` the deployed orders handler cannot place an order."""
    template = reference_app.templates["SyncApi"]
    function = function_id(template, "app.handler")
    weakened = without_action(template, function, "dynamodb:PutItem")
    emulation = Emulation(weakened, monkeypatch, reference_app.outdir)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        emulation.functions[function].invoke(PLACE)
    [table] = emulation.of_type("AWS::DynamoDB::Table") | emulation.of_type(
        "AWS::DynamoDB::GlobalTable"
    )
    assert list(emulation.items(table)) == []


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


# --- AsyncApi: the notifier's WebSocket @connections calls -------------------------------------


def test_the_notifier_may_post_to_connections_of_its_websocket_api_only(
    aws: None, async_api: dict[str, Any]
) -> None:
    """``execute-api:ManageConnections`` on ``API/STAGE/POST/@connections/*`` ("Use
    @connections commands in your backend service", apigateway/latest/developerguide/
    apigateway-how-to-call-websocket-api-connections.html); refused: ``ForbiddenException``."""
    create_table_from_template(async_api)  # the policy names its stream
    notifier = function_id(async_api, "async_jobs.notifier.handler")
    resolve = by_logical_id(async_api)
    api = resolve({"Ref": next(iter(resources(async_api, "AWS::ApiGatewayV2::Api")))})

    def post(api_id: str, template: dict[str, Any]) -> None:
        endpoint = f"https://{api_id}.execute-api.{REGION}.amazonaws.com/prod"
        with acting_as(template, notifier, resolve):
            boto3.client("apigatewaymanagementapi", endpoint_url=endpoint).post_to_connection(
                ConnectionId="conn-1", Data=b"{}"
            )

    post(api, async_api)  # its own API
    with pytest.raises(ClientError) as other_api:
        post("otherapi123", async_api)
    with pytest.raises(ClientError) as without:
        post(api, without_action(async_api, notifier, "execute-api:ManageConnections"))
    for denied in (other_api.value, without.value):
        assert denied.response["Error"]["Code"] == "ForbiddenException"
        assert denied.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert f":{api}/prod/POST/@connections/conn-1" in str(without.value)


# --- AsyncApi: the dead-letter recorder's SQS calls ---------------------------------------------


@pytest.mark.parametrize("removed", [None, "sqs:SendMessage"])
def test_the_recorder_forwards_to_the_dead_letter_queue_only_with_send_message(
    emulate: Callable[[str], Emulation],
    async_api: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    removed: str | None,
) -> None:
    """SendMessage acts on the queue's ARN ("Actions, resources, and condition keys for Amazon
    SQS", service-authorization/latest/reference/list_amazonsqs.html)."""
    emulation = emulate("AsyncApi")
    recorder = function_id(async_api, "async_jobs.recorder.handler")
    for name, value in emulation.functions[recorder].environment.items():
        monkeypatch.setenv(name, value)
    sqs = boto3.client("sqs")
    [dead_letters] = [
        logical_id
        for logical_id in resources(async_api, "AWS::SQS::Queue")
        if logical_id.startswith("NotificationsDeadLetterQueue")
    ]
    dead_letter_url = emulation.ref(dead_letters)
    source = sqs.create_queue(QueueName="recorder-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=source, MessageBody=json.dumps(WELCOME))
    messages = sqs.receive_message(QueueUrl=source, MessageSystemAttributeNames=["All"])["Messages"]
    module = emulation.functions[recorder].module
    template = without_action(async_api, recorder, removed) if removed else async_api

    with acting_as(template, recorder, by_logical_id(async_api)) as denied:
        answer = module.handler(
            sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q"), CONTEXT
        )

    forwarded = sqs.receive_message(QueueUrl=dead_letter_url).get("Messages", [])
    if removed is None:
        assert answer["batchItemFailures"] == [] and denied == []
        assert [m["Body"] for m in forwarded] == [json.dumps(WELCOME)]
    else:
        assert len(answer["batchItemFailures"]) == 1 and forwarded == []
        assert denied == [f"sqs:SendMessage on arn:aws:sqs:{REGION}:{ACCOUNT}:{dead_letters}"]


# --- EventRouter: publishing to its bus, notifying on its topic ---------------------------------


@pytest.fixture
def event_router(aws: None, templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The EventRouter stack's bus and topic in moto, under their logical ids."""
    template = templates["EventRouter"]
    for logical_id in resources(template, "AWS::Events::EventBus"):
        boto3.client("events").create_event_bus(Name=logical_id)
    for logical_id in resources(template, "AWS::SNS::Topic"):
        boto3.client("sns").create_topic(Name=logical_id)
    return template


def test_the_sales_report_may_put_events_on_its_bus_only(event_router: dict[str, Any]) -> None:
    """PutEvents acts on the bus ("Actions, resources, and condition keys for Amazon
    EventBridge", service-authorization/latest/reference/list_amazoneventbridge.html)."""
    [bus] = resources(event_router, "AWS::Events::EventBus")
    report = function_id(event_router, "app.handler", "SalesReport")
    entry = {"Source": "commerce.reports", "DetailType": "Sales Report Requested", "Detail": "{}"}
    with acting_as(event_router, report, by_logical_id(event_router)) as denied:
        events = boto3.client("events")
        assert events.put_events(Entries=[{**entry, "EventBusName": bus}])["FailedEntryCount"] == 0
        with pytest.raises(ClientError) as default_bus:
            events.put_events(Entries=[entry])
    assert default_bus.value.response["Error"]["Code"] == "AccessDeniedException"
    assert denied == [f"events:PutEvents on arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"]


def test_the_order_confirmation_may_publish_to_its_topic_only(event_router: dict[str, Any]) -> None:
    """Publish acts on the topic ("Actions, resources, and condition keys for Amazon SNS",
    service-authorization/latest/reference/list_amazonsns.html); refused: ``AuthorizationError``
    (HTTP 403, "Publish", SNS API reference)."""
    resolve = by_logical_id(event_router)
    confirmation = function_id(event_router, "app.handler", "OrderConfirmation")
    topics = sorted(resources(event_router, "AWS::SNS::Topic"))
    topic = next(t for t in topics if t.startswith("CustomerNotifications"))
    other = next(t for t in topics if t.startswith("PaymentAlerts"))
    with acting_as(event_router, confirmation, resolve):
        sns = boto3.client("sns")
        sns.publish(TopicArn=resolve({"Ref": topic}), Message="your order o-1 is confirmed")
        with pytest.raises(ClientError) as elsewhere:
            sns.publish(TopicArn=resolve({"Ref": other}), Message="your order o-1 is confirmed")
    assert elsewhere.value.response["Error"]["Code"] == "AuthorizationError"
    assert elsewhere.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# --- PubSubService: a transaction needs each of its actions -------------------------------------


@pytest.mark.parametrize("removed", [None, "dynamodb:UpdateItem", "dynamodb:PutItem"])
def test_the_popular_terms_transaction_needs_put_and_update_item(
    aws: None,
    templates: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    removed: str | None,
) -> None:
    """TransactWriteItems is no IAM action of its own: each Put, Update ... needs PutItem,
    UpdateItem ... ("Using IAM with DynamoDB transactions", amazondynamodb/latest/
    developerguide/transaction-apis-iam.html)."""
    template = templates["PubSubService"]
    [table] = [t for t in resources(template, "AWS::DynamoDB::GlobalTable") if "WordCounts" in t]
    create_table(table, resources(template, "AWS::DynamoDB::GlobalTable")[table])
    monkeypatch.setenv("WORD_COUNTS_TABLE", table)
    monkeypatch.setenv("TERMS_SHARDS", "10")
    terms = load_handler("examples/handlers/popular_terms/app.py")
    consumer = function_id(template, "app.handler", "PublishedMessagespopularterms")
    role = without_action(template, consumer, removed) if removed else template

    with acting_as(role, consumer, by_logical_id(template)) as denied:
        if removed is None:
            assert terms.count_once("counted#m-1#0", [("serverless", 2)]) is True
        else:
            with pytest.raises(ClientError, match="AccessDeniedException"):
                terms.count_once("counted#m-1#0", [("serverless", 2)])

    assert denied == ([] if removed is None else [f"{removed} on {ARN_PREFIX}:table/{table}"])


# --- Roles with managed policies --------------------------------------------------------------


def template_with_managed(policy_arn: Any) -> dict[str, Any]:
    trust = {
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ]
    }
    return {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}},
            },
            "FnRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": trust,
                    "ManagedPolicyArns": [policy_arn],
                },
            },
        }
    }


def test_an_aws_managed_policy_is_the_one_moto_knows(aws: None) -> None:
    """AmazonSQSReadOnlyAccess allows ``sqs:GetQueueAttributes`` and no ``sqs:SendMessage``."""
    url = boto3.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    template = template_with_managed(
        {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSQSReadOnlyAccess"],
            ]
        }
    )
    with acting_as(template, "Fn", by_logical_id(template)) as denied:
        sqs = boto3.client("sqs")
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        with pytest.raises(ClientError, match="AccessDeniedException"):
            sqs.send_message(QueueUrl=url, MessageBody="x")
    assert denied == [f"sqs:SendMessage on arn:aws:sqs:{REGION}:{ACCOUNT}:q"]


def test_a_managed_policy_moto_does_not_know_fails_loudly(aws: None) -> None:
    template = template_with_managed("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
    with (
        pytest.raises(PolicyNotEvaluable, match="NoSuchPolicyAnywhere"),
        acting_as(template, "Fn", by_logical_id(template)),
    ):
        pass


# --- AsyncApi: the WebSocket connections function writes subscriptions -------------------------

WRITES = [
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
]


@pytest.mark.parametrize("read_only", [False, True])
def test_the_connections_function_subscribes_only_with_write_access(
    emulate: Callable[[str], Emulation],
    async_api: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    read_only: bool,
) -> None:
    """A subscription is written on ``$connect``: with the table granted read-only (the
    mutation the issue's snapshot alone caught), the call is refused."""
    emulation = emulate("AsyncApi")
    function = function_id(async_api, "async_jobs.connections.handler")
    for name, value in emulation.functions[function].environment.items():
        monkeypatch.setenv(name, value)
    connections = emulation.functions[function].module
    role = async_api
    for action in WRITES if read_only else []:
        role = without_action(role, function, action)
    event = websocket_event("$connect", "conn-1", query={"job_id": "job-1"})

    with acting_as(role, function, by_logical_id(async_api)) as denied:
        try:
            answer = connections.handler(event, CONTEXT)["statusCode"]
        except ClientError as error:  # an invocation error: API Gateway refuses the connection
            answer = error.response["Error"]["Code"]

    assert answer == ("AccessDeniedException" if read_only else 200)
    assert [d.split(" on ")[0] for d in denied] == (
        ["dynamodb:BatchWriteItem"] if read_only else []
    )
