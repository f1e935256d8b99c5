"""SyncApi: REST API Gateway -> Lambda -> DynamoDB, the request/response microservice."""

from collections.abc import Sequence

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core.apis import (
    PROXY_ROUTES,
    Route,
    add_routes,
    rest_api,
    validate_authorization,
    validate_routes,
)
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.functions import python_function
from serverless_patterns.core.tables import TableAccess, grant, table
from serverless_patterns.core.topics import validate_alarm_topic
from serverless_patterns.core.validation import Problems

DEFAULT_HANDLER = "app.handler"


class SyncApi(Construct):
    """A REST API whose requests a Lambda function answers from a DynamoDB table.

    The caller waits for the answer: use it when the work is short and the caller needs the
    result now. The function receives the table name in ``TABLE_NAME``.

    Smallest use::

        SyncApi(self, "Orders", code=lambda_.Code.from_asset("handlers/orders"))

    :param code: the function's code (give this or ``existing_function``).
    :param handler: the handler within ``code``. Default: ``"app.handler"``.
    :param function_options: overrides for the function's defaults (Python, arm64, 256 MB,
        10 s, X-Ray, JSON logs kept one month, Powertools layer). Default: none.
    :param existing_function: your own function instead of one built from ``code``. It is
        granted table access; ``TABLE_NAME`` is added to its environment when it is a
        ``lambda_.Function``.
    :param table_props: overrides for the table's defaults (partition key ``pk``, on-demand,
        point-in-time recovery, AWS-managed encryption, retained on delete). Default: none.
    :param existing_table: your own table instead of a new one.
    :param table_access: ``READ`` or ``READ_WRITE``. Default: ``READ_WRITE``.
    :param routes: the methods and paths the API exposes, each optionally validating its JSON
        body. Default: every method on every path goes to the function.
    :param rest_api_props: overrides for the API's defaults (regional, access logs, tracing,
        throttling 100 rps / burst 200; ``deploy_options`` override one by one).
    :param authorizer: a Cognito or Lambda authorizer for every method. Default: none, and
        then every method requires IAM (SigV4) authorization.
    :param authorization_type: ``IAM`` (default without authorizer), ``COGNITO``/``CUSTOM``
        (with ``authorizer``) or ``NONE`` (an open API: allowed, with a synth warning).
    :param alarm_topic: an SNS topic that receives every alarm and its recovery.
    :param service_name: names the service in logs, traces and metrics. Default: the id.

    Attributes: ``api`` (the REST API), ``function`` (yours with ``existing_function``),
    ``table`` (yours with ``existing_table``), ``alarms`` (function errors and throttles, API
    5xx).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code | None = None,
        handler: str | None = None,
        function_options: lambda_.FunctionOptions | None = None,
        existing_function: lambda_.IFunction | None = None,
        table_props: dynamodb.TablePropsV2 | None = None,
        existing_table: dynamodb.ITable | None = None,
        table_access: TableAccess = TableAccess.READ_WRITE,
        routes: Sequence[Route] = PROXY_ROUTES,
        rest_api_props: apigw.RestApiProps | None = None,
        authorizer: apigw.IAuthorizer | None = None,
        authorization_type: apigw.AuthorizationType | None = None,
        alarm_topic: sns.ITopic | None = None,
        service_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        problems = Problems("SyncApi")
        problems.expect("code", code, lambda_.Code, "lambda_.Code.from_asset('handlers/orders')")
        problems.expect(
            "function_options",
            function_options,
            lambda_.FunctionOptions,
            "lambda_.FunctionOptions(...)",
        )
        problems.expect(
            "table_props", table_props, dynamodb.TablePropsV2, "dynamodb.TablePropsV2(...)"
        )
        problems.only_with_code("handler", handler, existing_function)
        problems.list_of("routes", routes, Route)
        problems.raise_if_any()  # the checks below rely on these types
        if (code is None) == (existing_function is None):
            problems.add("code", code, "give exactly one of code= or existing_function=")
        problems.exclusive(existing_function=existing_function, function_options=function_options)
        problems.exclusive(existing_table=existing_table, table_props=table_props)
        if not isinstance(table_access, TableAccess):
            problems.add("table_access", table_access, "use TableAccess.READ or READ_WRITE")
        validate_routes(problems, routes)
        validate_authorization(problems, authorizer, authorization_type)
        validate_alarm_topic(problems, alarm_topic)
        problems.raise_if_any()

        self.table: dynamodb.ITable = existing_table or table(self, "Table", props=table_props)
        environment = {"TABLE_NAME": self.table.table_name}
        if existing_function is None:
            assert code is not None
            self.function: lambda_.IFunction = python_function(
                self,
                "Function",
                code=code,
                handler=handler or DEFAULT_HANDLER,
                service_name=service_name or construct_id,
                environment=environment,
                options=function_options,
            )
            justify(self.function, "invoked-synchronously")
        else:
            self.function = existing_function
            if isinstance(existing_function, lambda_.Function):
                existing_function.add_environment("TABLE_NAME", self.table.table_name)
        grant(self.table, self.function, table_access)

        self.api: apigw.RestApi = rest_api(
            self,
            "Api",
            props=rest_api_props,
            authorizer=authorizer,
            authorization_type=authorization_type,
        )
        add_routes(
            self.api, routes, apigw.LambdaIntegration(self.function, allow_test_invoke=False)
        )

        self.alarms: list[cloudwatch.Alarm] = [
            *alarm_defaults.function_alarms(self, "Function", self.function),
            *alarm_defaults.rest_api_alarms(self, "Api", self.api),
        ]
        alarm_defaults.notify(self.alarms, alarm_topic)
