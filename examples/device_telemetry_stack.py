"""Device telemetry: a fleet of devices streams readings; per-device aggregates and a raw copy.

Devices (or the gateway in front of them) call Kinesis ``PutRecords`` with the device id as
partition key, signed with the producer role's credentials (an IoT role alias or a Cognito
identity pool hands devices that role). A ``StreamIngestion`` consumer keeps per-device,
per-minute aggregates (count, sum, min, max) in DynamoDB, counting each record once however
often Lambda delivers it; Firehose copies every raw record to S3, GZIP-compressed under
``data/year=.../month=.../day=.../hour=.../`` for Athena or a later replay.
"""

from pathlib import Path

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from serverless_patterns import StreamIngestion
from serverless_patterns.core.alarms import notify_every_alarm, operations_topic
from serverless_patterns.core.functions import asset_code
from serverless_patterns.core.tables import TableAccess, grant, table

HANDLERS = Path(__file__).parent / "handlers"
#: Records per invocation: each costs three small DynamoDB writes, well within the timeout.
BATCH_SIZE = 100
CONSUMER_TIMEOUT = Duration.seconds(60)


class DeviceTelemetryStack(Stack):
    """Telemetry ingestion for a device fleet: stream, aggregates, raw archive."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="serverless-patterns: StreamIngestion reference (device telemetry)",
        )
        aggregates = table(
            self,
            "Aggregates",
            props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
                time_to_live_attribute="expires_at",  # the consumer's delivery markers
            ),
        )
        telemetry = StreamIngestion(
            self,
            "Telemetry",
            code=asset_code(str(HANDLERS / "device_telemetry")),
            function_options=lambda_.FunctionOptions(
                timeout=CONSUMER_TIMEOUT,
                environment={"AGGREGATES_TABLE": aggregates.table_name},
            ),
            batch_size=BATCH_SIZE,
            max_batching_window=Duration.seconds(5),
            archive=True,
        )
        grant(aggregates, telemetry.function, TableAccess.READ_WRITE)
        # The device fleet's credentials: put records on this stream, nothing else.
        producers = iam.Role(
            self,
            "DeviceFleetProducer",
            assumed_by=iam.AccountPrincipal(self.account),
            description="Puts device readings on the telemetry stream (assumed for devices)",
        )
        telemetry.stream.grant_write(producers)
        CfnOutput(self, "StreamName", value=telemetry.stream.stream_name)
        CfnOutput(self, "ProducerRoleArn", value=producers.role_arn)
        CfnOutput(self, "AggregatesTableName", value=aggregates.table_name)
        assert telemetry.archive is not None
        CfnOutput(self, "ArchiveBucketName", value=telemetry.archive.bucket.bucket_name)
        notify_every_alarm(self, operations_topic(self))
