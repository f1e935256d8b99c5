"""Properties of every reference stack, asserted one by one with the expected values written out.

A snapshot shows a change; a reviewer may re-pin it without reading. These tables are the
reviewed intent: an alarm's metric and threshold, each method's authorization, each function's
timeout and memory, each event source mapping's batching and failure handling, and each role's
exact actions per resource. References are written as the construct path they point to
(``Notifications/Queue.Arn``), so the tables read like the stacks' code. A change to any of
these values must change this file too.
"""

import re
from typing import Any

import pytest

#: Every alarm of the reference stacks fires on the first datapoint of a 5-minute period that
#: reaches 1, and stays quiet without data ("Using Amazon CloudWatch alarms",
#: AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
ALARM_THRESHOLD = {
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "Threshold": 1,
    "EvaluationPeriods": 1,
    "TreatMissingData": "notBreaching",
    "Period": 300,
}

#: Actions CDK's grants give (``grant_read_write_data``, ``grant_send_messages`` ...), written out.
TABLE_READ_WRITE = (
    "dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:ConditionCheckItem dynamodb:DeleteItem"
    " dynamodb:DescribeTable dynamodb:GetItem dynamodb:GetRecords dynamodb:GetShardIterator"
    " dynamodb:PutItem dynamodb:Query dynamodb:Scan dynamodb:UpdateItem"
)
TABLE_READ = (
    "dynamodb:BatchGetItem dynamodb:ConditionCheckItem dynamodb:DescribeTable dynamodb:GetItem"
    " dynamodb:GetRecords dynamodb:GetShardIterator dynamodb:Query dynamodb:Scan"
)
STREAM_READ = "dynamodb:DescribeStream dynamodb:GetRecords dynamodb:GetShardIterator"
QUEUE_SEND = "sqs:GetQueueAttributes sqs:GetQueueUrl sqs:SendMessage"
QUEUE_CONSUME = (
    "sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes sqs:GetQueueUrl"
    " sqs:ReceiveMessage"
)
XRAY = "xray:PutTelemetryRecords xray:PutTraceSegments"
LOGS = "logs:CreateLogStream logs:PutLogEvents"
WEBSOCKET_POST = "execute-api:ManageConnections"
STATE_MACHINE_LOGS_AND_TRACES = (
    "logs:CreateLogDelivery logs:DeleteLogDelivery logs:DescribeLogGroups"
    " logs:DescribeResourcePolicies logs:GetLogDelivery logs:ListLogDeliveries"
    " logs:PutResourcePolicy logs:UpdateLogDelivery xray:GetSamplingRules xray:GetSamplingTargets"
    " xray:PutTelemetryRecords xray:PutTraceSegments"
)


def lambda_alarms(function: str) -> dict[str, tuple[str, ...]]:
    """A function's two alarms, ``<function>Errors`` and ``<function>Throttles`` (Sum)."""
    return {
        f"{function}{metric}": ("AWS/Lambda", metric, "Sum", function)
        for metric in ("Errors", "Throttles")
    }


def visible_messages_alarm(alarm: str, queue: str) -> dict[str, tuple[str, ...]]:
    """Any message visible (Maximum) in a dead-letter queue."""
    return {
        alarm: ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", f"{queue}.QueueName")
    }


def server_errors_alarm(scope: str, api_name: str) -> dict[str, tuple[str, ...]]:
    return {f"{scope}/ApiServerErrors": ("AWS/ApiGateway", "5XXError", "Sum", api_name)}


def sns_lost_alarm(alarm: str, topic: str) -> dict[str, tuple[str, ...]]:
    return {
        alarm: ("AWS/SNS", "NumberOfNotificationsFailedToRedriveToDlq", "Sum", f"{topic}.TopicName")
    }


def async_api_alarms(scope: str, api_name: str) -> dict[str, tuple[str, ...]]:
    """The 13 alarms of an AsyncApi with its WebSocket API."""
    return {
        **server_errors_alarm(scope, api_name),
        **visible_messages_alarm(f"{scope}/DeadLetterQueueMessages", f"{scope}/DeadLetterQueue"),
        **visible_messages_alarm(
            f"{scope}/NotifierDeadLetterQueueMessages", f"{scope}/NotifierDeadLetterQueue"
        ),
        **{
            name: alarm
            for function in ("Connections", "", "Notifier", "Recorder", "Status")
            for name, alarm in lambda_alarms(f"{scope}/{function}Function").items()
        },
    }


#: The step scaling policy's two alarms on the backlog (visible + in-flight, 1-minute maxima).
BACKLOG = (
    "visible + inflight",
    "visible: AWS/SQS ApproximateNumberOfMessagesVisible Maximum 60 Worker/Queue.QueueName",
    "inflight: AWS/SQS ApproximateNumberOfMessagesNotVisible Maximum 60 Worker/Queue.QueueName",
)


def queue_worker_alarms(scope: str) -> dict[str, tuple[str, ...]]:
    """A QueueWorkerService: its DLQ, messages waiting without tasks, failed tasks, scaling."""
    return {
        **visible_messages_alarm(f"{scope}/DeadLetterQueueMessages", f"{scope}/DeadLetterQueue"),
        f"{scope}/MessagesWaitingWithoutTasks": (
            "IF(visible > 0 AND FILL(running, 0) < 1, 1, 0)",
            "visible: AWS/SQS ApproximateNumberOfMessagesVisible Minimum 300"
            f" {scope}/Queue.QueueName",
            f"running: ECS/ContainerInsights RunningTaskCount Maximum 300 {scope}/Cluster"
            f" {scope}/Service/Service.Name",
        ),
        f"{scope}/TaskFailures": (
            "AWS/Events",
            "MatchedEvents",
            "Sum",
            f"{scope}/TaskFailuresRule",
        ),
        f"{scope}/Service/TaskCount/Target/ScaleOnQueueDepth/LowerAlarm": BACKLOG,
        f"{scope}/Service/TaskCount/Target/ScaleOnQueueDepth/UpperAlarm": BACKLOG,
    }


def sync_api_alarms(scope: str, api_name: str) -> dict[str, tuple[str, ...]]:
    return {**server_errors_alarm(scope, api_name), **lambda_alarms(f"{scope}/Function")}


def subscriber_alarms(scope: str, function: str) -> dict[str, tuple[str, ...]]:
    """A FanOut subscriber: its consumer (or function) and its dead-letter queue."""
    return {
        **lambda_alarms(f"{scope}/{function}"),
        **visible_messages_alarm(f"{scope}/DeadLetterQueueAlarm", f"{scope}/DeadLetterQueue"),
    }


def router_target_alarm(route: str, target: str) -> dict[str, tuple[str, ...]]:
    return visible_messages_alarm(
        f"Commerce/{route}/{target}DeadLetterQueueAlarm",
        f"Commerce/{route}/{target}DeadLetterQueue",
    )


def state_machine_alarms(machine: str) -> dict[str, tuple[str, ...]]:
    return {
        f"OrderSaga/{metric}": ("AWS/States", metric, "Sum", machine)
        for metric in (
            "ExecutionThrottled",
            "ExecutionsAborted",
            "ExecutionsFailed",
            "ExecutionsTimedOut",
        )
    }


#: ``{stack: {alarm: (namespace, metric, statistic, *dimension values)}}``
ALARMS = {
    "AsyncApi": async_api_alarms("Notifications", "AsyncApi-Notifications-Api"),
    "EventRouter": {
        **router_target_alarm("NightlyReport", "SalesReport"),
        **router_target_alarm("OrderPlaced", "FulfilmentQueue"),
        **router_target_alarm("OrderPlaced", "OrderConfirmation"),
        **router_target_alarm("PaymentFailed", "PaymentAlerts"),
        **visible_messages_alarm("FulfilmentDeadLetterQueueAlarm", "FulfilmentDeadLetterQueue"),
        **lambda_alarms("OrderConfirmation"),
        **lambda_alarms("SalesReport"),
    },
    "FanOut": {
        **sns_lost_alarm("OrderEvents/LostMessages", "OrderEvents/Topic"),
        **subscriber_alarms("OrderEvents/analytics", "Function"),
        **subscriber_alarms("OrderEvents/billing", "Consumer"),
        **subscriber_alarms("OrderEvents/shipping", "Consumer"),
    },
    "NotificationServiceFargate": {
        **queue_worker_alarms("Worker"),
        "ApiServerErrors": ("AWS/ApiGateway", "5XXError", "Sum", "NotificationServiceFargate-Api"),
        **sns_lost_alarm("LostSms", "SubscribedUsers"),
        **visible_messages_alarm("UndeliveredSmsMessages", "UndeliveredSms"),
    },
    "NotificationService": {
        **sns_lost_alarm("LostSms", "SubscribedUsers"),
        **async_api_alarms("Notifications", "NotificationService-Notifications-Api"),
        **visible_messages_alarm("UndeliveredSmsMessages", "UndeliveredSms"),
    },
    "OrderSaga": {
        **state_machine_alarms("OrderSaga/StateMachine"),
        **visible_messages_alarm(
            "OrderSaga/TriggerDeadLetters", "OrderSaga/TriggerDeadLetterQueue"
        ),
    },
    "OrdersBothWays": {
        **async_api_alarms("AsyncOrders", "OrdersBothWays-AsyncOrders-Api"),
        **sync_api_alarms("SyncOrders", "OrdersBothWays-SyncOrders-Api"),
    },
    "PubSubService": {
        **sync_api_alarms("Api", "PubSubService-Api-Api"),
        **sns_lost_alarm("PublishedMessages/LostMessages", "PublishedMessages/Topic"),
        **subscriber_alarms("PublishedMessages/delivery", "Consumer"),
        **subscriber_alarms("PublishedMessages/popular-terms", "Consumer"),
    },
    "SyncApi": sync_api_alarms("Orders", "SyncApi-Orders-Api"),
    "DeviceTelemetry": {
        **lambda_alarms("Telemetry/Function"),
        "Telemetry/FunctionIteratorAge": (
            "AWS/Lambda",
            "IteratorAge",
            "Maximum",
            "Telemetry/Function",
        ),
        **visible_messages_alarm("Telemetry/DeadLetterQueueAlarm", "Telemetry/DeadLetterQueue"),
        "Telemetry/ArchiveDataFreshness": (
            "AWS/Firehose",
            "DeliveryToS3.DataFreshness",
            "Maximum",
            "Telemetry/Archive",
        ),
    },
    "OrdersDataLake": {
        **visible_messages_alarm(
            "OrderChanges/DeadLetterQueueAlarm", "OrderChanges/DeadLetterQueue"
        ),
        **lambda_alarms("OrderChanges/Enrichment"),
        **lambda_alarms("OrderHistory"),
        **visible_messages_alarm(
            "OrderEvents/OrderHistory/OrderHistoryDeadLetterQueueAlarm",
            "OrderEvents/OrderHistory/OrderHistoryDeadLetterQueue",
        ),
        **visible_messages_alarm(
            "OrderEvents/DataLake/DataLakeDeadLetterQueueAlarm",
            "OrderEvents/DataLake/DataLakeDeadLetterQueue",
        ),
        "DataLakeDataFreshness": (
            "AWS/Firehose",
            "DeliveryToS3.DataFreshness",
            "Maximum",
            "DataLake",
        ),
    },
}
#: Alarms whose threshold is not "at least 1": Firehose's freshness over the 15-minute
#: buffering limit ("Implement best practices with CloudWatch Alarms", firehose/latest/dev/
#: firehose-cloudwatch-metrics-best-practices.html), and a consumer's iterator age over half
#: its maximum record age (1 hour: 1,800,000 ms).
OWN_THRESHOLDS = {
    "Telemetry/ArchiveDataFreshness": {
        **ALARM_THRESHOLD,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 900,
    },
    "DataLakeDataFreshness": {
        **ALARM_THRESHOLD,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 900,
    },
    "Telemetry/FunctionIteratorAge": {
        **ALARM_THRESHOLD,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 1_800_000,
    },
}


#: ``{stack: {function: (timeout in seconds, memory in MB)}}``
FUNCTIONS = {
    "AsyncApi": {
        "Notifications/ConnectionsFunction": (10, 256),
        "Notifications/Function": (20, 256),
        "Notifications/NotifierFunction": (10, 256),
        "Notifications/RecorderFunction": (10, 256),
        "Notifications/StatusFunction": (10, 256),
    },
    "EventRouter": {
        "OrderConfirmation": (10, 256),
        "SalesReport": (10, 256),
    },
    "FanOut": {
        "OrderEvents/analytics/Function": (10, 256),
        "OrderEvents/billing/Consumer": (10, 256),
        "OrderEvents/shipping/Consumer": (10, 256),
    },
    "NotificationServiceFargate": {},
    "NotificationService": {
        "Notifications/ConnectionsFunction": (10, 256),
        "Notifications/Function": (10, 256),
        "Notifications/NotifierFunction": (10, 256),
        "Notifications/RecorderFunction": (10, 256),
        "Notifications/StatusFunction": (10, 256),
    },
    "OrderSaga": {
        "PaymentFunction": (10, 256),
    },
    "OrdersBothWays": {
        "AsyncOrders/ConnectionsFunction": (10, 256),
        "AsyncOrders/Function": (10, 256),
        "AsyncOrders/NotifierFunction": (10, 256),
        "AsyncOrders/RecorderFunction": (10, 256),
        "AsyncOrders/StatusFunction": (10, 256),
        "SyncOrders/Function": (10, 256),
    },
    "PubSubService": {
        "Api/Function": (10, 256),
        "PublishedMessages/delivery/Consumer": (10, 256),
        "PublishedMessages/popular-terms/Consumer": (10, 256),
    },
    "SyncApi": {
        "Orders/Function": (10, 256),
    },
    "DeviceTelemetry": {
        "Telemetry/Function": (60, 256),
    },
    "OrdersDataLake": {
        "OrderChanges/Enrichment": (10, 256),
        "OrderHistory": (10, 256),
    },
}
#: ``{stack: {REST method or WebSocket route: authorization type}}``
AUTHORIZATION = {
    "AsyncApi": {
        "Notifications/Api/Default/notifications/POST": "AWS_IAM",
        "Notifications/Api/Default/notifications/{job_id}/GET": "AWS_IAM",
        "Notifications/WebSocketApi/$connect-Route": "AWS_IAM",
        "Notifications/WebSocketApi/$default-Route": "NONE",
        "Notifications/WebSocketApi/$disconnect-Route": "NONE",
    },
    "EventRouter": {},
    "FanOut": {},
    "NotificationServiceFargate": {
        "Api/Default/notifications/POST": "AWS_IAM",
    },
    "NotificationService": {
        "Notifications/Api/Default/notifications/POST": "AWS_IAM",
        "Notifications/Api/Default/notifications/{job_id}/GET": "AWS_IAM",
        "Notifications/WebSocketApi/$connect-Route": "AWS_IAM",
        "Notifications/WebSocketApi/$default-Route": "NONE",
        "Notifications/WebSocketApi/$disconnect-Route": "NONE",
    },
    "OrderSaga": {},
    "OrdersBothWays": {
        "AsyncOrders/Api/Default/orders/POST": "AWS_IAM",
        "AsyncOrders/Api/Default/orders/{job_id}/GET": "AWS_IAM",
        "AsyncOrders/WebSocketApi/$connect-Route": "AWS_IAM",
        "AsyncOrders/WebSocketApi/$default-Route": "NONE",
        "AsyncOrders/WebSocketApi/$disconnect-Route": "NONE",
        "SyncOrders/Api/Default/orders/POST": "AWS_IAM",
        "SyncOrders/Api/Default/orders/{order_id}/GET": "AWS_IAM",
    },
    "PubSubService": {
        "Api/Api/Default/messages/{message_id}/GET": "AWS_IAM",
        "Api/Api/Default/publishers/POST": "AWS_IAM",
        "Api/Api/Default/subscribers/POST": "AWS_IAM",
        "Api/Api/Default/subscribers/{subscriber_id}/messages/GET": "AWS_IAM",
        "Api/Api/Default/subscribers/{subscriber_id}/topics/{topic}/DELETE": "AWS_IAM",
        "Api/Api/Default/subscribers/{subscriber_id}/topics/{topic}/PUT": "AWS_IAM",
        "Api/Api/Default/terms/GET": "AWS_IAM",
        "Api/Api/Default/topics/{topic}/messages/POST": "AWS_IAM",
    },
    "SyncApi": {
        "Orders/Api/Default/orders/GET": "AWS_IAM",
        "Orders/Api/Default/orders/POST": "AWS_IAM",
        "Orders/Api/Default/orders/{order_id}/GET": "AWS_IAM",
    },
    "DeviceTelemetry": {},
    "OrdersDataLake": {},
}


def async_api_event_sources(scope: str) -> dict[str, dict[str, Any]]:
    """An AsyncApi's three mappings: jobs queue -> worker, stream -> notifier, recorder queue."""
    return {
        f"{scope}/Function": {
            "BatchSize": 10,
            "EventSourceArn": f"{scope}/Queue.Arn",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": 5},
        },
        f"{scope}/NotifierFunction": {
            "BatchSize": 10,
            "BisectBatchOnFunctionError": True,
            "DestinationConfig": {
                "OnFailure": {"Destination": f"{scope}/NotifierDeadLetterQueue.Arn"}
            },
            "EventSourceArn": f"{scope}/Table.StreamArn",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumRecordAgeInSeconds": 7200,
            "MaximumRetryAttempts": 3,
            "StartingPosition": "LATEST",
        },
        f"{scope}/RecorderFunction": {
            "BatchSize": 10,
            "EventSourceArn": f"{scope}/RecorderQueue.Arn",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    }


def subscriber_event_source(scope: str, **extra: Any) -> dict[str, dict[str, Any]]:
    """A QueueSubscriber's mapping: its queue -> its consumer."""
    return {
        f"{scope}/Consumer": {
            "BatchSize": 10,
            "EventSourceArn": f"{scope}/Queue.Arn",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            **extra,
        }
    }


#: ``{stack: {function: its event source mapping (all but FunctionName and FilterCriteria)}}``
EVENT_SOURCES = {
    "AsyncApi": async_api_event_sources("Notifications"),
    "EventRouter": {},
    "FanOut": {
        **subscriber_event_source("OrderEvents/billing"),
        **subscriber_event_source("OrderEvents/shipping"),
    },
    "NotificationServiceFargate": {},
    "NotificationService": async_api_event_sources("Notifications"),
    "OrderSaga": {},
    "OrdersBothWays": async_api_event_sources("AsyncOrders"),
    "PubSubService": {
        **subscriber_event_source("PublishedMessages/delivery"),
        **subscriber_event_source(
            "PublishedMessages/popular-terms", ScalingConfig={"MaximumConcurrency": 2}
        ),
    },
    "SyncApi": {},
    "DeviceTelemetry": {
        "Telemetry/Function": {
            "BatchSize": 100,
            "BisectBatchOnFunctionError": True,
            "DestinationConfig": {"OnFailure": {"Destination": "Telemetry/DeadLetterQueue.Arn"}},
            "EventSourceArn": "Telemetry/Stream.Arn",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumBatchingWindowInSeconds": 5,
            "MaximumRecordAgeInSeconds": 3600,
            "MaximumRetryAttempts": 3,
            "ParallelizationFactor": 1,
            "StartingPosition": "TRIM_HORIZON",
        },
    },
    "OrdersDataLake": {},
}
#: ``{stack: {role: {resource: its actions, sorted, space-separated}}}``
GRANTS = {
    "AsyncApi": {
        "Notifications/ConnectionsFunctionRole": {
            "*": XRAY,
            "Notifications/ConnectionsFunctionLogs.Arn": LOGS,
            "Notifications/Table.Arn": TABLE_READ_WRITE,
        },
        "Notifications/EnqueueRole": {
            "Notifications/Queue.Arn": QUEUE_SEND,
        },
        "Notifications/FunctionRole": {
            "*": XRAY,
            "Notifications/FunctionLogs.Arn": LOGS,
            "Notifications/Queue.Arn": QUEUE_CONSUME,
            "Notifications/Table.Arn": TABLE_READ_WRITE,
            "ses:identity/example.com": "ses:SendEmail",
        },
        "Notifications/NotifierFunctionRole": {
            "*": XRAY,
            "Notifications/NotifierDeadLetterQueue.Arn": QUEUE_SEND,
            "Notifications/NotifierFunctionLogs.Arn": LOGS,
            "Notifications/Table.Arn": TABLE_READ_WRITE,
            "Notifications/Table.StreamArn": STREAM_READ,
            "execute-api:${Notifications/WebSocketApi}/prod/POST/@connections/*": WEBSOCKET_POST,
        },
        "Notifications/RecorderFunctionRole": {
            "*": XRAY,
            "Notifications/DeadLetterQueue.Arn": QUEUE_SEND,
            "Notifications/RecorderFunctionLogs.Arn": LOGS,
            "Notifications/RecorderQueue.Arn": QUEUE_CONSUME,
            "Notifications/Table.Arn": TABLE_READ_WRITE,
        },
        "Notifications/StatusFunctionRole": {
            "*": XRAY,
            "Notifications/StatusFunctionLogs.Arn": LOGS,
            "Notifications/Table.Arn": TABLE_READ,
        },
    },
    "EventRouter": {
        "OrderConfirmationRole": {
            "*": XRAY,
            "Commerce/OrderPlaced/OrderConfirmationDeadLetterQueue.Arn": QUEUE_SEND,
            "CustomerNotifications": "sns:Publish",
            "NotificationsKey.Arn": "kms:Decrypt kms:GenerateDataKey",
            "OrderConfirmationLogs.Arn": LOGS,
        },
        "SalesReportRole": {
            "*": XRAY,
            "Commerce/Bus.Arn": "events:PutEvents",
            "Commerce/NightlyReport/SalesReportDeadLetterQueue.Arn": QUEUE_SEND,
            "SalesReportLogs.Arn": LOGS,
        },
    },
    "FanOut": {
        "OrderEvents/analytics/FunctionRole": {
            "*": XRAY,
            "OrderEvents/analytics/DeadLetterQueue.Arn": "sqs:SendMessage",
            "OrderEvents/analytics/FunctionLogs.Arn": LOGS,
        },
        "OrderEvents/billing/ConsumerRole": {
            "*": XRAY,
            "OrderEvents/billing/ConsumerLogs.Arn": LOGS,
            "OrderEvents/billing/Queue.Arn": QUEUE_CONSUME,
        },
        "OrderEvents/shipping/ConsumerRole": {
            "*": XRAY,
            "OrderEvents/shipping/ConsumerLogs.Arn": LOGS,
            "OrderEvents/shipping/Queue.Arn": QUEUE_CONSUME,
        },
        "OrdersServicePublisher": {
            "OrderEvents/Topic": "sns:Publish",
        },
    },
    "NotificationServiceFargate": {
        "EnqueueRole": {"Worker/Queue.Arn": QUEUE_SEND},
        "Worker/TaskDefinition/ExecutionRole": {
            "*": "ecr:GetAuthorizationToken",
            "ecr:repository/cdk-hnb659fds-container-assets-${AWS::AccountId}-${AWS::Region}": (
                "ecr:BatchCheckLayerAvailability ecr:BatchGetImage ecr:GetDownloadUrlForLayer"
            ),
            "Worker/Logs.Arn": LOGS,
        },
        # What the runtime calls (receive, heartbeat, delete; claim and record; protection),
        # then what the stack grants the business code (records, publish).
        "Worker/TaskDefinition/TaskRole": {
            "Worker/Queue.Arn": (
                "sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:ReceiveMessage"
            ),
            "Worker/Table.Arn": "dynamodb:UpdateItem",
            "ecs:task/${Worker/Cluster}/*": "ecs:UpdateTaskProtection",
            "NotificationRecords.Arn": TABLE_READ_WRITE,
            "SubscribedUsers": "sns:Publish",
        },
        "Worker/Vpc/Rejected/IAMRole": {
            "Worker/VpcFlowLogs.Arn": (
                "logs:CreateLogStream logs:DescribeLogStreams logs:PutLogEvents"
            )
        },
    },
    "NotificationService": {
        "Notifications/ConnectionsFunctionRole": {
            "*": XRAY,
            "Notifications/ConnectionsFunctionLogs.Arn": LOGS,
            "Notifications/Table.Arn": TABLE_READ_WRITE,
        },
        "Notifications/EnqueueRole": {
            "Notifications/Queue.Arn": QUEUE_SEND,
        },
        "Notifications/FunctionRole": {
            "*": XRAY,
            "NotificationRecords.Arn": TABLE_READ_WRITE,
            "Notifications/FunctionLogs.Arn": LOGS,
            "Notifications/Queue.Arn": QUEUE_CONSUME,
            "Notifications/Table.Arn": TABLE_READ_WRITE,
            "SubscribedUsers": "sns:Publish",
        },
        "Notifications/NotifierFunctionRole": {
            "*": XRAY,
            "Notifications/NotifierDeadLetterQueue.Arn": QUEUE_SEND,
            "Notifications/NotifierFunctionLogs.Arn": LOGS,
            "Notifications/Table.Arn": TABLE_READ_WRITE,
            "Notifications/Table.StreamArn": STREAM_READ,
            "execute-api:${Notifications/WebSocketApi}/prod/POST/@connections/*": WEBSOCKET_POST,
        },
        "Notifications/RecorderFunctionRole": {
            "*": XRAY,
            "Notifications/DeadLetterQueue.Arn": QUEUE_SEND,
            "Notifications/RecorderFunctionLogs.Arn": LOGS,
            "Notifications/RecorderQueue.Arn": QUEUE_CONSUME,
            "Notifications/Table.Arn": TABLE_READ_WRITE,
        },
        "Notifications/StatusFunctionRole": {
            "*": XRAY,
            "Notifications/StatusFunctionLogs.Arn": LOGS,
            "Notifications/Table.Arn": TABLE_READ,
        },
    },
    "OrderSaga": {
        "OrderSaga/StateMachine/Role": {
            "${PaymentFunction.Arn}:*": "lambda:InvokeFunction",
            "*": STATE_MACHINE_LOGS_AND_TRACES,
            "PaymentFunction.Arn": "lambda:InvokeFunction",
            "dynamodb:table/${Inventory}": "dynamodb:UpdateItem",
            "dynamodb:table/${Orders}": "dynamodb:PutItem dynamodb:UpdateItem",
            "dynamodb:table/${Shipments}": "dynamodb:PutItem dynamodb:UpdateItem",
        },
        "OrderSaga/TriggerRole": {
            "OrderSaga/StateMachine": "states:StartExecution",
        },
        "PaymentFunctionRole": {
            "*": XRAY,
            "PaymentFunctionLogs.Arn": LOGS,
            "Payments.Arn": TABLE_READ_WRITE,
        },
    },
    "OrdersBothWays": {
        "AsyncOrders/ConnectionsFunctionRole": {
            "*": XRAY,
            "AsyncOrders/ConnectionsFunctionLogs.Arn": LOGS,
            "AsyncOrders/Table.Arn": TABLE_READ_WRITE,
        },
        "AsyncOrders/EnqueueRole": {
            "AsyncOrders/Queue.Arn": QUEUE_SEND,
        },
        "AsyncOrders/FunctionRole": {
            "*": XRAY,
            "AsyncOrders/FunctionLogs.Arn": LOGS,
            "AsyncOrders/Queue.Arn": QUEUE_CONSUME,
            "AsyncOrders/Table.Arn": TABLE_READ_WRITE,
            "Orders.Arn": TABLE_READ_WRITE,
        },
        "AsyncOrders/NotifierFunctionRole": {
            "*": XRAY,
            "AsyncOrders/NotifierDeadLetterQueue.Arn": QUEUE_SEND,
            "AsyncOrders/NotifierFunctionLogs.Arn": LOGS,
            "AsyncOrders/Table.Arn": TABLE_READ_WRITE,
            "AsyncOrders/Table.StreamArn": STREAM_READ,
            "execute-api:${AsyncOrders/WebSocketApi}/prod/POST/@connections/*": WEBSOCKET_POST,
        },
        "AsyncOrders/RecorderFunctionRole": {
            "*": XRAY,
            "AsyncOrders/DeadLetterQueue.Arn": QUEUE_SEND,
            "AsyncOrders/RecorderFunctionLogs.Arn": LOGS,
            "AsyncOrders/RecorderQueue.Arn": QUEUE_CONSUME,
            "AsyncOrders/Table.Arn": TABLE_READ_WRITE,
        },
        "AsyncOrders/StatusFunctionRole": {
            "*": XRAY,
            "AsyncOrders/StatusFunctionLogs.Arn": LOGS,
            "AsyncOrders/Table.Arn": TABLE_READ,
        },
        "SyncOrders/FunctionRole": {
            "*": XRAY,
            "Orders.Arn": TABLE_READ_WRITE,
            "SyncOrders/FunctionLogs.Arn": LOGS,
        },
    },
    "PubSubService": {
        "Api/FunctionRole": {
            "${Subscribers.Arn}/index/*": TABLE_READ_WRITE,
            "${WordCounts.Arn}/index/*": TABLE_READ,
            "*": XRAY,
            "Api/FunctionLogs.Arn": LOGS,
            "Messages.Arn": TABLE_READ_WRITE,
            "PublishedMessages/Topic": "sns:Publish",
            "Publishers.Arn": TABLE_READ_WRITE,
            "Subscribers.Arn": TABLE_READ_WRITE,
            "WordCounts.Arn": TABLE_READ,
        },
        "PublishedMessages/delivery/ConsumerRole": {
            "${Subscribers.Arn}/index/*": TABLE_READ_WRITE,
            "*": XRAY,
            "Messages.Arn": TABLE_READ_WRITE,
            "PublishedMessages/delivery/ConsumerLogs.Arn": LOGS,
            "PublishedMessages/delivery/Queue.Arn": QUEUE_CONSUME,
            "Subscribers.Arn": TABLE_READ_WRITE,
        },
        "PublishedMessages/popular-terms/ConsumerRole": {
            "${WordCounts.Arn}/index/*": TABLE_READ_WRITE,
            "*": XRAY,
            "PublishedMessages/popular-terms/ConsumerLogs.Arn": LOGS,
            "PublishedMessages/popular-terms/Queue.Arn": QUEUE_CONSUME,
            "WordCounts.Arn": TABLE_READ_WRITE,
        },
    },
    "SyncApi": {
        "Orders/FunctionRole": {
            "${Orders/Table.Arn}/index/*": TABLE_READ_WRITE,
            "*": XRAY,
            "Orders/FunctionLogs.Arn": LOGS,
            "Orders/Table.Arn": TABLE_READ_WRITE,
        },
    },
    "DeviceTelemetry": {
        "DeviceFleetProducer": {
            "Telemetry/Stream.Arn": "kinesis:ListShards kinesis:PutRecord kinesis:PutRecords",
        },
        "Telemetry/ArchiveRole": {
            "${Telemetry/ArchiveBucket.Arn}/*": (
                "s3:AbortMultipartUpload s3:GetObject s3:PutObject"
            ),
            "Telemetry/ArchiveBucket.Arn": (
                "s3:GetBucketLocation s3:ListBucket s3:ListBucketMultipartUploads"
            ),
            "Telemetry/ArchiveLogs.Arn": "logs:PutLogEvents",
            "Telemetry/Stream.Arn": (
                "kinesis:DescribeStream kinesis:GetRecords kinesis:GetShardIterator"
                " kinesis:ListShards"
            ),
        },
        "Telemetry/FunctionRole": {
            "*": XRAY,
            "Aggregates.Arn": TABLE_READ_WRITE,
            "Telemetry/DeadLetterQueue.Arn": QUEUE_SEND,
            "Telemetry/FunctionLogs.Arn": LOGS,
            "Telemetry/Stream.Arn": (
                "kinesis:DescribeStream kinesis:DescribeStreamConsumer"
                " kinesis:DescribeStreamSummary kinesis:GetRecords kinesis:GetShardIterator"
                " kinesis:ListShards kinesis:ListStreams kinesis:SubscribeToShard"
            ),
        },
    },
    "OrdersDataLake": {
        "DataLake/EventsRole": {
            "DataLake.Arn": "firehose:PutRecord firehose:PutRecordBatch",
        },
        "DataLakeRole": {
            "${DataLakeBucket.Arn}/*": "s3:AbortMultipartUpload s3:GetObject s3:PutObject",
            "DataLakeBucket.Arn": (
                "s3:GetBucketLocation s3:ListBucket s3:ListBucketMultipartUploads"
            ),
            "DataLakeLogs.Arn": "logs:PutLogEvents",
        },
        "OrderChanges/EnrichmentRole": {
            "*": XRAY,
            "OrderChanges/EnrichmentLogs.Arn": LOGS,
        },
        "OrderChanges/Role": {
            "*": "dynamodb:ListStreams",
            "OrderChanges/DeadLetterQueue.Arn": "sqs:SendMessage",
            "OrderChanges/Enrichment.Arn": "lambda:InvokeFunction",
            "OrderChanges/PipeLogs.Arn": LOGS,
            "OrderChanges/Table.StreamArn": STREAM_READ,
            "OrderEvents/Bus.Arn": "events:PutEvents",
        },
        "OrderHistoryRole": {
            "*": XRAY,
            "OrderEvents/OrderHistory/OrderHistoryDeadLetterQueue.Arn": QUEUE_SEND,
            "OrderHistoryLogs.Arn": LOGS,
            "OrderHistoryTable.Arn": TABLE_READ_WRITE,
        },
    },
}


#: ``arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:`` and the like.
OWN_ARN = re.compile(r"^arn:\$\{AWS::Partition\}:([a-z-]+):\$\{AWS::Region\}:\$\{AWS::AccountId\}:")


def path_of(template: dict[str, Any], logical_id: str) -> str:
    """``Notifications/Function`` for ``AsyncApi/Notifications/Function/Resource``."""
    parts = template["Resources"][logical_id]["Metadata"]["aws:cdk:path"].split("/")[1:]
    return "/".join(parts[:-1] if parts[-1] == "Resource" else parts)


def render(template: dict[str, Any], value: Any) -> Any:
    """A property value with every reference written as the construct path it points to
    (``Notifications/Queue.Arn``), and an ARN in the stack's own partition, region and account
    as ``service:resource`` (``ses:identity/example.com``)."""
    if isinstance(value, str | int | bool):
        return value
    if isinstance(value, list):
        return [render(template, item) for item in value]
    if set(value) == {"Ref"}:
        name = value["Ref"]
        return f"${{{name}}}" if name.startswith("AWS::") else path_of(template, name)
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"{path_of(template, logical_id)}.{attribute}"
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"]  # already written with ${...}, e.g. the CDK asset repository
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        rendered = [render(template, part) for part in parts]
        joined = separator.join(
            text
            if isinstance(part, str) or "Fn::Sub" in part or text.startswith("${")
            else f"${{{text}}}"
            for part, text in zip(parts, rendered, strict=True)
        )
        return OWN_ARN.sub(r"\1:", joined)
    return {key: render(template, item) for key, item in value.items()}


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """``{construct path: properties}`` of every resource of ``resource_type``."""
    return {
        path_of(template, logical_id): resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


STACKS = sorted(ALARMS)
SCALING_ALARMS = ("/ScaleOnQueueDepth/LowerAlarm", "/ScaleOnQueueDepth/UpperAlarm")


def watched_metric(template: dict[str, Any], alarm: dict[str, Any]) -> tuple[str, ...]:
    """(namespace, metric, statistic, *dimension values), or for metric math the expression
    and one ``id: namespace metric statistic period *dimensions`` line per metric."""
    if "Metrics" not in alarm:
        return (
            alarm["Namespace"],
            alarm["MetricName"],
            alarm["Statistic"],
            *(render(template, d["Value"]) for d in alarm.get("Dimensions", [])),
        )
    lines = []
    for metric in alarm["Metrics"]:
        if "Expression" in metric:
            lines.append(metric["Expression"])
            continue
        stat, watched = metric["MetricStat"], metric["MetricStat"]["Metric"]
        dimensions = [render(template, d["Value"]) for d in watched.get("Dimensions", [])]
        lines.append(
            " ".join(
                [
                    f"{metric['Id']}:",
                    watched["Namespace"],
                    watched["MetricName"],
                    stat["Stat"],
                    str(stat["Period"]),
                    *dimensions,
                ]
            )
        )
    return tuple(lines)


def test_the_tables_cover_every_reference_stack(templates: dict[str, dict[str, Any]]) -> None:
    for table in (ALARMS, FUNCTIONS, AUTHORIZATION, EVENT_SOURCES, GRANTS):
        assert sorted(table) == sorted(templates)


@pytest.mark.parametrize("stack", STACKS)
def test_alarms(templates: dict[str, dict[str, Any]], stack: str) -> None:
    template = templates[stack]
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    watched = {path: watched_metric(template, alarm) for path, alarm in alarms.items()}
    assert watched == ALARMS[stack]
    for path, alarm in alarms.items():
        if path.endswith(SCALING_ALARMS):
            continue  # a scaling policy's trigger: pinned in tests/queue_worker
        if "Metrics" in alarm:
            periods = {m["MetricStat"]["Period"] for m in alarm["Metrics"] if "MetricStat" in m}
            alarm = {**alarm, "Period": periods.pop() if len(periods) == 1 else periods}
        expected = OWN_THRESHOLDS.get(path, ALARM_THRESHOLD)
        assert {key: alarm.get(key) for key in ALARM_THRESHOLD} == expected, path


@pytest.mark.parametrize("stack", STACKS)
def test_function_timeouts_and_memory(templates: dict[str, dict[str, Any]], stack: str) -> None:
    functions = of_type(templates[stack], "AWS::Lambda::Function")
    sizes = {path: (f["Timeout"], f["MemorySize"]) for path, f in functions.items()}
    assert sizes == FUNCTIONS[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_authorization_of_every_method_and_route(
    templates: dict[str, dict[str, Any]], stack: str
) -> None:
    template = templates[stack]
    methods = {
        **of_type(template, "AWS::ApiGateway::Method"),
        **of_type(template, "AWS::ApiGatewayV2::Route"),
    }
    authorization = {path: method["AuthorizationType"] for path, method in methods.items()}
    assert authorization == AUTHORIZATION[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_event_source_mappings(templates: dict[str, dict[str, Any]], stack: str) -> None:
    template = templates[stack]
    mappings = {
        render(template, mapping["FunctionName"]): {
            key: render(template, value)
            for key, value in mapping.items()
            if key not in ("FunctionName", "FilterCriteria")
        }
        for mapping in of_type(template, "AWS::Lambda::EventSourceMapping").values()
    }
    assert mappings == EVENT_SOURCES[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_each_role_s_actions_per_resource(templates: dict[str, dict[str, Any]], stack: str) -> None:
    """Every statement of the stack's role policies allows exactly these actions on exactly these
    resources (no conditions, no denies in the reference stacks: asserted too)."""
    template = templates[stack]
    grants: dict[str, dict[str, set[str]]] = {}
    for policy in of_type(template, "AWS::IAM::Policy").values():
        [role] = policy["Roles"]
        by_resource = grants.setdefault(render(template, role), {})
        for statement in policy["PolicyDocument"]["Statement"]:
            assert set(statement) == {"Effect", "Action", "Resource"}, statement
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            for resource in (
                statement["Resource"]
                if isinstance(statement["Resource"], list)
                else [statement["Resource"]]
            ):
                by_resource.setdefault(render(template, resource), set()).update(
                    actions if isinstance(actions, list) else [actions]
                )
    written = {
        role: {resource: " ".join(sorted(actions)) for resource, actions in by_resource.items()}
        for role, by_resource in grants.items()
    }
    assert written == GRANTS[stack]
