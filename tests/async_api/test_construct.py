"""AsyncApi: the properties that matter, the bring-your-own paths, the validation errors."""

import json
import re
from typing import Any

import boto3
import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as ws_integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from serverless_patterns import AsyncApi

from tests.async_api.jobs import WORKER_HANDLER, function_by_handler
from tests.support.cdk import new_app, only, resources, synth_variants
from tests.support.vtl import send_to_sqs

PK = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
CODE = lambda_.Code.from_inline("def process(job):\n    return {}\n")


def statements(template: dict[str, Any], role_hint: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role whose id contains ``role_hint``."""
    [role_id] = [k for k in resources(template, "AWS::IAM::Role") if role_hint in k]
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Roles"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


@pytest.fixture(scope="module")
def stack(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["AsyncApi"]


def logical_id(template: dict[str, Any], resource_type: str, hint: str) -> str:
    [found] = [k for k in resources(template, resource_type) if hint in k]
    return found


# --- the reference stack: the front path -------------------------------------------------


def test_post_sends_the_validated_body_straight_to_the_queue(stack: dict[str, Any]) -> None:
    [post] = [
        m for m in resources(stack, "AWS::ApiGateway::Method").values() if m["HttpMethod"] == "POST"
    ]
    queue_id = logical_id(stack, "AWS::SQS::Queue", "NotificationsQueue")
    integration = post["Integration"]
    assert integration["Type"] == "AWS"  # a service integration: no function in the front path
    assert ":sqs:path/" in json.dumps(integration["Uri"])
    assert {"Fn::GetAtt": [queue_id, "QueueName"]} in integration["Uri"]["Fn::Join"][1]
    assert integration["PassthroughBehavior"] == "NEVER"
    # What the mapping templates send to SQS and answer: test_send_message_integration.py.
    assert [r["StatusCode"] for r in post["MethodResponses"]] == ["202", "400", "413", "500"]
    assert post["AuthorizationType"] == "AWS_IAM"


def test_post_validates_the_body_against_the_job_schema(stack: dict[str, Any]) -> None:
    [post] = [
        m for m in resources(stack, "AWS::ApiGateway::Method").values() if m["HttpMethod"] == "POST"
    ]
    validator_id, validator = only(stack, "AWS::ApiGateway::RequestValidator")
    assert validator["ValidateRequestBody"] is True
    assert post["RequestValidatorId"] == {"Ref": validator_id}
    model_id, model = only(stack, "AWS::ApiGateway::Model")
    assert post["RequestModels"] == {"application/json": {"Ref": model_id}}
    assert model["Schema"]["required"] == ["to", "template"]
    assert model["Schema"]["properties"]["template"]["enum"] == ["welcome", "receipt"]
    _, response = only(stack, "AWS::ApiGateway::GatewayResponse")
    assert response["ResponseType"] == "BAD_REQUEST_BODY"
    assert (
        "$context.error.validationErrorString" in response["ResponseTemplates"]["application/json"]
    )


def test_api_gateway_may_only_send_messages_to_the_job_queue(stack: dict[str, Any]) -> None:
    queue_id = logical_id(stack, "AWS::SQS::Queue", "NotificationsQueue")
    [statement] = statements(stack, "EnqueueRole")
    assert sorted(actions_of(statement)) == [
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:SendMessage",
    ]
    assert statement["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    _, role = next(
        (k, r) for k, r in resources(stack, "AWS::IAM::Role").items() if "EnqueueRole" in k
    )
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }


def test_get_status_goes_to_the_library_status_function(stack: dict[str, Any]) -> None:
    [get] = [
        m for m in resources(stack, "AWS::ApiGateway::Method").values() if m["HttpMethod"] == "GET"
    ]
    status_id = logical_id(stack, "AWS::Lambda::Function", "StatusFunction")
    assert get["Integration"]["Type"] == "AWS_PROXY"
    assert {"Fn::GetAtt": [status_id, "Arn"]} in get["Integration"]["Uri"]["Fn::Join"][1]
    assert get["RequestParameters"] == {"method.request.path.job_id": True}
    paths = {r["PathPart"] for r in resources(stack, "AWS::ApiGateway::Resource").values()}
    assert paths == {"notifications", "{job_id}"}
    dynamodb_actions = {
        action
        for statement in statements(stack, "StatusFunctionRole")
        for action in actions_of(statement)
        if action.startswith("dynamodb:")
    }
    assert "dynamodb:GetItem" in dynamodb_actions
    assert not dynamodb_actions & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}


# --- the queue and the worker ---------------------------------------------------------------


def test_queue_is_encrypted_and_redrives_through_the_recorder_into_the_dead_letter_queue(
    stack: dict[str, Any],
) -> None:
    """SQS moves a message after ``maxReceiveCount`` receives to the redrive target, whatever
    the consumer did ("Using dead-letter queues in Amazon SQS", SQSDeveloperGuide/
    sqs-dead-letter-queues.html): the recorder queue, whose own redrive ends in the DLQ."""
    queues = resources(stack, "AWS::SQS::Queue")
    queue = queues[logical_id(stack, "AWS::SQS::Queue", "NotificationsQueue")]
    recorder_queue_id = logical_id(stack, "AWS::SQS::Queue", "NotificationsRecorderQueue")
    dead_letter_id = logical_id(stack, "AWS::SQS::Queue", "NotificationsDeadLetterQueue")
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [recorder_queue_id, "Arn"]},
        "maxReceiveCount": 5,
    }
    recorder_queue = queues[recorder_queue_id]
    assert recorder_queue["SqsManagedSseEnabled"] is True
    assert recorder_queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [dead_letter_id, "Arn"]
    }
    worker = function_by_handler(stack, WORKER_HANDLER)
    assert worker["Timeout"] == 20 and queue["VisibilityTimeout"] == 120
    recorder = function_by_handler(stack, "async_jobs.recorder.handler")
    assert recorder_queue["VisibilityTimeout"] == 6 * recorder["Timeout"]
    assert queues[dead_letter_id]["MessageRetentionPeriod"] == 14 * 24 * 3600
    for policy in resources(stack, "AWS::SQS::QueuePolicy").values():
        [deny] = policy["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(resources(stack, "AWS::SQS::QueuePolicy")) == 4


def test_the_recorder_consumes_its_queue_and_may_only_send_to_the_dead_letter_queue(
    stack: dict[str, Any],
) -> None:
    recorder_queue_id = logical_id(stack, "AWS::SQS::Queue", "NotificationsRecorderQueue")
    dead_letter_id = logical_id(stack, "AWS::SQS::Queue", "NotificationsDeadLetterQueue")
    recorder_id = logical_id(stack, "AWS::Lambda::Function", "NotificationsRecorderFunction")
    [mapping] = [
        m
        for m in resources(stack, "AWS::Lambda::EventSourceMapping").values()
        if m["EventSourceArn"] == {"Fn::GetAtt": [recorder_queue_id, "Arn"]}
    ]
    assert mapping["FunctionName"] == {"Ref": recorder_id}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    variables = resources(stack, "AWS::Lambda::Function")[recorder_id]["Environment"]["Variables"]
    assert variables["DEAD_LETTER_QUEUE_URL"] == {"Ref": dead_letter_id}
    assert variables["JOB_RETENTION_SECONDS"] == str(30 * 24 * 3600)
    sends = [
        s
        for s in statements(stack, "NotificationsRecorderFunctionRole")
        if "sqs:SendMessage" in actions_of(s)
    ]
    assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": [dead_letter_id, "Arn"]}]


def test_worker_consumes_in_batches_with_capped_concurrency_and_partial_failures(
    stack: dict[str, Any],
) -> None:
    queue_id = logical_id(stack, "AWS::SQS::Queue", "NotificationsQueue")
    [mapping] = [
        m
        for m in resources(stack, "AWS::Lambda::EventSourceMapping").values()
        if m["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    worker_id = logical_id(stack, "AWS::Lambda::Function", "NotificationsFunction")
    assert mapping["FunctionName"] == {"Ref": worker_id}
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 5}


def test_worker_runs_your_process_through_the_runtime_layer(stack: dict[str, Any]) -> None:
    worker = function_by_handler(stack, WORKER_HANDLER)
    variables = worker["Environment"]["Variables"]
    assert variables["PROCESSOR"] == "app.process"
    assert variables["MAX_RECEIVE_COUNT"] == "5"
    assert variables["QUEUE_FIFO"] == "false"
    assert variables["SENDER"] == "notifications@example.com"
    table_id, _ = only(stack, "AWS::DynamoDB::GlobalTable")
    assert variables["TABLE_NAME"] == {"Ref": table_id}
    (layer_id,) = [
        logical_id
        for logical_id, layer in resources(stack, "AWS::Lambda::LayerVersion").items()
        if "AsyncApi worker runtime" in layer["Description"]
    ]
    layer = resources(stack, "AWS::Lambda::LayerVersion")[layer_id]
    assert {"Ref": layer_id} in worker["Layers"]
    assert len(worker["Layers"]) == 2  # Powertools and the runtime
    assert "python3.14" in layer["CompatibleRuntimes"]
    assert worker["Runtime"] == "python3.14" and worker["Architectures"] == ["arm64"]
    worker_actions = {
        a for s in statements(stack, "NotificationsFunctionRole") for a in actions_of(s)
    }
    assert {
        "dynamodb:UpdateItem",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "ses:SendEmail",
    } <= worker_actions
    assert not any(a.startswith(("execute-api", "sqs:SendMessage")) for a in worker_actions)


def test_library_functions_run_the_shipped_runtime(stack: dict[str, Any]) -> None:
    handlers = sorted(f["Handler"] for f in resources(stack, "AWS::Lambda::Function").values())
    assert handlers == [
        "async_jobs.connections.handler",
        "async_jobs.notifier.handler",
        "async_jobs.recorder.handler",
        "async_jobs.status.handler",
        WORKER_HANDLER,
    ]


def test_jobs_table_has_the_runtime_keys_a_stream_and_ttl(stack: dict[str, Any]) -> None:
    table_id, table = only(stack, "AWS::DynamoDB::GlobalTable")
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert table["Replicas"][0]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    assert stack["Resources"][table_id]["DeletionPolicy"] == "Retain"


# --- the WebSocket API and the notifier ------------------------------------------------------


def test_websocket_connect_requires_iam_and_messages_get_answers(stack: dict[str, Any]) -> None:
    routes = {r["RouteKey"]: r for r in resources(stack, "AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    assert routes["$connect"]["AuthorizationType"] == "AWS_IAM"
    _, route_response = only(stack, "AWS::ApiGatewayV2::RouteResponse")
    assert route_response["RouteResponseKey"] == "$default"
    _, api = only(stack, "AWS::ApiGatewayV2::Api")
    assert api["ProtocolType"] == "WEBSOCKET"
    connections_id = logical_id(stack, "AWS::Lambda::Function", "ConnectionsFunction")
    for integration in resources(stack, "AWS::ApiGatewayV2::Integration").values():
        assert connections_id in json.dumps(integration["IntegrationUri"])


def test_websocket_stage_is_throttled_and_access_logged_as_json(stack: dict[str, Any]) -> None:
    _, stage = only(stack, "AWS::ApiGatewayV2::Stage")
    assert stage["StageName"] == "prod" and stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {
        "DetailedMetricsEnabled": True,
        "ThrottlingBurstLimit": 200,
        "ThrottlingRateLimit": 100,
    }
    fields = json.loads(stage["AccessLogSettings"]["Format"])
    assert fields["connectionId"] == "$context.connectionId"
    assert fields["requestId"] == "$context.requestId"


def test_notifier_reads_finished_jobs_from_the_stream_with_retries_and_a_dlq(
    stack: dict[str, Any],
) -> None:
    [mapping] = [
        m
        for m in resources(stack, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m
    ]
    table_id, _ = only(stack, "AWS::DynamoDB::GlobalTable")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert mapping["FunctionName"] == {
        "Ref": logical_id(stack, "AWS::Lambda::Function", "NotifierFunction")
    }
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    dead_letter_id = logical_id(stack, "AWS::SQS::Queue", "NotifierDeadLetterQueue")
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [dead_letter_id, "Arn"]
    }
    [pattern] = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern == {
        "dynamodb": {"NewImage": {"sk": {"S": ["job"]}, "status": {"S": ["succeeded", "failed"]}}}
    }


def test_notifier_reads_the_stream_without_a_list_streams_grant_that_cannot_apply(
    stack: dict[str, Any],
) -> None:
    """``dynamodb:ListStreams`` has no resource type: it is authorized on ``*`` only
    ("Actions, resources, and condition keys for Amazon DynamoDB", service-authorization/
    latest/reference/list_amazondynamodb.html), so granted on a stream ARN it does nothing.
    Lambda reads a stream it is given by ARN with DescribeStream, GetShardIterator and
    GetRecords on that ARN."""
    table_id, _ = only(stack, "AWS::DynamoDB::GlobalTable")
    stream = {"Fn::GetAtt": [table_id, "StreamArn"]}
    on_stream = [s for s in statements(stack, "NotifierFunctionRole") if s["Resource"] == stream]
    assert [sorted(actions_of(s)) for s in on_stream] == [
        ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    ]
    for policy in resources(stack, "AWS::IAM::Policy").values():
        for statement in policy["PolicyDocument"]["Statement"]:
            assert "dynamodb:ListStreams" not in actions_of(statement)


def test_notifier_may_post_only_to_connections_of_its_stage(stack: dict[str, Any]) -> None:
    [statement] = [
        s
        for s in statements(stack, "NotifierFunctionRole")
        if "execute-api:ManageConnections" in actions_of(s)
    ]
    api_id, _ = only(stack, "AWS::ApiGatewayV2::Api")
    parts = statement["Resource"]["Fn::Join"][1]
    assert {"Ref": api_id} in parts
    assert parts[-1] == "/prod/POST/@connections/*"
    endpoint = json.dumps(
        resources(stack, "AWS::Lambda::Function")[
            logical_id(stack, "AWS::Lambda::Function", "NotifierFunction")
        ]["Environment"]["Variables"]["CONNECTIONS_ENDPOINT"]
    )
    assert "wss" not in endpoint and "https://" in endpoint and api_id in endpoint


def test_alarms_cover_both_dead_letter_queues_every_function_and_api_5xx(
    stack: dict[str, Any],
) -> None:
    alarms = list(resources(stack, "AWS::CloudWatch::Alarm").values())
    names = sorted(a["MetricName"] for a in alarms)
    assert names == sorted(
        ["ApproximateNumberOfMessagesVisible"] * 2 + ["Errors", "Throttles"] * 5 + ["5XXError"]
    )
    dead_letter_alarms = [
        a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    ]
    queue_names = {json.dumps(a["Dimensions"]) for a in dead_letter_alarms}
    assert any("NotificationsDeadLetterQueue" in n for n in queue_names)
    assert any("NotifierDeadLetterQueue" in n for n in queue_names)
    for alarm in alarms:
        assert alarm["Threshold"] == 1 and alarm["TreatMissingData"] == "notBreaching"


# --- variants: smallest use, bring your own, overrides, FIFO, poll only ----------------------


def build_minimal(stack: Stack) -> None:
    AsyncApi(stack, "Jobs", code=CODE)


def build_existing(stack: Stack) -> None:
    dead_letters = sqs.Queue(stack, "MyDeadLetters")
    queue = sqs.Queue(
        stack,
        "MyQueue",
        visibility_timeout=Duration.minutes(5),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5),
    )
    table = dynamodb.TableV2(
        stack,
        "MyTable",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        dynamo_stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    function = lambda_.Function(
        stack,
        "MyWorker",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="async_jobs.worker.handler",
        code=CODE,
        timeout=Duration.seconds(30),
    )
    api = AsyncApi(
        stack, "Jobs", existing_queue=queue, existing_table=table, existing_function=function
    )
    assert api.queue is queue and api.table is table and api.function is function
    assert api.dead_letter_queue is dead_letters


def build_imported_function(stack: Stack) -> None:
    function = lambda_.Function.from_function_attributes(
        stack,
        "Theirs",
        function_arn="arn:aws:lambda:us-east-1:111122223333:function:render",
        role=iam.Role.from_role_arn(stack, "TheirRole", "arn:aws:iam::111122223333:role/render"),
        same_environment=True,
    )
    api = AsyncApi(stack, "Jobs", existing_function=function)
    assert api.function is function and api.runtime_layer is None


def build_overrides(stack: Stack) -> None:
    topic = sns.Topic(stack, "Alerts", enforce_ssl=True)
    AsyncApi(
        stack,
        "Jobs",
        code=CODE,
        processor="jobs.run",
        path="/renders",
        function_options=lambda_.FunctionOptions(timeout=Duration.seconds(30), memory_size=1024),
        queue_props=sqs.QueueProps(retention_period=Duration.days(7)),
        max_receive_count=5,
        batch_size=100,
        max_batching_window=Duration.seconds(5),
        max_concurrency=20,
        table_props=dynamodb.TablePropsV2(partition_key=PK, deletion_protection=True),
        websocket_api_props=apigwv2.WebSocketApiProps(description="render progress"),
        alarm_topic=topic,
    )


def build_fifo(stack: Stack) -> None:
    AsyncApi(
        stack,
        "Jobs",
        code=CODE,
        queue_props=sqs.QueueProps(fifo=True),
        message_group_key="customer_id",
    )


def build_poll_only(stack: Stack) -> None:
    api = AsyncApi(stack, "Jobs", code=CODE, websocket=False)
    assert api.websocket_api is None and api.notifier_function is None


@pytest.fixture(scope="module")
def variants() -> dict[str, Template]:
    return synth_variants(
        {
            "Minimal": build_minimal,
            "Existing": build_existing,
            "ImportedFunction": build_imported_function,
            "Overrides": build_overrides,
            "Fifo": build_fifo,
            "PollOnly": build_poll_only,
        }
    )


def test_smallest_use_accepts_any_json_object_on_jobs(variants: dict[str, Template]) -> None:
    template = variants["Minimal"]
    template.has_resource_properties(
        "AWS::ApiGateway::Model", {"Schema": {"$schema": Match.any_value(), "type": "object"}}
    )
    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "jobs"})
    template.has_resource_properties(
        "AWS::SQS::Queue", {"VisibilityTimeout": 60, "RedrivePolicy": Match.any_value()}
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": WORKER_HANDLER,
            "Timeout": 10,
            "Environment": {"Variables": Match.object_like({"PROCESSOR": "app.process"})},
        },
    )
    template.resource_count_is("AWS::Lambda::Function", 5)


def test_existing_queue_table_and_function_are_used_and_wired(
    variants: dict[str, Template],
) -> None:
    template = variants["Existing"]
    template.resource_count_is("AWS::SQS::Queue", 3)  # yours two + the notifier's DLQ
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 1)
    template.resource_count_is("AWS::Lambda::Function", 4)  # yours + status, connections, notifier
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": WORKER_HANDLER,
            "Layers": [{"Ref": Match.string_like_regexp("JobsWorkerRuntime")}],
            "Environment": {
                "Variables": {
                    "TABLE_NAME": {"Ref": Match.string_like_regexp("MyTable")},
                    "MAX_RECEIVE_COUNT": "5",
                    "QUEUE_FIFO": "false",
                }
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [Match.string_like_regexp("MyQueue"), "Arn"]},
            "FunctionName": {"Ref": Match.string_like_regexp("MyWorker")},
        },
    )
    alarms = template.find_resources(
        "AWS::CloudWatch::Alarm",
        {"Properties": {"MetricName": "ApproximateNumberOfMessagesVisible"}},
    )
    assert any("MyDeadLetters" in json.dumps(a) for a in alarms.values())


def test_an_imported_worker_is_subscribed_without_a_layer(variants: dict[str, Template]) -> None:
    template = variants["ImportedFunction"]
    # Only the stack's Powertools layer (for the status function): no worker runtime layer.
    (layer,) = template.find_resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["Description"].startswith("Powertools for AWS Lambda")
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": "render",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_overrides_replace_only_what_they_name(variants: dict[str, Template]) -> None:
    template = variants["Overrides"]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": WORKER_HANDLER,
            "MemorySize": 1024,
            "Timeout": 30,
            "Architectures": ["arm64"],
            "Environment": {
                "Variables": Match.object_like({"PROCESSOR": "jobs.run", "MAX_RECEIVE_COUNT": "5"})
            },
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "VisibilityTimeout": 180,
            "MessageRetentionPeriod": 7 * 24 * 3600,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": Match.object_like({"maxReceiveCount": 5}),
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 5,
            "ScalingConfig": {"MaximumConcurrency": 20},
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": Match.array_with([{"AttributeName": "sk", "KeyType": "RANGE"}]),
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            "Replicas": [Match.object_like({"DeletionProtectionEnabled": True})],
        },
    )
    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "renders"})
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Api", {"Description": "render progress", "ProtocolType": "WEBSOCKET"}
    )
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 13
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}]


def test_fifo_queue_gets_a_fifo_dlq_message_groups_and_dedup_ids(
    variants: dict[str, Template],
) -> None:
    template = variants["Fifo"]
    queues = template.find_resources("AWS::SQS::Queue")
    job_queues = [q for k, q in queues.items() if "Notifier" not in k]
    assert len(job_queues) == 3  # the job queue, the recorder's queue and the dead letters
    assert all(q["Properties"]["FifoQueue"] is True for q in job_queues)
    template.has_resource_properties(
        "AWS::ApiGateway::Model",
        {"Schema": Match.object_like({"required": ["customer_id"]})},
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"QUEUE_FIFO": "true"})}},
    )


@pytest.mark.parametrize("customer_id", ["c-1", "o'brien & co=1+2%", 'say "hi" \\ 42'])
def test_fifo_jobs_are_grouped_by_the_key_and_deduplicated_by_the_request(
    aws: None, variants: dict[str, Template], customer_id: str
) -> None:
    """The FIFO SendMessage template rendered and sent to a FIFO queue (tests/support/vtl.py):
    the group is the body's ``customer_id`` and the deduplication id the request id, both
    URL-encoded so that SQS reads them back exactly ("SendMessage", SQS API reference)."""
    [post] = (
        variants["Fifo"]
        .find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "POST"}})
        .values()
    )
    sqs_client = boto3.client("sqs")
    url = sqs_client.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    body = json.dumps({"customer_id": customer_id, "note": "Grüße 🎉"}, ensure_ascii=False)

    answer = send_to_sqs(post["Properties"]["Integration"], url, body, "req-1")

    assert answer.status == 202 and answer.body == {"job_id": "req-1", "status": "pending"}
    [message] = sqs_client.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])[
        "Messages"
    ]
    assert message["Body"] == body
    assert message["Attributes"]["MessageGroupId"] == customer_id
    assert message["Attributes"]["MessageDeduplicationId"] == "req-1"


def test_poll_only_has_no_websocket_stream_or_notifier(variants: dict[str, Template]) -> None:
    template = variants["PollOnly"]
    for resource_type in ("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage"):
        template.resource_count_is(resource_type, 0)
    template.resource_count_is("AWS::Lambda::Function", 3)  # worker, recorder, status
    template.resource_count_is("AWS::SQS::Queue", 3)
    table = next(iter(template.find_resources("AWS::DynamoDB::GlobalTable").values()))
    assert "StreamSpecification" not in table["Properties"]
    assert len(template.find_resources("AWS::CloudWatch::Alarm")) == 8


def test_an_imported_queue_and_an_open_websocket_are_flagged() -> None:
    stack = Stack(new_app(), "Flagged")
    AsyncApi(
        stack,
        "Jobs",
        code=CODE,
        existing_queue=sqs.Queue.from_queue_arn(
            stack, "Theirs", "arn:aws:sqs:us-east-1:111122223333:jobs"
        ),
        websocket_authorizer=apigwv2.WebSocketNoneAuthorizer(),
    )
    annotations = Annotations.from_stack(stack)
    annotations.has_warning("/Flagged/Jobs", Match.string_like_regexp("existing_queue is imported"))
    annotations.has_warning(
        "/Flagged/Jobs", Match.string_like_regexp("WebSocketNoneAuthorizer: anyone")
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Route", {"RouteKey": "$connect", "AuthorizationType": "NONE"}
    )
    [post] = template.find_resources(
        "AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "POST"}}
    ).values()
    assert "111122223333/jobs" in json.dumps(post["Properties"]["Integration"]["Uri"])


# --- validation -------------------------------------------------------------------------------


@pytest.fixture
def scope() -> Stack:
    return Stack(new_app(), "Validation")


def standard_dead_letters() -> sqs.DeadLetterQueue:
    return sqs.DeadLetterQueue(queue=sqs.Queue(Stack(), "Standard"), max_receive_count=3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "code=None: give exactly one of code= or existing_function="),
        ({"code": CODE, "processor": "process"}, "processor='process': give module.function"),
        ({"code": CODE, "path": "jobs"}, "path='jobs': path must start"),
        ({"code": CODE, "batch_size": 11}, "batch_size=11: must be between 1 and 10 (up to 10000"),
        ({"code": CODE, "batch_size": 0}, "batch_size=0: must be between 1 and 10"),
        (
            {"code": CODE, "max_batching_window": Duration.minutes(6)},
            "max_batching_window='6 minutes': must be 300 seconds or less",
        ),
        ({"code": CODE, "max_concurrency": 1}, "max_concurrency=1: must be between 2 and 1000"),
        ({"code": CODE, "max_receive_count": 0}, "max_receive_count=0: give 5 to 1000"),
        (
            {"code": CODE, "queue_props": sqs.QueueProps(visibility_timeout=Duration.seconds(30))},
            "queue_props.visibility_timeout='30s': must be at least 6 x the consumer's timeout "
            "(60s)",
        ),
        (
            {
                "code": CODE,
                "function_options": lambda_.FunctionOptions(timeout=Duration.minutes(1)),
                "queue_props": sqs.QueueProps(visibility_timeout=Duration.minutes(5)),
            },
            "queue_props.visibility_timeout='300s': must be at least 6 x the consumer's "
            "timeout (360s)",
        ),
        (
            {
                "code": CODE,
                "queue_props": sqs.QueueProps(fifo=True, dead_letter_queue=standard_dead_letters()),
            },
            "dead_letter_queue='standard': a FIFO queue needs a dead-letter queue of the same type",
        ),
        (
            {
                "code": CODE,
                "queue_props": sqs.QueueProps(dead_letter_queue=standard_dead_letters()),
                "max_receive_count": 5,
            },
            "max_receive_count=5: the queue's dead-letter queue says 3",
        ),
        (
            {"code": CODE, "existing_queue": sqs.Queue(Stack(), "NoDeadLetters")},
            "has no dead-letter queue: give it dead_letter_queue=sqs.DeadLetterQueue",
        ),
        (
            {"code": CODE, "message_group_key": "customer_id"},
            "message_group_key='customer_id': needs a FIFO queue",
        ),
        (
            {"code": CODE, "queue_props": sqs.QueueProps(fifo=True), "message_group_key": "a.b"},
            "message_group_key='a.b': give a top-level field name",
        ),
        (
            {
                "code": CODE,
                "queue_props": sqs.QueueProps(fifo=True),
                "message_group_key": "customer_id",
                "job_schema": apigw.JsonSchema(type=apigw.JsonSchemaType.OBJECT, required=["x"]),
            },
            "job_schema.required=['x']: add the message_group_key 'customer_id'",
        ),
        (
            {"code": CODE, "job_schema": apigw.JsonSchema(type=apigw.JsonSchemaType.ARRAY)},
            "a job is a JSON object: use OBJECT",
        ),
        (
            {
                "code": CODE,
                "table_props": dynamodb.TablePropsV2(
                    partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
                ),
            },
            "table_props.partition_key='id (STRING)': the runtime needs a string key named 'pk'",
        ),
        (
            {"code": CODE, "existing_table": dynamodb.TableV2.from_table_name(Stack(), "T", "t")},
            "has no stream: the notifier (websocket=True) reads new images: enable one with "
            "NEW_IMAGE or NEW_AND_OLD_IMAGES (an imported table needs table_stream_arn= in "
            "from_table_attributes)",
        ),
        (
            {
                "code": CODE,
                "existing_table": dynamodb.TableV2.from_table_name(Stack(), "T", "t"),
                "table_props": dynamodb.TablePropsV2(partition_key=PK),
            },
            "existing_table and table_props='both given'",
        ),
        (
            {
                "code": CODE,
                "websocket": False,
                "websocket_authorizer": apigwv2.WebSocketNoneAuthorizer(),
            },
            "websocket_authorizer='given': only applies with websocket=True",
        ),
        (
            {
                "code": CODE,
                "websocket_api_props": apigwv2.WebSocketApiProps(
                    connect_route_options=apigwv2.WebSocketRouteOptions(
                        integration=ws_integrations.WebSocketMockIntegration("Mock")
                    )
                ),
            },
            "websocket_api_props.connect_route_options='given': the routes run the library's",
        ),
        (
            {
                "code": CODE,
                "function_options": lambda_.FunctionOptions(reserved_concurrent_executions=2),
            },
            "reserved_concurrent_executions=2: is below max_concurrency (5)",
        ),
        (
            {"code": CODE, "authorization_type": apigw.AuthorizationType.COGNITO},
            "give the matching authorizer= as well",
        ),
    ],
)
def test_invalid_options_raise_naming_the_option_and_fix(
    scope: Stack, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        AsyncApi(scope, "Jobs", **options)


def test_a_visibility_timeout_of_exactly_six_times_the_consumer_s_timeout_is_enough() -> None:
    """The rule's boundary: "at least six times" the function's timeout ("Using Lambda with
    Amazon SQS", lambda/latest/dg/with-sqs.html); the default worker timeout is 10 s."""
    AsyncApi(
        Stack(),
        "Jobs",
        code=CODE,
        queue_props=sqs.QueueProps(visibility_timeout=Duration.seconds(60)),
    )
    with pytest.raises(ValueError, match=re.escape("queue_props.visibility_timeout='59s'")):
        AsyncApi(
            Stack(),
            "Jobs",
            code=CODE,
            queue_props=sqs.QueueProps(visibility_timeout=Duration.seconds(59)),
        )


def test_a_table_whose_stream_lacks_new_images_is_refused(scope: Stack) -> None:
    """The notifier reads a finished job from its stream record's ``NewImage``, which only the
    NEW_IMAGE and NEW_AND_OLD_IMAGES view types carry (DynamoDB developer guide, "Change data
    capture for DynamoDB Streams", StreamViewType)."""
    keys_only = dynamodb.TableV2(
        scope, "Mine", partition_key=PK, dynamo_stream=dynamodb.StreamViewType.KEYS_ONLY
    )
    with pytest.raises(ValueError) as raised:
        AsyncApi(scope, "Jobs", code=CODE, existing_table=keys_only)
    assert str(raised.value).splitlines()[1:] == [
        "  - existing_table='a KEYS_ONLY stream': the notifier (websocket=True) reads new "
        "images: set the table's stream to NEW_IMAGE or NEW_AND_OLD_IMAGES"
    ]
    with pytest.raises(ValueError) as raised:
        AsyncApi(
            Stack(new_app(), "Props"),
            "Jobs",
            code=CODE,
            table_props=dynamodb.TablePropsV2(
                partition_key=PK, dynamo_stream=dynamodb.StreamViewType.OLD_IMAGE
            ),
        )
    assert str(raised.value).splitlines()[1:] == [
        "  - table_props.dynamo_stream='OLD_IMAGE': the notifier (websocket=True) reads new "
        "images: use StreamViewType.NEW_IMAGE or StreamViewType.NEW_AND_OLD_IMAGES, or omit it"
    ]


def test_an_imported_table_with_a_stream_is_used_with_a_warning_about_its_view_type() -> None:
    stack = Stack(new_app(), "Imported")
    imported = dynamodb.TableV2.from_table_attributes(
        stack,
        "Jobs",
        table_name="jobs",
        table_stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/jobs/stream/2026-12-01",
    )
    api = AsyncApi(stack, "Api", code=CODE, existing_table=imported)
    assert api.table is imported
    [warning] = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("existing_table is imported")
    )
    assert warning.entry.data == (
        "existing_table is imported: make sure its stream's view type is NEW_IMAGE or "
        "NEW_AND_OLD_IMAGES; the notifier (websocket=True) reads new images. "
        "[ack: serverless-patterns:imported-table-stream]"
    )


def test_every_problem_is_reported_at_once(scope: Stack) -> None:
    with pytest.raises(ValueError) as error:
        AsyncApi(scope, "Jobs", code=CODE, batch_size=0, max_concurrency=0, processor="x")
    lines = str(error.value).splitlines()
    assert lines[0] == "Invalid AsyncApi options:"
    assert len(lines) == 4  # processor, batch_size, max_concurrency


def test_your_dead_letter_queue_in_queue_props_gets_the_recorder_in_front() -> None:
    stack = Stack(new_app(), "OwnDeadLetters")
    mine = sqs.Queue(stack, "Mine", retention_period=Duration.days(14))
    api = AsyncApi(
        stack,
        "Jobs",
        code=CODE,
        job_retention=Duration.days(7),
        queue_props=sqs.QueueProps(
            dead_letter_queue=sqs.DeadLetterQueue(queue=mine, max_receive_count=7)
        ),
    )
    assert api.dead_letter_queue is mine and api.recorder_queue is not None
    template = Template.from_stack(stack).to_json()
    queues = resources(template, "AWS::SQS::Queue")
    [(recorder_id, recorder_queue)] = [(k, q) for k, q in queues.items() if "Recorder" in k]
    [mine_id] = [k for k in queues if k.startswith("Mine")]
    [job_queue] = [q for k, q in queues.items() if k.startswith("JobsQueue")]
    assert job_queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [recorder_id, "Arn"]},
        "maxReceiveCount": 7,
    }
    assert recorder_queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [mine_id, "Arn"]
    }
    recorder = function_by_handler(template, "async_jobs.recorder.handler")
    assert recorder["Environment"]["Variables"]["DEAD_LETTER_QUEUE_URL"] == {"Ref": mine_id}
    worker = function_by_handler(template, WORKER_HANDLER)
    assert worker["Environment"]["Variables"]["JOB_RETENTION_SECONDS"] == str(7 * 86400)


def test_a_job_retention_under_an_hour_is_refused(scope: Stack) -> None:
    with pytest.raises(ValueError, match=r"job_retention \(s\)"):
        AsyncApi(scope, "Jobs", code=CODE, job_retention=Duration.minutes(5))
