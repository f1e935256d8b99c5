"""One justification per deliberate choice, honoured by every scanner platform teams run.

Each concern of :data:`CONCERNS` carries one reason and the rule ids it answers in each
scanner. :func:`justify` writes it once on the narrowest construct: a cdk-nag acknowledgement,
and in-template metadata on each resource under it that a rule inspects (checkov
``Metadata.checkov.skip``, cfn-lint ``Metadata.cfn-lint.config.ignore_checks``, cfn-guard
``Metadata.guard.SuppressedRules``), plus ``Metadata.justifications`` naming the concern.

cdk-nag ids are written as its report prints them after "Acknowledge with"; guard rule names
are those of the AWS Guard rules registry (the AWS Config managed rule identifiers).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct


@dataclass(frozen=True)
class Concern:
    """A deliberate choice, why it is right, and the rules of each scanner it answers."""

    reason: str
    cdk_nag: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()
    cfn_lint: tuple[str, ...] = ()
    guard: tuple[str, ...] = ()


#: The resource type each in-template rule inspects: its suppression goes on that type only.
RULE_TARGETS = {
    "CKV_AWS_27": "AWS::SQS::Queue",
    "CKV_AWS_115": "AWS::Lambda::Function",
    "CKV_AWS_116": "AWS::Lambda::Function",
    "CKV_AWS_117": "AWS::Lambda::Function",
    "CKV_AWS_120": "AWS::ApiGateway::Stage",
    "CKV_AWS_158": "AWS::Logs::LogGroup",
    "CKV_AWS_173": "AWS::Lambda::Function",
    "ES1001": "AWS::Lambda::EventSourceMapping",
    "ES1007": "AWS::Lambda::Permission",
    "ES6000": "AWS::SQS::Queue",
    "WS1004": "AWS::Lambda::Function",
    "API_GW_CACHE_ENABLED_AND_ENCRYPTED": "AWS::ApiGateway::Stage",
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED": "AWS::Logs::LogGroup",
    "LAMBDA_CONCURRENCY_CHECK": "AWS::Lambda::Function",
    "LAMBDA_DLQ_CHECK": "AWS::Lambda::Function",
    "LAMBDA_INSIDE_VPC": "AWS::Lambda::Function",
    "SQS_QUEUE_KMS_MASTER_KEY_ID_RULE": "AWS::SQS::Queue",
    "CKV_AWS_18": "AWS::S3::Bucket",
}

IAM5 = "AwsSolutions::AwsSolutions-IAM5"

#: Every justification the library makes, by name.
CONCERNS = {
    "no-resource-level-permissions": Concern(
        "Resource '*' is used only by actions that support no resource-level permissions: "
        "X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords, and the log-delivery "
        "actions Step Functions needs (logs:CreateLogDelivery, ...).",
        cdk_nag=(f"{IAM5}[Resource::*]",),
    ),
    "function-versions": Concern(
        "The wildcard covers only the versions and aliases of a function the definition "
        "invokes (CDK's LambdaInvoke grant); no other function.",
        cdk_nag=(IAM5,),
    ),
    "table-indexes": Concern(
        "The wildcard covers only the secondary indexes of this one table, which queries on "
        "them need; no other table is reachable.",
        cdk_nag=(IAM5,),
    ),
    "websocket-connections": Concern(
        "Connection ids exist only at run time: the wildcard covers posting to the "
        "connections of this one WebSocket stage, nothing else of any API.",
        cdk_nag=(IAM5,),
    ),
    "websocket-authorized-on-connect": Concern(
        "A WebSocket API authorizes once, on $connect: API Gateway accepts no authorizer on "
        "other routes, and they only run on a connection that passed $connect.",
        cdk_nag=("AwsSolutions::AwsSolutions-APIG4",),
    ),
    "api-gateway-logging-role": Concern(
        "The account-level role API Gateway writes logs with: this AWS-managed policy is the "
        "one AWS documents for it and allows only CloudWatch Logs writes.",
        cdk_nag=(
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            "service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        ),
    ),
    "no-waf-by-default": Concern(
        "No WAF by default: a web ACL costs at least $5/month per API even at idle and needs "
        "rules tuned to the API. Every method requires authorization and the stage is "
        "throttled; associate a web ACL with api.deployment_stage when the API is public.",
        cdk_nag=("AwsSolutions::AwsSolutions-APIG3",),
    ),
    "no-api-cache": Concern(
        "No response cache: a cache cluster bills by the hour (from about $14/month) even at "
        "idle, and these APIs answer per-caller reads and writes that must not be served "
        "stale. Enable caching on api.deployment_stage for read-heavy public GETs.",
        checkov=("CKV_AWS_120",),
        guard=("API_GW_CACHE_ENABLED_AND_ENCRYPTED",),
    ),
    "iam-authorization": Concern(
        "Methods use IAM (SigV4) authorization: callers are AWS principals whose requests are "
        "signed and checked against IAM policies; no user pool is involved.",
        cdk_nag=("AwsSolutions::AwsSolutions-COG4",),
    ),
    "invoked-synchronously": Concern(
        "Invoked synchronously (by API Gateway, an event source mapping or Step Functions): "
        "the caller receives every error and retries or keeps the record in its own "
        "dead-letter queue (alarmed). A function DLQ only serves asynchronous invocations.",
        cdk_nag=("Serverless::Serverless-LambdaDLQ",),
        checkov=("CKV_AWS_116",),
        guard=("LAMBDA_DLQ_CHECK",),
    ),
    "on-failure-destination": Concern(
        "Asynchronous failures go to an on-failure destination (an SQS dead-letter queue with "
        "an alarm), which AWS recommends over a function DLQ: the record carries the error "
        "as well as the event. cfn-lint-serverless ES1007 misses it: it compares the "
        "permission's function ARN with the invoke config's function name.",
        cdk_nag=("Serverless::Serverless-LambdaDLQ",),
        checkov=("CKV_AWS_116",),
        cfn_lint=("ES1007",),
        guard=("LAMBDA_DLQ_CHECK",),
    ),
    "function-dead-letter-queue": Concern(
        "Asynchronous failures go to the function's dead-letter queue (alarmed) after "
        "Lambda's retries; cfn-lint-serverless ES1007 only recognises an on-failure "
        "destination.",
        cfn_lint=("ES1007",),
    ),
    "sqs-event-source": Concern(
        "SQS event source mappings take no on-failure destination: the queue's redrive "
        "policy moves a message that keeps failing to its dead-letter queue (alarmed).",
        cdk_nag=("Serverless::Serverless-LambdaEventSourceMappingDestination",),
        cfn_lint=("ES1001",),
    ),
    "dead-letter-queue": Concern(
        "This queue is itself a dead-letter queue (of a queue, an SNS subscription, a rule "
        "target or an event source mapping): a DLQ of a DLQ would only move the problem. "
        "Messages are kept 14 days and an alarm fires on the first one. cdk-nag and "
        "cfn-lint-serverless ES6000 recognise only SQS redrive policies as DLQ use.",
        cdk_nag=(
            "Serverless::Serverless-SQSRedrivePolicy",
            "AwsSolutions::AwsSolutions-SQS3",
        ),
        cfn_lint=("ES6000",),
    ),
    "sse-sqs": Concern(
        "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which checkov does not read. "
        "A KMS key would cost $1/month and must let every sender (SNS, EventBridge) use it; "
        "SQS-managed keys need no policy.",
        checkov=("CKV_AWS_27",),
        guard=("SQS_QUEUE_KMS_MASTER_KEY_ID_RULE",),
    ),
    "log-group-service-encryption": Concern(
        "CloudWatch Logs encrypts every log group at rest with service-managed keys; a "
        "customer-managed key per log group would cost $1/month each and its policy must "
        "admit the regional Logs principal. Give log_group= with a key where policy demands.",
        checkov=("CKV_AWS_158",),
        guard=("CLOUDWATCH_LOG_GROUP_ENCRYPTED",),
    ),
    "function-log-group": Concern(
        "The function logs to its own log group, with explicit retention, through "
        "LoggingConfig.LogGroup; cfn-lint-serverless WS1004 only recognises a log group "
        "named /aws/lambda/<function name>.",
        cfn_lint=("WS1004",),
    ),
    "unreserved-concurrency": Concern(
        "No reserved concurrency by default: a reservation takes capacity from every other "
        "function of the account and caps this one. Load is bounded at the source (API "
        "stage throttling, event source maximum concurrency); reserve concurrency through "
        "function options where a downstream needs a hard cap.",
        checkov=("CKV_AWS_115",),
        guard=("LAMBDA_CONCURRENCY_CHECK",),
    ),
    "no-vpc": Concern(
        "No VPC: the function reaches only AWS service endpoints, over TLS and with IAM "
        "authorization, nothing private. A VPC would add NAT or interface endpoint costs for "
        "no isolation gain; give vpc in function options to reach private resources.",
        checkov=("CKV_AWS_117",),
        guard=("LAMBDA_INSIDE_VPC",),
    ),
    "no-secrets-in-environment": Concern(
        "The environment holds only resource names and settings, never secrets; Lambda "
        "encrypts it at rest with an AWS-managed key. Keep secrets in Secrets Manager.",
        checkov=("CKV_AWS_173",),
    ),
    "cluster-tasks": Concern(
        "Task ids exist only at run time: the wildcard covers updating the scale-in "
        "protection of this one cluster's tasks (ecs:UpdateTaskProtection), nothing else.",
        cdk_nag=(IAM5,),
    ),
    "container-environment": Concern(
        "The container environment holds only resource names and settings, never secrets "
        "(keep those in Secrets Manager and pass them as container secrets).",
        cdk_nag=("AwsSolutions::AwsSolutions-ECS2",),
    ),
    "ecr-authorization-token": Concern(
        "ecr:GetAuthorizationToken supports no resource-level permissions; the execution "
        "role pulls only this task's image (its other ECR actions name the repository).",
        cdk_nag=(f"{IAM5}[Resource::*]",),
    ),
    "rule-without-targets": Concern(
        "The rule has no targets, so nothing can fail to be delivered: it only counts the "
        "matching events (MatchedEvents), which an alarm watches.",
        cdk_nag=("Serverless::Serverless-EventBusDLQ",),
    ),
    "no-server-access-logs": Concern(
        "No server access logs: writers are AWS services acting through one role each (a "
        "delivery stream's), readers need IAM permission, and access logs would need a "
        "second bucket of their own. Give server_access_logs_bucket in bucket_props, or "
        "turn on CloudTrail data events, where an audit trail of object reads is required.",
        cdk_nag=("AwsSolutions::AwsSolutions-S1",),
        checkov=("CKV_AWS_18",),
    ),
    "firehose-kinesis-source": Concern(
        "Firehose accepts no server-side encryption setting on a stream whose source is a "
        "Kinesis data stream: the records stay encrypted at rest in the source stream (KMS) "
        "and in the destination bucket (SSE-KMS).",
        cdk_nag=("AwsSolutions::AwsSolutions-KDF1",),
    ),
    "delivered-objects": Concern(
        "Firehose names each object when it delivers it (prefix, stream name, time, random "
        "id): the wildcard covers the objects of this one bucket, with only the actions "
        "Firehose documents for an S3 destination (AbortMultipartUpload, GetObject, PutObject).",
        cdk_nag=(IAM5,),
    ),
    "dynamodb-list-streams": Concern(
        "dynamodb:ListStreams supports no resource-level permissions; it only lists stream "
        "ARNs. The pipe reads records of this one table's stream only (DescribeStream, "
        "GetShardIterator and GetRecords name the stream).",
        cdk_nag=(f"{IAM5}[Resource::*]",),
    ),
}


def justify(scope: IConstruct, concern: str | Sequence[str], finding: str = "") -> None:
    """Answer ``concern`` (a key of :data:`CONCERNS`, or a list of keys) on ``scope`` in
    every scanner.

    ``finding`` completes cdk-nag ids of rules with per-item findings (IAM5:
    ``[Resource::...]``). The metadata goes on each resource under ``scope`` that a rule
    of a concern inspects; several concerns at once write each resource's metadata once.
    """
    concerns = [concern] if isinstance(concern, str) else list(concern)
    declared = [(concern, CONCERNS[concern]) for concern in concerns]
    acknowledgments = [
        (rule if rule.endswith("]") else rule + finding, answer.reason)
        for _, answer in declared
        for rule in answer.cdk_nag
    ]
    if acknowledgments:
        validations = Validations.of(scope)
        for rule, reason in acknowledgments:
            validations.acknowledge(Acknowledgment(id=rule, reason=reason))
    in_template = [
        (c, answer) for c, answer in declared if answer.checkov + answer.cfn_lint + answer.guard
    ]
    if in_template:
        for each in scope.node.find_all():
            if isinstance(each, CfnResource):
                _suppress(each, in_template)


#: The CloudFormation type of each L1 class of aws-cdk-lib met so far (one jsii call per
#: class, not per resource). Other classes, ``CfnResource`` itself included, may stand for
#: any type: they are asked each time.
_TYPE_OF_CLASS: dict[type, str] = {}


def _resource_type(resource: CfnResource) -> str:
    kind = type(resource)
    if kind is CfnResource or not kind.__module__.startswith("aws_cdk."):
        return resource.cfn_resource_type
    if kind not in _TYPE_OF_CLASS:
        _TYPE_OF_CLASS[kind] = resource.cfn_resource_type
    return _TYPE_OF_CLASS[kind]


def _suppress(resource: CfnResource, concerns: list[tuple[str, Concern]]) -> None:
    """Write the suppressions of ``concerns`` that apply to ``resource``'s type, one metadata
    update per key."""
    resource_type = _resource_type(resource)

    def applies(rules: tuple[str, ...]) -> list[str]:
        return [rule for rule in rules if RULE_TARGETS[rule] == resource_type]

    additions: dict[tuple[str, ...], list[Any]] = {}
    for concern, declared in concerns:
        checkov, cfn_lint, guard = (
            applies(declared.checkov),
            applies(declared.cfn_lint),
            applies(declared.guard),
        )
        if not (checkov or cfn_lint or guard):
            continue
        for place, items in (
            (("justifications",), [concern]),
            (("checkov", "skip"), [{"id": rule, "comment": declared.reason} for rule in checkov]),
            (("cfn-lint", "config", "ignore_checks"), cfn_lint),
            (("guard", "SuppressedRules"), guard),
        ):
            if items:  # keys in the order the concerns first need them
                additions.setdefault(place, []).extend(items)
    for (key, *path), items in additions.items():
        _extend(resource, key, path, items)


def _extend(resource: CfnResource, key: str, path: list[str], items: Sequence[object]) -> None:
    """Append ``items`` to the list at ``path`` inside ``resource``'s metadata ``key``."""
    metadata: Any = resource.get_metadata(key) or ({} if path else [])
    node = metadata
    for part in path[:-1]:
        node = node.setdefault(part, {})
    listed = node.setdefault(path[-1], []) if path else node
    listed.extend(item for item in items if item not in listed)
    resource.add_metadata(key, metadata)


def as_nag_prints(stack: Stack, value: str) -> str:
    """``value`` as cdk-nag prints it in a finding id: literals as they are, references as
    ``<LogicalId>``. Env-pinned stacks (and the partition-literals feature flag) turn the
    region, account and partition into literals, so the id is never written by hand."""
    resolved = stack.resolve(value)
    parts = resolved["Fn::Join"][1] if isinstance(resolved, dict) else [resolved]
    return "".join(part if isinstance(part, str) else f"<{part['Ref']}>" for part in parts)
