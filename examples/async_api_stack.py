"""Notification service: accept email jobs at once, send them behind a queue (AsyncApi)."""

from pathlib import Path

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from serverless_patterns import AsyncApi
from serverless_patterns.core.alarms import notify_every_alarm, operations_topic
from serverless_patterns.core.functions import asset_code

HANDLERS = Path(__file__).parent / "handlers"
#: The verified SES identity the emails come from (a domain verified in the account).
SENDER_DOMAIN = "example.com"
SENDER = f"notifications@{SENDER_DOMAIN}"

NOTIFICATION_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    type=apigw.JsonSchemaType.OBJECT,
    required=["to", "template"],
    additional_properties=False,
    properties={
        "to": apigw.JsonSchema(
            type=apigw.JsonSchemaType.STRING, pattern="^[^@\\s]{1,64}@[^@\\s]{1,255}$"
        ),
        "template": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, enum=["welcome", "receipt"]),
        "data": apigw.JsonSchema(
            type=apigw.JsonSchemaType.OBJECT,
            max_properties=20,
            additional_properties=apigw.JsonSchema(
                type=[apigw.JsonSchemaType.STRING, apigw.JsonSchemaType.NUMBER],
                max_length=200,
            ),
        ),
    },
)


class EmailNotificationsStack(Stack):
    """Emails sent on request: the caller gets a job id at once and hears the outcome later."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="serverless-patterns: AsyncApi reference (email notifications)",
        )
        notifications = AsyncApi(
            self,
            "Notifications",
            code=asset_code(str(HANDLERS / "notifications")),
            service_name="notifications",
            path="/notifications",
            job_schema=NOTIFICATION_SCHEMA,
            function_options=lambda_.FunctionOptions(
                timeout=Duration.seconds(20), environment={"SENDER": SENDER}
            ),
        )
        notifications.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=[
                    self.format_arn(service="ses", resource="identity", resource_name=SENDER_DOMAIN)
                ],
            )
        )
        CfnOutput(self, "ApiUrl", value=notifications.api.url)
        assert notifications.websocket_stage is not None
        CfnOutput(self, "WebSocketUrl", value=notifications.websocket_stage.url)
        # Every alarm tells someone: subscribe the on-call address to the operations topic,
        # or pass a platform team's own topic to notify_every_alarm instead.
        notify_every_alarm(self, operations_topic(self))
