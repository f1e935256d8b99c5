"""QueueWorkerService as synthesized (NotificationServiceFargate's ``Worker``), one variant,
and the mistakes it refuses at construction.

AWS pages the assertions rest on:
- "Step scaling policies for Application Auto Scaling" (autoscaling/application/userguide/
  application-auto-scaling-step-scaling-policies.html): an alarm per bound; ExactCapacity
  sets the task count; step bounds are relative to the alarm's threshold.
- "Available CloudWatch metrics for Amazon SQS" (AWSSimpleQueueService/latest/
  SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html): visible and not-visible (in
  flight) messages, reported every minute.
- "Amazon ECS task definition parameters for Fargate" (AmazonECS/latest/developerguide/
  fargate-tasks-services.html): valid CPU/memory pairs, ARM64 runtime platform, a stop timeout
  of at most 120 s.
- "Amazon ECS task networking options for Fargate": a task in a public subnet needs a public
  IP to reach AWS APIs without NAT.
"""

import ast
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sqs as sqs
from serverless_patterns import QueueWorkerService
from serverless_patterns.queue_worker_service import RUNTIME

from tests.queue_worker.conftest import JOBS_KEY
from tests.support.cdk import new_app, only, resources, synth_variants
from tests.test_properties import BACKLOG, of_type, render, watched_metric

STACK = "NotificationServiceFargate"
CODE = str(RUNTIME)  # any folder will do for construction


@pytest.fixture(scope="module")
def template(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates[STACK]


def test_the_service_scales_from_zero_on_visible_and_in_flight_messages(
    template: dict[str, Any],
) -> None:
    [service] = of_type(template, "AWS::ECS::Service").values()
    assert service["DesiredCount"] == 0
    [target] = of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 10)
    policies = {
        path.rsplit("/", 1)[1]: policy["StepScalingPolicyConfiguration"]
        for path, policy in of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy").items()
    }
    assert {name: config["AdjustmentType"] for name, config in policies.items()} == {
        "LowerPolicy": "ExactCapacity",
        "UpperPolicy": "ExactCapacity",
    }
    # Bounds are relative to the thresholds: backlog <= 0 -> 0 tasks; from 1 message, doubling.
    assert policies["LowerPolicy"]["StepAdjustments"] == [
        {"MetricIntervalUpperBound": 0, "ScalingAdjustment": 0}
    ]
    upper = [
        (step.get("MetricIntervalLowerBound"), step.get("MetricIntervalUpperBound"))
        for step in policies["UpperPolicy"]["StepAdjustments"]
    ]
    tasks = [step["ScalingAdjustment"] for step in policies["UpperPolicy"]["StepAdjustments"]]
    assert (upper, tasks) == ([(0, 10), (10, 30), (30, 70), (70, 90), (90, None)], [1, 2, 4, 8, 10])
    alarms = {
        path.rsplit("/", 1)[1]: alarm
        for path, alarm in of_type(template, "AWS::CloudWatch::Alarm").items()
        if "/ScaleOnQueueDepth/" in path
    }
    assert {
        name: (alarm["ComparisonOperator"], alarm["Threshold"], alarm["EvaluationPeriods"])
        for name, alarm in alarms.items()
    } == {
        "LowerAlarm": ("LessThanOrEqualToThreshold", 0, 1),
        "UpperAlarm": ("GreaterThanOrEqualToThreshold", 1, 1),
    }
    assert {watched_metric(template, alarm) for alarm in alarms.values()} == {BACKLOG}
    assert {render(template, alarm["AlarmActions"][0]) for alarm in alarms.values()} == {
        "Worker/Service/TaskCount/Target/ScaleOnQueueDepth/LowerPolicy",
        "Worker/Service/TaskCount/Target/ScaleOnQueueDepth/UpperPolicy",
    }


def test_no_nat_gateway_and_nothing_may_connect_in(template: dict[str, Any]) -> None:
    assert resources(template, "AWS::EC2::NatGateway") == {}
    routes = of_type(template, "AWS::EC2::Route").values()
    assert {render(template, route["GatewayId"]) for route in routes} == {"Worker/Vpc/IGW"}
    [service] = of_type(template, "AWS::ECS::Service").values()
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "ENABLED"
    [group] = of_type(template, "AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in group
    assert [
        (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIp"])
        for rule in group["SecurityGroupEgress"]
    ] == [("tcp", 443, 443, "0.0.0.0/0")]


def test_the_task_runs_arm64_stops_gracefully_and_logs_with_retention(
    template: dict[str, Any],
) -> None:
    [task] = of_type(template, "AWS::ECS::TaskDefinition").values()
    assert task["RuntimePlatform"] == {
        "CpuArchitecture": "ARM64",
        "OperatingSystemFamily": "LINUX",
    }
    assert (task["Cpu"], task["Memory"], task["RequiresCompatibilities"]) == (
        "256",
        "512",
        ["FARGATE"],
    )
    [container] = task["ContainerDefinitions"]
    assert (container["StopTimeout"], container["ReadonlyRootFilesystem"]) == (120, True)
    logging = container["LogConfiguration"]
    assert logging["LogDriver"] == "awslogs"
    assert render(template, logging["Options"]["awslogs-group"]) == "Worker/Logs"
    assert of_type(template, "AWS::Logs::LogGroup")["Worker/Logs"]["RetentionInDays"] == 30
    [cluster] = of_type(template, "AWS::ECS::Cluster").values()
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]
    environment = {
        pair["Name"]: render(template, pair["Value"]) for pair in container["Environment"]
    }
    assert {
        name: environment[name]
        for name in ("QUEUE_URL", "TABLE_NAME", "PROCESSOR", "MAX_RECEIVE_COUNT")
    } == {
        "QUEUE_URL": "Worker/Queue",
        "TABLE_NAME": "Worker/Table",
        "PROCESSOR": "app.process",
        "MAX_RECEIVE_COUNT": "5",
    }
    [queue] = [
        q for path, q in of_type(template, "AWS::SQS::Queue").items() if path == "Worker/Queue"
    ]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert str(queue["VisibilityTimeout"]) == environment["VISIBILITY_TIMEOUT_SECONDS"] == "120"


def test_the_jobs_table_is_keyed_as_the_runtime_writes_it(template: dict[str, Any]) -> None:
    table = of_type(template, "AWS::DynamoDB::GlobalTable")["Worker/Table"]
    assert {key: table[key] for key in JOBS_KEY} == JOBS_KEY
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


#: The IAM action each runtime call needs ("Actions defined by Amazon SQS": the batch forms
#: are authorized by ``sqs:ChangeMessageVisibility`` and ``sqs:DeleteMessage``).
ACTIONS = {
    ("sqs", "receive_message"): "sqs:ReceiveMessage",
    ("sqs", "change_message_visibility"): "sqs:ChangeMessageVisibility",
    ("sqs", "change_message_visibility_batch"): "sqs:ChangeMessageVisibility",
    ("sqs", "delete_message_batch"): "sqs:DeleteMessage",
    ("jobs", "update_item"): "dynamodb:UpdateItem",
}


def runtime_calls() -> set[tuple[str, str]]:
    """``(client, operation)`` of every ``self.sqs.x(...)`` / ``self.jobs.x(...)`` call."""
    tree = ast.parse((RUNTIME / "queue_worker" / "worker.py").read_text())
    return {
        (node.func.value.attr, node.func.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr in ("sqs", "jobs")
    }


def test_the_task_role_allows_exactly_what_the_runtime_calls(template: dict[str, Any]) -> None:
    calls = runtime_calls()
    assert calls <= ACTIONS.keys(), f"map the new call's IAM action: {calls - ACTIONS.keys()}"
    needed = {
        "Worker/Queue.Arn": {ACTIONS[call] for call in calls if call[0] == "sqs"},
        "Worker/Table.Arn": {ACTIONS[call] for call in calls if call[0] == "jobs"},
        # TaskProtection's PUT to the agent endpoint, which calls UpdateTaskProtection.
        "ecs:task/${Worker/Cluster}/*": {"ecs:UpdateTaskProtection"},
    }
    granted: dict[str, set[str]] = {}
    for path, policy in of_type(template, "AWS::IAM::Policy").items():
        if not path.startswith("Worker/TaskDefinition/TaskRole/"):
            continue
        for statement in policy["PolicyDocument"]["Statement"]:
            resource = render(template, statement["Resource"])
            if resource in needed:
                actions = statement["Action"]
                granted.setdefault(resource, set()).update(
                    actions if isinstance(actions, list) else [actions]
                )
    assert granted == needed


def test_the_scaling_policy_and_metric_are_exposed() -> None:
    """The attributes a team builds on (dashboards, extra alarms) are the created resources."""
    service = QueueWorkerService(Stack(new_app(), "Attributes"), "Worker", code=CODE)
    assert isinstance(service.scaling_policy, autoscaling.StepScalingPolicy)
    assert service.scaling_policy.node.id == "ScaleOnQueueDepth"
    assert service.scaling_metric.label == "Messages waiting or in flight"


@pytest.fixture(scope="module")
def with_endpoints() -> dict[str, Any]:
    variants = synth_variants(
        {"Endpoints": lambda s: QueueWorkerService(s, "Worker", code=CODE, vpc_endpoints=True)}
    )
    return variants["Endpoints"].to_json()


def test_with_vpc_endpoints_tasks_have_no_route_out_and_no_public_ip(
    with_endpoints: dict[str, Any],
) -> None:
    assert resources(with_endpoints, "AWS::EC2::NatGateway") == {}
    assert resources(with_endpoints, "AWS::EC2::InternetGateway") == {}
    _, service = only(with_endpoints, "AWS::ECS::Service")
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    endpoints = resources(with_endpoints, "AWS::EC2::VPCEndpoint").values()
    names = sorted(
        (endpoint.get("VpcEndpointType", "Gateway"), str(endpoint["ServiceName"]))
        for endpoint in endpoints
    )
    assert [kind for kind, _ in names] == ["Gateway", "Gateway"] + ["Interface"] * 4
    services = " ".join(name for _, name in names)
    for service_name in ("s3", "dynamodb", "ecr.api", "ecr.dkr", "logs", "sqs"):
        assert f".{service_name}" in services, service_name


#: case -> (build the construct with the mistake, the option named, what the message says).
MISTAKES: dict[str, tuple[Callable[[Stack], Any], str, str]] = {
    "code not a folder": (
        lambda s: QueueWorkerService(s, "X", code="workers/missing"),
        "code='workers/missing'",
        "give the folder of your worker code",
    ),
    "memory invalid for the cpu": (
        lambda s: QueueWorkerService(s, "X", code=CODE, cpu=256, memory_limit_mib=4096),
        "memory_limit_mib=4096",
        "with cpu=256 Fargate takes 512-2048 in steps of 512",
    ),
    "visibility_timeout as an int": (
        lambda s: QueueWorkerService(s, "X", code=CODE, visibility_timeout=120),
        "visibility_timeout=120",
        "expected a Duration",
    ),
    "visibility_timeout past SQS's 12 hours": (
        lambda s: QueueWorkerService(s, "X", code=CODE, visibility_timeout=Duration.hours(13)),
        "visibility_timeout (s)=46800",
        "must be between 30 and 43200",
    ),
    "an environment name the runtime sets": (
        lambda s: QueueWorkerService(s, "X", code=CODE, environment={"QUEUE_URL": "x"}),
        "environment['QUEUE_URL']='x'",
        "the runtime sets it; rename it",
    ),
    "vpc_endpoints with an existing VPC": (
        lambda s: QueueWorkerService(
            s,
            "X",
            code=CODE,
            existing_vpc=ec2.Vpc.from_vpc_attributes(
                s, "Vpc", vpc_id="vpc-1", availability_zones=["a"], private_subnet_ids=["s-1"]
            ),
            vpc_endpoints=True,
        ),
        "vpc_endpoints=True",
        "applies only to the VPC created here",
    ),
    "max_tasks of 0": (
        lambda s: QueueWorkerService(s, "X", code=CODE, max_tasks=0),
        "max_tasks=0",
        "must be between 1 and 1000",
    ),
    "existing_queue without a dead-letter queue": (
        lambda s: QueueWorkerService(s, "X", code=CODE, existing_queue=sqs.Queue(s, "Jobs")),
        "existing_queue='Stack/Jobs'",
        "has no dead-letter queue: give it dead_letter_queue=sqs.DeadLetterQueue",
    ),
}


@pytest.mark.parametrize("case", MISTAKES)
def test_a_mistake_raises_one_error_naming_the_option_value_and_fix(case: str) -> None:
    build, named, expects = MISTAKES[case]
    with pytest.raises(ValueError) as raised:
        build(Stack(new_app(), "Stack"))
    problems = str(raised.value).splitlines()[1:]
    assert len(problems) == 1, problems
    assert named in problems[0]
    assert expects in problems[0]
