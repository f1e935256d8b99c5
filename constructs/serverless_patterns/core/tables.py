"""DynamoDB tables: on-demand, point-in-time recovery, encrypted, retained."""

import enum

from aws_cdk import CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from serverless_patterns.core.compliance import justify
from serverless_patterns.core.props import merge


class TableAccess(enum.Enum):
    """What a pattern's function may do with its table."""

    READ = "read"
    READ_WRITE = "read_write"


def table(
    scope: Construct,
    construct_id: str,
    *,
    props: dynamodb.TablePropsV2 | None = None,
    stream: dynamodb.StreamViewType | None = None,
) -> dynamodb.TableV2:
    """A table with the library's defaults; ``props`` override any of them.

    Defaults: partition key ``pk`` (string), on-demand billing, point-in-time recovery,
    encryption with the AWS-managed KMS key, and ``RemovalPolicy.RETAIN`` so deleting the
    stack never deletes the data; a stream of ``stream`` records if a pattern asks for one.
    """
    settings = merge(
        {
            **({"dynamo_stream": stream} if stream is not None else {}),
            "partition_key": dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            "billing": dynamodb.Billing.on_demand(),
            "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            "encryption": dynamodb.TableEncryptionV2.aws_managed_key(),
            "removal_policy": RemovalPolicy.RETAIN,
        },
        props,
    )
    return dynamodb.TableV2(scope, construct_id, **settings)


def grant(table: dynamodb.ITable, grantee: iam.IGrantable, access: TableAccess) -> iam.Grant:
    """Grant ``grantee`` data-plane access to ``table`` (and its indexes): nothing more."""
    if access is TableAccess.READ:
        granted = table.grant_read_data(grantee)
    else:
        granted = table.grant_read_write_data(grantee)
    resource = table.node.default_child
    if isinstance(resource, CfnResource):
        logical_id = Stack.of(table).resolve(resource.logical_id)
        principal = grantee.grant_principal  # a role defined in the app is a construct
        if isinstance(principal, Construct):
            justify(principal, "table-indexes", finding=f"[Resource::<{logical_id}.Arn>/index/*]")
    return granted
