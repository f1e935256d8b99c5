"""SyncApi: the properties that matter, the bring-your-own paths, the validation errors."""

import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from serverless_patterns import Route, SyncApi, TableAccess

from tests.support.cdk import new_app, only, resources, synth_variants

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")


@pytest.fixture(scope="module")
def orders(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["SyncApi"]


# --- the reference stack: secure defaults -------------------------------------------------


def test_function_runs_current_python_on_arm_with_tracing_json_logs_and_powertools(
    orders: dict[str, Any],
) -> None:
    _, function = only(orders, "AWS::Lambda::Function")
    assert function["Runtime"] == "python3.14"
    assert function["Architectures"] == ["arm64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["Timeout"] == 10 and function["MemorySize"] == 256
    table_id, _ = only(orders, "AWS::DynamoDB::GlobalTable")
    assert function["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": table_id}
    # The stack's Powertools layer and the handlers' shared layers (CDK lists them by path).
    layers = {
        layer["Metadata"]["aws:cdk:path"]: layer
        for layer in (orders["Resources"][each["Ref"]] for each in function["Layers"])
    }
    assert sorted(layers) == [
        "SyncApi/OrdersLayer/Resource",
        "SyncApi/PowertoolsLayer/Resource",
        "SyncApi/RestJsonLayer/Resource",
    ]
    assert {layer["Type"] for layer in layers.values()} == {"AWS::Lambda::LayerVersion"}
    layer = layers["SyncApi/PowertoolsLayer/Resource"]
    assert layer["Properties"]["Description"].startswith("Powertools for AWS Lambda (Python) ")
    assert "python3.14" in layer["Properties"]["CompatibleRuntimes"]
    assert set(layer["Properties"]["CompatibleArchitectures"]) == {"arm64", "x86_64"}
    assert list(orders["Parameters"]) == ["BootstrapVersion"], "no public SSM parameter"


def test_log_groups_expire_and_are_retained(orders: dict[str, Any]) -> None:
    groups = {
        logical_id: resource
        for logical_id, resource in orders["Resources"].items()
        if resource["Type"] == "AWS::Logs::LogGroup"
    }
    assert len(groups) == 2  # the function's logs and the API's access logs
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == 30
        assert group["DeletionPolicy"] == "Retain"


def test_table_is_on_demand_recoverable_encrypted_and_retained(orders: dict[str, Any]) -> None:
    table_id, table = only(orders, "AWS::DynamoDB::GlobalTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    [replica] = table["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert orders["Resources"][table_id]["DeletionPolicy"] == "Retain"


def test_function_role_reaches_only_its_table_and_its_logs(orders: dict[str, Any]) -> None:
    role_id, role = only(
        {"Resources": {k: v for k, v in orders["Resources"].items() if "FunctionRole" in k}},
        "AWS::IAM::Role",
    )
    assert "ManagedPolicyArns" not in role
    table_id, _ = only(orders, "AWS::DynamoDB::GlobalTable")
    logs_id = next(k for k in orders["Resources"] if k.startswith("OrdersFunctionLogs"))
    [policy] = [
        p
        for p in resources(orders, "AWS::IAM::Policy").values()
        if p["Roles"] == [{"Ref": role_id}]
    ]
    by_service: dict[str, list[Any]] = {}
    for statement in policy["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        for action in actions:
            by_service.setdefault(action.split(":")[0], []).append(statement["Resource"])
    assert set(by_service) == {"dynamodb", "logs", "xray"}
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}
    for resource in by_service["dynamodb"]:
        assert table_arn in resource
        assert all(table_id in str(each) for each in resource)
    assert all(r == {"Fn::GetAtt": [logs_id, "Arn"]} for r in by_service["logs"])


def test_every_method_requires_iam_and_is_validated(orders: dict[str, Any]) -> None:
    methods = resources(orders, "AWS::ApiGateway::Method")
    assert {m["HttpMethod"] for m in methods.values()} == {"GET", "POST"}
    assert len(methods) == 3
    validator_id, validator = only(orders, "AWS::ApiGateway::RequestValidator")
    assert validator["ValidateRequestBody"] and validator["ValidateRequestParameters"]
    for method in methods.values():
        assert method["AuthorizationType"] == "AWS_IAM"
        assert method["RequestValidatorId"] == {"Ref": validator_id}
    [post] = [m for m in methods.values() if m["HttpMethod"] == "POST"]
    model_id, model = only(orders, "AWS::ApiGateway::Model")
    assert post["RequestModels"] == {"application/json": {"Ref": model_id}}
    assert model["Schema"]["required"] == ["customer_id", "items"]


def test_the_api_is_named_after_its_construct_path(templates: dict[str, Any]) -> None:
    """Every REST API used to be called "Api" in the console; now its path tells them apart."""
    names = {
        stack_id: sorted(api["Name"] for api in resources(t, "AWS::ApiGateway::RestApi").values())
        for stack_id, t in templates.items()
    }
    assert names["SyncApi"] == ["SyncApi-Orders-Api"]
    assert names["OrdersBothWays"] == [
        "OrdersBothWays-AsyncOrders-Api",
        "OrdersBothWays-SyncOrders-Api",
    ]


def test_stage_logs_traces_and_throttles(orders: dict[str, Any]) -> None:
    _, stage = only(orders, "AWS::ApiGateway::Stage")
    assert stage["TracingEnabled"] is True
    assert "DestinationArn" in stage["AccessLogSetting"]
    [settings] = stage["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 100
    assert settings["ThrottlingBurstLimit"] == 200
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    _, api = only(orders, "AWS::ApiGateway::RestApi")
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_api_may_invoke_the_function_only_on_its_routes(orders: dict[str, Any]) -> None:
    permissions = resources(orders, "AWS::Lambda::Permission")
    assert len(permissions) == 3  # one per route, no console test-invoke grants
    for permission in permissions.values():
        assert permission["Principal"] == "apigateway.amazonaws.com"
        source = str(permission["SourceArn"])
        assert re.search(r"/(GET|POST)/orders", source), source


def test_alarms_on_function_errors_throttles_and_api_5xx(orders: dict[str, Any]) -> None:
    alarms = resources(orders, "AWS::CloudWatch::Alarm").values()
    assert sorted(a["MetricName"] for a in alarms) == ["5XXError", "Errors", "Throttles"]
    for alarm in alarms:
        assert alarm["Threshold"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"


# --- bring your own, overrides, authorization modes ---------------------------------------


def build_existing_table(stack: Stack) -> None:
    table = dynamodb.Table(
        stack,
        "Mine",
        partition_key=dynamodb.Attribute(name="k", type=dynamodb.AttributeType.STRING),
    )
    api = SyncApi(stack, "Api", code=CODE, existing_table=table, table_access=TableAccess.READ)
    assert api.table is table


def build_existing_function(stack: Stack) -> None:
    function = lambda_.Function(
        stack, "Mine", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=CODE
    )
    api = SyncApi(stack, "Api", existing_function=function)
    assert api.function is function


def build_overrides(stack: Stack) -> None:
    topic = sns.Topic(stack, "Alerts", enforce_ssl=True)
    SyncApi(
        stack,
        "Api",
        code=CODE,
        handler="index.handler",
        function_options=lambda_.FunctionOptions(
            memory_size=1024, timeout=Duration.seconds(20), environment={"MODE": "x"}
        ),
        table_props=dynamodb.TablePropsV2(
            partition_key=dynamodb.Attribute(name="tenant", type=dynamodb.AttributeType.STRING)
        ),
        rest_api_props=apigw.RestApiProps(
            deploy_options=apigw.StageOptions(throttling_rate_limit=10)
        ),
        alarm_topic=topic,
    )


def build_cognito(stack: Stack) -> None:
    pool = cognito.UserPool(stack, "Users")
    authorizer = apigw.CognitoUserPoolsAuthorizer(stack, "Authorizer", cognito_user_pools=[pool])
    SyncApi(stack, "Api", code=CODE, authorizer=authorizer)


def build_open(stack: Stack) -> None:
    SyncApi(stack, "Api", code=CODE, authorization_type=apigw.AuthorizationType.NONE)


@pytest.fixture(scope="module")
def variants() -> dict[str, Template]:
    return synth_variants(
        {
            "ExistingTable": build_existing_table,
            "ExistingFunction": build_existing_function,
            "Overrides": build_overrides,
            "Cognito": build_cognito,
            "Open": build_open,
        }
    )


def test_existing_table_is_used_read_only(variants: dict[str, Template]) -> None:
    template = variants["ExistingTable"]
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 0)
    actions = str(template.find_resources("AWS::IAM::Policy"))
    assert "dynamodb:GetItem" in actions and "dynamodb:Query" in actions
    assert "dynamodb:PutItem" not in actions and "dynamodb:DeleteItem" not in actions


def test_existing_function_gets_table_name_and_access(variants: dict[str, Template]) -> None:
    template = variants["ExistingFunction"]
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": {"TABLE_NAME": {"Ref": Match.string_like_regexp("ApiTable")}}
            }
        },
    )
    assert "dynamodb:PutItem" in str(template.find_resources("AWS::IAM::Policy"))


def test_default_routes_proxy_every_path_to_the_function(variants: dict[str, Template]) -> None:
    template = variants["ExistingFunction"]
    template.resource_count_is("AWS::ApiGateway::Method", 2)
    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "{proxy+}"})
    template.all_resources_properties("AWS::ApiGateway::Method", {"HttpMethod": "ANY"})


def test_overrides_replace_only_what_they_name(variants: dict[str, Template]) -> None:
    template = variants["Overrides"]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "MemorySize": 1024,
            "Timeout": 20,
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "Environment": {
                "Variables": Match.object_like({"MODE": "x", "TABLE_NAME": Match.any_value()})
            },
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "tenant", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "MethodSettings": [
                Match.object_like({"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 200})
            ],
        },
    )


def test_alarm_topic_receives_every_alarm_and_recovery(variants: dict[str, Template]) -> None:
    template = variants["Overrides"]
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 3
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}]


def test_cognito_authorizer_protects_every_method(variants: dict[str, Template]) -> None:
    template = variants["Cognito"]
    template.all_resources_properties(
        "AWS::ApiGateway::Method", {"AuthorizationType": "COGNITO_USER_POOLS"}
    )


def test_an_open_api_must_be_asked_for_and_is_flagged(variants: dict[str, Template]) -> None:
    variants["Open"].all_resources_properties(
        "AWS::ApiGateway::Method", {"AuthorizationType": "NONE"}
    )
    stack = Stack(new_app(), "OpenAlone")
    build_open(stack)
    Annotations.from_stack(stack).has_warning(
        "/OpenAlone/Api", Match.string_like_regexp("authorization_type=NONE: anyone")
    )


def test_iam_is_the_default_authorization(variants: dict[str, Template]) -> None:
    variants["Overrides"].all_resources_properties(
        "AWS::ApiGateway::Method", {"AuthorizationType": "AWS_IAM"}
    )


# --- validation -----------------------------------------------------------------------------


@pytest.fixture
def stack() -> Stack:
    return Stack(new_app(), "Validation")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "code=None: give exactly one of code= or existing_function="),
        ({"code": CODE, "table_access": "rw"}, "table_access='rw': use TableAccess.READ"),
        ({"code": CODE, "routes": []}, "routes=[]: give at least one Route"),
        ({"code": CODE, "routes": [Route("FETCH", "/x")]}, "routes='FETCH /x': method must be"),
        (
            {"code": CODE, "routes": [Route("GET", "orders")]},
            "routes='GET orders': path must start",
        ),
        (
            {"code": CODE, "routes": [Route("GET", "/a"), Route("GET", "/a")]},
            "routes='GET /a': names must be unique",
        ),
        (
            {"code": CODE, "authorization_type": apigw.AuthorizationType.COGNITO},
            "give the matching authorizer= as well",
        ),
        (
            {
                "code": CODE,
                "table_props": dynamodb.TablePropsV2(
                    partition_key=dynamodb.Attribute(name="k", type=dynamodb.AttributeType.STRING)
                ),
                "existing_table": dynamodb.TableV2.from_table_name(Stack(), "T", "t"),
            },
            "existing_table and table_props",
        ),
    ],
)
def test_invalid_options_raise_naming_the_option_and_fix(
    stack: Stack, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        SyncApi(stack, "Api", **options)


def test_every_problem_is_reported_at_once(stack: Stack) -> None:
    with pytest.raises(ValueError) as error:
        SyncApi(stack, "Api", routes=[Route("FETCH", "x")], table_access="rw")  # type: ignore[arg-type]
    lines = str(error.value).splitlines()
    assert lines[0] == "Invalid SyncApi options:"
    assert len(lines) == 5  # code, table_access, method, path
