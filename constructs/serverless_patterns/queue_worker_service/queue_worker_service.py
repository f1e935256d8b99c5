"""QueueWorkerService: SQS (DLQ) -> a Fargate worker service that scales 0..N on queue depth."""

from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core import alarms as alarm_defaults
from serverless_patterns.core import containers
from serverless_patterns.core.compliance import as_nag_prints, justify
from serverless_patterns.core.logs import DEFAULT_LOG_RETENTION, log_group
from serverless_patterns.core.props import merge
from serverless_patterns.core.queues import (
    dead_letter_queue,
    queue,
)
from serverless_patterns.core.tables import table
from serverless_patterns.queue_worker_service.validation import validate

#: The worker runtime and the Dockerfile of its image (``queue_worker``).
RUNTIME = Path(__file__).parents[1] / "runtime" / "queue_worker"
DEFAULT_PROCESSOR = "app.process"
DEFAULT_VISIBILITY_TIMEOUT = Duration.minutes(2)
DEFAULT_RETRY_DELAY = Duration.seconds(30)
#: A job record lives as long as its message could wait in the dead-letter queue.
JOB_RETENTION = Duration.days(14)
#: What the runtime calls, and nothing else.
QUEUE_ACTIONS = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"]
TABLE_ACTIONS = ["dynamodb:UpdateItem"]
PROTECTION_ACTIONS = ["ecs:UpdateTaskProtection"]


class QueueWorkerService(Construct):
    """Run your ``process(job)`` in containers that consume a queue, from 0 tasks to N.

    A Fargate service on ARM64 consumes an SQS queue with the library's worker runtime
    (``runtime/queue_worker``): long polling, batches, a heartbeat that keeps messages of
    long jobs invisible (up to SQS's 12 hours), deletion only after success, a jobs table
    keyed by message id so a duplicate delivery is not processed again, the dead-letter queue
    after ``max_receive_count`` receives, a graceful stop on SIGTERM (the job in hand
    finishes, the rest of the batch is released at once) and task scale-in protection while
    a task holds messages. Your code is only ``process(job: dict)``; raise to retry.

    The service scales on the queue's visible + in-flight messages: 0 tasks when both are 0
    (idle cost: nothing but the alarms), 1 task from the first message, then one task per
    ``messages_per_task`` up to ``max_tasks`` (step scaling to an exact count, one-minute
    metrics). The first task of a burst starts a minute or more after the first message:
    CloudWatch's SQS metrics arrive once a minute, then Fargate pulls and starts the image.

    Network: a new VPC without NAT gateways, tasks in its public subnets with a public IP
    and a security group that admits nothing (outbound HTTPS only); or, with
    ``vpc_endpoints=True``, isolated subnets reaching AWS through VPC endpoints (about $58 a
    month in two zones). Container Insights, logs kept ``log_retention``, and alarms: the
    dead-letter queue, messages waiting while no task runs, tasks that fail.

    Deploying needs Docker with BuildKit (``cdk deploy`` builds the ARM64 image from
    ``code`` and pushes it to the bootstrap repository); synthesis does not.

    Attributes: ``queue``, ``dead_letter_queue`` (``None`` for an imported queue), ``table``,
    ``vpc``, ``cluster``, ``task_definition``, ``container``, ``service``, ``log_group``,
    ``scaling_metric``, ``scaling_policy``, ``task_failures_rule``, ``alarms``.

    Smallest use::

        QueueWorkerService(self, "Thumbnails", code="handlers/thumbnails")

    :param code: the folder of your worker code: the module holding ``processor`` and,
        optionally, a ``requirements.txt``; it becomes the image's ``/app``.
    :param processor: ``module.function`` of your ``process(job)``. Default: ``"app.process"``.
    :param environment: more environment variables for your code (never secrets: use
        Secrets Manager). Default: none.
    :param cpu: the task's CPU units (256 = 0.25 vCPU). Default: 256.
    :param memory_limit_mib: the task's memory, valid for ``cpu`` on Fargate. Default: 512.
    :param max_tasks: the most tasks at once, 1-1,000. Default: 10.
    :param messages_per_task: the backlog one task is expected to work off. Default: 10.
    :param batch_size: messages per receive, 1-10. Default: 10.
    :param visibility_timeout: how long a received message stays invisible; the heartbeat
        renews it every third of this while its job runs. 30 s to 12 h. Default: 2 minutes.
    :param retry_delay: how long a failed job waits before its next attempt, 0 s to
        ``visibility_timeout``. Default: 30 s.
    :param max_receive_count: receives before SQS moves a message to the dead-letter queue
        (1-1,000). Default: 5, or the one of the dead-letter queue you give.
    :param queue_props: overrides for the queue's defaults (SQS-managed encryption, TLS only,
        a new dead-letter queue kept 14 days, ``visibility_timeout``). Standard queues only.
    :param existing_queue: your own queue (with a redrive policy: give ``max_receive_count``
        for an imported one).
    :param table_props: overrides for the jobs table's defaults (string key ``pk``, TTL on
        ``expires_at``, on-demand, point-in-time recovery, retained).
    :param existing_table: your own jobs table: string partition key ``pk``.
    :param existing_vpc: your own VPC: tasks go into its private subnets with egress (your
        NAT or endpoints), without a public IP. Default: a new VPC as described above.
    :param vpc_endpoints: the new VPC's tasks reach AWS through VPC endpoints instead of the
        internet. Default: False.
    :param log_retention: how long the worker's logs are kept. Default: one month.
    :param alarm_topic: an SNS topic that receives every alarm of ``alarms`` and its recovery
        (not the scaling policy's own two alarms, which change state with every burst: prefer
        this, or ``core.alarms.notify(service.alarms, topic)``, to ``notify_every_alarm``).
    :param service_name: names the service in the worker's logs. Default: the id.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: str,
        processor: str = DEFAULT_PROCESSOR,
        environment: dict[str, str] | None = None,
        cpu: int = 256,
        memory_limit_mib: int = 512,
        max_tasks: int = 10,
        messages_per_task: int = 10,
        batch_size: int = 10,
        visibility_timeout: Duration = DEFAULT_VISIBILITY_TIMEOUT,
        retry_delay: Duration = DEFAULT_RETRY_DELAY,
        max_receive_count: int | None = None,
        queue_props: sqs.QueueProps | None = None,
        existing_queue: sqs.IQueue | None = None,
        table_props: dynamodb.TablePropsV2 | None = None,
        existing_table: dynamodb.ITable | None = None,
        existing_vpc: ec2.IVpc | None = None,
        vpc_endpoints: bool = False,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        alarm_topic: sns.ITopic | None = None,
        service_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        service_name = service_name or construct_id
        dead_letters, max_receive_count = validate(
            self,
            code=code,
            processor=processor,
            environment=environment or {},
            cpu=cpu,
            memory_limit_mib=memory_limit_mib,
            max_tasks=max_tasks,
            messages_per_task=messages_per_task,
            batch_size=batch_size,
            visibility_timeout=visibility_timeout,
            retry_delay=retry_delay,
            max_receive_count=max_receive_count,
            queue_props=queue_props,
            existing_queue=existing_queue,
            table_props=table_props,
            existing_table=existing_table,
            existing_vpc=existing_vpc,
            vpc_endpoints=vpc_endpoints,
            alarm_topic=alarm_topic,
        )

        # The queue and its dead-letter queue; the jobs table (idempotency by message id).
        if existing_queue is not None:
            self.queue: sqs.IQueue = existing_queue
        else:
            if dead_letters is None:
                dead_letters = dead_letter_queue(self, "DeadLetterQueue")
            self.queue = queue(
                self,
                "Queue",
                dead_letter_queue=dead_letters,
                props=sqs.QueueProps(
                    **merge({"visibility_timeout": visibility_timeout}, queue_props)
                ),
                max_receive_count=max_receive_count,
            )
        self.dead_letter_queue: sqs.IQueue | None = dead_letters
        self.table: dynamodb.ITable = existing_table or table(
            self,
            "Table",
            props=dynamodb.TablePropsV2(
                **merge(
                    {
                        "partition_key": dynamodb.Attribute(
                            name="pk", type=dynamodb.AttributeType.STRING
                        ),
                        "time_to_live_attribute": "expires_at",
                    },
                    table_props,
                )
            ),
        )

        # The network, the cluster and the task.
        if existing_vpc is not None:
            self.vpc: ec2.IVpc = existing_vpc
            subnets, public_ip = (
                ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                False,
            )
        else:
            self.vpc, subnets, public_ip = containers.worker_network(
                self, "Vpc", endpoints=vpc_endpoints
            )
        self.cluster: ecs.Cluster = containers.cluster(self, "Cluster", self.vpc)
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_limit_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.log_group: logs.LogGroup = log_group(self, "Logs", retention=log_retention)
        self.container = self.task_definition.add_container(
            "Worker",
            image=containers.image_from_directory(str(RUNTIME), code),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=self.log_group),
            environment={
                **(environment or {}),
                "QUEUE_URL": self.queue.queue_url,
                "TABLE_NAME": self.table.table_name,
                "PROCESSOR": processor,
                "MAX_RECEIVE_COUNT": str(max_receive_count),
                "VISIBILITY_TIMEOUT_SECONDS": str(int(visibility_timeout.to_seconds())),
                "BATCH_SIZE": str(batch_size),
                "RETRY_DELAY_SECONDS": str(int(retry_delay.to_seconds())),
                "JOB_RETENTION_SECONDS": str(int(JOB_RETENTION.to_seconds())),
                "SERVICE_NAME": service_name,
            },
            stop_timeout=containers.STOP_TIMEOUT,
            readonly_root_filesystem=True,
        )
        justify(self.task_definition, "container-environment")
        execution_role = self.task_definition.obtain_execution_role()
        justify(execution_role, "ecr-authorization-token")
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=0,
            min_healthy_percent=0,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            vpc_subnets=subnets,
            assign_public_ip=public_ip,
            security_groups=[
                containers.egress_only_security_group(self, "SecurityGroup", self.vpc)
            ],
        )
        self._grant_worker_calls()

        # Scaling 0..N on the backlog; the alarms.
        self.scaling_metric, self.scaling_policy = containers.scale_on_queue_depth(
            self.service, self.queue, max_tasks=max_tasks, messages_per_task=messages_per_task
        )
        self.task_failures_rule: events.Rule
        self.task_failures_rule, failures = containers.task_failures_alarm(
            self, "TaskFailures", self.service
        )
        self.alarms: list[cloudwatch.Alarm] = [
            containers.waiting_without_tasks_alarm(
                self, "MessagesWaitingWithoutTasks", self.queue, self.service
            ),
            failures,
        ]
        if self.dead_letter_queue is not None:
            self.alarms.insert(
                0,
                alarm_defaults.dead_letter_queue_alarm(
                    self, "DeadLetterQueueMessages", self.dead_letter_queue
                ),
            )
        alarm_defaults.notify(self.alarms, alarm_topic)

    @property
    def task_role(self) -> iam.IRole:
        """The role your code runs with: grant it what ``process`` calls."""
        return self.task_definition.task_role

    def _grant_worker_calls(self) -> None:
        """Exactly what the runtime calls: receive/extend/delete, the job record, protection."""
        role = self.task_definition.task_role
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=QUEUE_ACTIONS, resources=[self.queue.queue_arn])
        )
        if self.queue.encryption_master_key is not None:
            self.queue.encryption_master_key.grant_decrypt(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=TABLE_ACTIONS, resources=[self.table.table_arn])
        )
        stack = Stack.of(self)
        tasks = stack.format_arn(
            service="ecs", resource="task", resource_name=f"{self.cluster.cluster_name}/*"
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=PROTECTION_ACTIONS, resources=[tasks])
        )
        justify(role, "cluster-tasks", finding=f"[Resource::{as_nag_prints(stack, tasks)}]")
