"""Notification service as the seed draws it: API -> SQS -> Fargate -> DynamoDB -> SNS -> SMS.

The same service as ``notification_service_stack`` (same request schema, same subscribers,
same business code: ``handlers/sms_notifications/app.py``), with the worker in a container
instead of a Lambda function. A client posts ``{"audience", "message"}`` to
``POST /notifications``; API Gateway puts it on the queue and answers ``202 {"job_id"}`` (no
code in front). A QueueWorkerService runs ``process(job, job_id)`` in ARM64 Fargate tasks
that exist only while there is work: it records the request in the notification records
table and publishes it to the SNS topic whose SMS subscriptions text the audience. A request
that fails five times ends in the worker's dead-letter queue; what SNS cannot hand to a
phone ends in the SMS dead-letter queue. Both are alarmed. ``patterns/notification-service-
fargate.md`` compares the two workers.
"""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from constructs import Construct
from serverless_patterns import QueueWorkerService, Route, TableAccess
from serverless_patterns.core import alarms
from serverless_patterns.core import topics as topic_defaults
from serverless_patterns.core.alarms import operations_topic
from serverless_patterns.core.apis import rest_api
from serverless_patterns.core.integrations import (
    SEND_MESSAGE_RESPONSES,
    add_route,
    explain_invalid_bodies,
    send_message_integration,
)
from serverless_patterns.core.tables import grant

from examples.notification_service_stack import (
    REQUEST_SCHEMA,
    business_environment,
    records_and_sms_subscribers,
)

HANDLERS = Path(__file__).parent / "handlers"


class NotificationServiceFargateStack(Stack):
    """Notification requests in, SMS out, the worker a container service scaled 0..N."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="serverless-patterns: notification service as drawn (SQS + Fargate)",
        )
        records, users, undelivered = records_and_sms_subscribers(self)

        worker = QueueWorkerService(
            self,
            "Worker",
            code=str(HANDLERS / "sms_notifications"),
            service_name="notification-service",
            environment={
                **business_environment(records, users),
                # The business code logs with Powertools (its Tracer is off outside Lambda).
                "POWERTOOLS_SERVICE_NAME": "notification-service",
            },
        )
        grant(records, worker.task_role, TableAccess.READ_WRITE)
        users.grant_publish(worker.task_role)

        api = rest_api(self, "Api", props=None, authorizer=None, authorization_type=None)
        validator = api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        add_route(
            api,
            Route("POST", "/notifications", request_schema=REQUEST_SCHEMA),
            send_message_integration(self, "Enqueue", queue=worker.queue),
            validator=validator,
            method_responses=SEND_MESSAGE_RESPONSES,
        )
        explain_invalid_bodies(api)

        self.alarms = [
            *worker.alarms,
            *alarms.rest_api_alarms(self, "Api", api),
            topic_defaults.lost_messages_alarm(self, "LostSms", users),
            alarms.dead_letter_queue_alarm(self, "UndeliveredSmsMessages", undelivered),
        ]
        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "QueueUrl", value=worker.queue.queue_url)
        CfnOutput(self, "TopicArn", value=users.topic_arn)
        # Every alarm tells someone; the scaling policy's own alarms are not alerts (they
        # change state with every burst), so they notify nobody.
        alarms.notify(self.alarms, operations_topic(self))
