"""Fargate services: a network without NAT, an ARM64 image from a Dockerfile, queue scaling."""

from aws_cdk import Duration, FileSystem
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core import alarms
from serverless_patterns.core.compliance import justify
from serverless_patterns.core.logs import log_group

#: Interface endpoints a task in isolated subnets needs: pull the image (ECR API and registry),
#: write logs, consume the queue. Each costs about $7.30 a month per Availability Zone
#: (us-east-1, $0.01 an hour) plus $0.01 per GB processed ("AWS PrivateLink pricing").
INTERFACE_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
}
#: Gateway endpoints (free): image layers live in S3; DynamoDB for the jobs table.
GATEWAY_ENDPOINTS = {
    "S3": ec2.GatewayVpcEndpointAwsService.S3,
    "DynamoDb": ec2.GatewayVpcEndpointAwsService.DYNAMODB,
}
AVAILABILITY_ZONES = 2
#: Fargate's longest stop timeout: SIGTERM, then SIGKILL this much later.
STOP_TIMEOUT = Duration.seconds(120)


def worker_network(
    scope: Construct, construct_id: str, *, endpoints: bool
) -> tuple[ec2.Vpc, ec2.SubnetSelection, bool]:
    """A VPC without NAT gateways: answer (vpc, the tasks' subnets, assign a public IP).

    Without ``endpoints``: public subnets, tasks with a public IP and a security group that
    admits nothing in. Idle cost $0; a public IPv4 address costs $0.005 an hour while a task
    runs ("Amazon VPC pricing"). With ``endpoints``: isolated subnets, no internet route,
    the :data:`INTERFACE_ENDPOINTS` (about $58 a month in two zones) and the free
    :data:`GATEWAY_ENDPOINTS`. Rejected traffic is logged (flow logs, kept one month).
    """
    subnet_type = ec2.SubnetType.PRIVATE_ISOLATED if endpoints else ec2.SubnetType.PUBLIC
    flow_log_group = log_group(scope, f"{construct_id}FlowLogs")
    vpc = ec2.Vpc(
        scope,
        construct_id,
        max_azs=AVAILABILITY_ZONES,
        nat_gateways=0,
        # No task uses the default group; restricting it takes a custom-resource function.
        restrict_default_security_group=False,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Tasks", subnet_type=subnet_type, cidr_mask=24)
        ],
        flow_logs={
            "Rejected": ec2.FlowLogOptions(
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
                traffic_type=ec2.FlowLogTrafficType.REJECT,
            )
        },
    )
    if endpoints:
        for name, gateway in GATEWAY_ENDPOINTS.items():
            vpc.add_gateway_endpoint(f"{name}Endpoint", service=gateway)
        for name, interface in INTERFACE_ENDPOINTS.items():
            vpc.add_interface_endpoint(f"{name}Endpoint", service=interface)
    return vpc, ec2.SubnetSelection(subnet_type=subnet_type), not endpoints


def egress_only_security_group(
    scope: Construct, construct_id: str, vpc: ec2.IVpc
) -> ec2.SecurityGroup:
    """Nothing in; out only HTTPS (AWS APIs and the image registry)."""
    group = ec2.SecurityGroup(
        scope,
        construct_id,
        vpc=vpc,
        allow_all_outbound=False,
        description="Queue worker tasks: no inbound traffic, outbound HTTPS only",
    )
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS service APIs")
    return group


def cluster(scope: Construct, construct_id: str, vpc: ec2.IVpc) -> ecs.Cluster:
    """A cluster with Container Insights (per-service CPU, memory, running tasks)."""
    return ecs.Cluster(
        scope, construct_id, vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
    )


def image_from_directory(runtime: str, code: str) -> ecs.ContainerImage:
    """An ARM64 image built from ``runtime``'s Dockerfile with ``code`` as its ``worker`` context.

    Synthesis only stages the runtime folder and records the build; ``cdk deploy`` builds and
    pushes it (Docker with BuildKit, ARM64 emulation on an x86 machine). The asset hash
    covers ``code`` too, so a change of your code builds a new image.
    """
    return ecs.ContainerImage.from_asset(
        runtime,
        platform=ecr_assets.Platform.LINUX_ARM64,
        build_contexts={"worker": code},
        extra_hash=FileSystem.fingerprint(code, exclude=["__pycache__", "*.pyc"]),
        exclude=["__pycache__", "*.pyc"],
    )


def scale_on_queue_depth(
    service: ecs.FargateService,
    queue: sqs.IQueue,
    *,
    max_tasks: int,
    messages_per_task: int,
) -> tuple[cloudwatch.MathExpression, autoscaling.StepScalingPolicy]:
    """Step scaling to an exact task count from the queue's visible + in-flight messages.

    0 messages -> 0 tasks; 1 -> 1 task; then one task per ``messages_per_task``, in doubling
    steps, up to ``max_tasks``. Counting in-flight messages keeps a task running while it
    works; task scale-in protection (set by the runtime) guards the rest.
    """
    backlog = cloudwatch.MathExpression(
        expression="visible + inflight",
        using_metrics={
            "visible": queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            "inflight": queue.metric_approximate_number_of_messages_not_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
        },
        label="Messages waiting or in flight",
        period=Duration.minutes(1),
    )
    scaling = service.auto_scale_task_count(min_capacity=0, max_capacity=max_tasks)
    steps = [autoscaling.ScalingInterval(upper=0, change=0)]
    tasks = 1
    while True:
        steps.append(
            autoscaling.ScalingInterval(lower=(tasks - 1) * messages_per_task + 1, change=tasks)
        )
        if tasks >= max_tasks:
            break
        tasks = min(tasks * 2, max_tasks)
    scaling.scale_on_metric(
        "ScaleOnQueueDepth",
        metric=backlog,
        scaling_steps=steps,
        adjustment_type=autoscaling.AdjustmentType.EXACT_CAPACITY,
        cooldown=Duration.minutes(1),
        evaluation_periods=1,
    )
    # scale_on_metric returns nothing: the policy is the scalable target's new child.
    [policy] = [
        child
        for child in scaling.node.find_all()
        if isinstance(child, autoscaling.StepScalingPolicy)
    ]
    return backlog, policy


def waiting_without_tasks_alarm(
    scope: Construct, construct_id: str, queue: sqs.IQueue, service: ecs.FargateService
) -> cloudwatch.Alarm:
    """Messages waited a whole 5 minutes while no task ran: scaling or the tasks are broken."""
    return alarms.alarm(
        scope,
        construct_id,
        cloudwatch.MathExpression(
            expression="IF(visible > 0 AND FILL(running, 0) < 1, 1, 0)",
            using_metrics={
                "visible": queue.metric_approximate_number_of_messages_visible(
                    period=alarms.PERIOD, statistic="Minimum"
                ),
                "running": cloudwatch.Metric(
                    namespace="ECS/ContainerInsights",
                    metric_name="RunningTaskCount",
                    dimensions_map={
                        "ClusterName": service.cluster.cluster_name,
                        "ServiceName": service.service_name,
                    },
                    period=alarms.PERIOD,
                    statistic="Maximum",
                ),
            },
            label="Messages waiting, no task running",
            period=alarms.PERIOD,
        ),
        "Messages waited 5 minutes and no task ran: check the service's events and scaling.",
    )


def task_failures_alarm(
    scope: Construct, construct_id: str, service: ecs.FargateService
) -> tuple[events.Rule, cloudwatch.Alarm]:
    """Tasks of ``service`` that failed to start or whose container exited on its own.

    ECS emits an "ECS Task State Change" event when a task stops, with its ``stopCode``
    ("Amazon ECS task state change events"); a scale-in or deployment stops tasks with
    ``ServiceSchedulerInitiated``, which is not a failure. The rule needs no target: the
    alarm reads its ``MatchedEvents`` metric ("Monitoring Amazon EventBridge").
    """
    rule = events.Rule(
        scope,
        f"{construct_id}Rule",
        description="Tasks of the queue worker service that failed",
        event_pattern=events.EventPattern(
            source=["aws.ecs"],
            detail_type=["ECS Task State Change"],
            detail={
                "clusterArn": [service.cluster.cluster_arn],
                "group": [f"service:{service.service_name}"],
                "lastStatus": ["STOPPED"],
                "stopCode": ["TaskFailedToStart", "EssentialContainerExited"],
            },
        ),
    )
    justify(rule, "rule-without-targets")
    alarm = alarms.alarm(
        scope,
        construct_id,
        cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="MatchedEvents",
            dimensions_map={"RuleName": rule.rule_name},
            period=alarms.PERIOD,
            statistic="Sum",
        ),
        "Worker tasks failed to start or exited: see the stopped tasks' reasons and logs.",
    )
    return rule, alarm
