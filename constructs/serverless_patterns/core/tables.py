"""DynamoDB tables: on-demand, point-in-time recovery, encrypted, retained."""

import enum
from collections.abc import Sequence

from aws_cdk import Annotations, CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from serverless_patterns.core.compliance import justify
from serverless_patterns.core.jsii_internals import cfn_properties
from serverless_patterns.core.props import merge, options_of
from serverless_patterns.core.validation import Problems


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


def validate_stream(
    scope: Construct,
    problems: Problems,
    *,
    props: dynamodb.TablePropsV2 | None,
    existing: dynamodb.ITable | dynamodb.ITableV2 | None,
    view_types: Sequence[dynamodb.StreamViewType],
    reader: str,
) -> None:
    """The table's stream must carry one of ``view_types``; ``reader`` says who needs which
    images (it completes each message, e.g. "the notifier reads new images").

    ``table_props.dynamo_stream`` is checked; so is the stream of an ``existing`` table defined
    in the app. An imported table must have a stream ARN; its view type cannot be read at
    synth, so ``scope`` gets a warning to check it.
    """
    names = " or ".join(view_type.name for view_type in view_types)
    given = options_of(props).get("dynamo_stream")
    if given is not None and given not in view_types:
        problems.add(
            "table_props.dynamo_stream",
            given.name,
            f"{reader}: use {' or '.join(f'StreamViewType.{v.name}' for v in view_types)}, "
            "or omit it",
        )
    if existing is None:
        return
    resource = existing.node.default_child
    defined_here = isinstance(resource, dynamodb.CfnTable | dynamodb.CfnGlobalTable)
    view_type = (
        cfn_properties(resource).get("streamSpecification", {}).get("streamViewType")
        if defined_here
        else None
    )
    if (defined_here and view_type is None) or existing.table_stream_arn is None:
        problems.add(
            "existing_table",
            existing.node.path,
            f"has no stream: {reader}: enable one with {names} (an imported table needs "
            "table_stream_arn= in from_table_attributes)",
        )
    elif not defined_here:
        Annotations.of(scope).add_warning_v2(
            "serverless-patterns:imported-table-stream",
            f"existing_table is imported: make sure its stream's view type is {names}; {reader}.",
        )
    elif view_type not in {v.value for v in view_types}:
        problems.add(
            "existing_table",
            f"a {view_type} stream",
            f"{reader}: set the table's stream to {names}",
        )
