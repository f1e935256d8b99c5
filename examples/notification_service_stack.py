"""Notification service: an API takes notification requests, SMS subscribers receive them.

A client posts ``{"audience": "on-call", "message": "..."}`` to ``POST /notifications`` and gets
``202 {"job_id"}`` at once: API Gateway puts the request on a queue (an AsyncApi, so no code
runs in the front path and a burst waits in the queue). The worker records each request in the
notification records table and, on success, publishes it to an SNS topic whose SMS
subscriptions (one per subscribed phone number, filtered on the ``audience`` attribute) text
the subscribed users. A request that fails three times is marked failed and kept in the
AsyncApi's dead-letter queue; what SNS cannot hand to a phone number goes to the SMS
dead-letter queue. Both are alarmed: nothing is lost silently.

Resources passed between the constructs: the stack creates the topic and the records table
with the library's defaults (``core.topics``, ``core.tables``), hands their names to the
AsyncApi's worker through ``function_options`` and grants it the table and publishing.
"""

import json
from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from serverless_patterns import AsyncApi, TableAccess
from serverless_patterns.core import alarms
from serverless_patterns.core import topics as topic_defaults
from serverless_patterns.core.alarms import notify_every_alarm, operations_topic
from serverless_patterns.core.functions import asset_code
from serverless_patterns.core.queues import dead_letter_queue
from serverless_patterns.core.tables import grant, table

HANDLERS = Path(__file__).parent / "handlers"
#: Who is texted for which audience: phone number (E.164) -> audiences. These are fictional
#: numbers (555-01xx); put your users' numbers here, or subscribe them at run time
#: (``sns:Subscribe`` with protocol ``sms`` and the same filter policy).
SMS_SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    "+12025550100": ("on-call",),
    "+12025550101": ("on-call", "incident-updates"),
    "+12025550102": ("incident-updates",),
}
AUDIENCES = sorted({audience for audiences in SMS_SUBSCRIBERS.values() for audience in audiences})
#: Links in a text may only point here (carriers filter texts with foreign or shortened links).
LINK_DOMAIN = "example.com"
#: Three SMS segments of 160 GSM-7 characters.
MAX_MESSAGE = 480

REQUEST_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    type=apigw.JsonSchemaType.OBJECT,
    required=["audience", "message"],
    additional_properties=False,
    properties={
        "audience": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, enum=AUDIENCES),
        "message": apigw.JsonSchema(
            type=apigw.JsonSchemaType.STRING, min_length=1, max_length=MAX_MESSAGE
        ),
    },
)


def records_and_sms_subscribers(stack: Stack) -> tuple[dynamodb.TableV2, sns.Topic, sqs.Queue]:
    """The notification records table, the topic of the subscribed users with its SMS
    subscriptions (one filter policy per phone number), and their dead-letter queue: what
    both notification services share, whichever worker they run."""
    records = table(
        stack,
        "NotificationRecords",
        props=dynamodb.TablePropsV2(
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
        ),
    )
    users = topic_defaults.topic(stack, "SubscribedUsers")
    undelivered = dead_letter_queue(stack, "UndeliveredSms")
    for phone_number, audiences in SMS_SUBSCRIBERS.items():
        # sns.Subscription, not subscriptions.SmsSubscription: the latter drops its
        # dead_letter_queue (aws-cdk-lib 2.275), and undeliverable texts must be kept.
        subscription = sns.Subscription(
            stack,
            f"Sms{phone_number.lstrip('+')}",
            topic=users,
            protocol=sns.SubscriptionProtocol.SMS,
            endpoint=phone_number,
            dead_letter_queue=undelivered,
            filter_policy={
                "audience": sns.SubscriptionFilter.string_filter(allowlist=list(audiences))
            },
        )
        # SNS may redrive only once the DLQ's policy lets it.
        subscription.node.add_dependency(undelivered)
    return records, users, undelivered


def business_environment(records: dynamodb.ITableV2, users: sns.ITopic) -> dict[str, str]:
    """What ``handlers/sms_notifications/app.py`` reads, whichever worker runs it."""
    return {
        "RECORDS_TABLE": records.table_name,
        "TOPIC_ARN": users.topic_arn,
        "AUDIENCES": json.dumps(AUDIENCES),
        "LINK_DOMAIN": LINK_DOMAIN,
    }


class NotificationServiceStack(Stack):
    """Notification requests in, SMS to the subscribed users out, nothing lost in between."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="serverless-patterns: notification service (AsyncApi + SNS SMS)",
        )
        records, users, undelivered = records_and_sms_subscribers(self)

        requests = AsyncApi(
            self,
            "Notifications",
            code=asset_code(str(HANDLERS / "sms_notifications")),
            service_name="notification-service",
            path="/notifications",
            job_schema=REQUEST_SCHEMA,
            function_options=lambda_.FunctionOptions(
                environment=business_environment(records, users)
            ),
        )
        grant(records, requests.function, TableAccess.READ_WRITE)
        users.grant_publish(requests.function)

        self.alarms = [
            *requests.alarms,
            topic_defaults.lost_messages_alarm(self, "LostSms", users),
            alarms.dead_letter_queue_alarm(self, "UndeliveredSmsMessages", undelivered),
        ]
        CfnOutput(self, "ApiUrl", value=requests.api.url)
        assert requests.websocket_stage is not None
        CfnOutput(self, "WebSocketUrl", value=requests.websocket_stage.url)
        CfnOutput(self, "TopicArn", value=users.topic_arn)
        # Every alarm tells someone: subscribe the on-call address to the operations topic,
        # or pass a platform team's own topic to notify_every_alarm instead.
        notify_every_alarm(self, operations_topic(self))
