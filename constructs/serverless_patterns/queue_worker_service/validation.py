"""QueueWorkerService's checks: every mistake found at once, each naming the option and fix."""

import re
from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core.queues import resolve_queue, validate_existing_queue_keeps_failures
from serverless_patterns.core.topics import validate_alarm_topic
from serverless_patterns.core.validation import Problems, is_token

#: SQS: a message stays invisible at most 12 hours after it was received, extensions included.
MAX_VISIBILITY_TIMEOUT = Duration.hours(12)
#: Fargate's valid CPU units -> memory sizes (MiB) ("Amazon ECS task definition parameters").
FARGATE_SIZES = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
}
_PROCESSOR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
#: What the runtime reads from its environment (the construct sets them).
RESERVED_ENVIRONMENT = frozenset(
    {
        "QUEUE_URL",
        "TABLE_NAME",
        "PROCESSOR",
        "MAX_RECEIVE_COUNT",
        "VISIBILITY_TIMEOUT_SECONDS",
        "BATCH_SIZE",
        "RETRY_DELAY_SECONDS",
        "JOB_RETENTION_SECONDS",
        "SERVICE_NAME",
    }
)


def validate(
    construct: Construct,
    *,
    queue_props: sqs.QueueProps | None,
    existing_queue: sqs.IQueue | None,
    max_receive_count: int | None,
    **given: Any,
) -> tuple[sqs.IQueue | None, int]:
    """Raise one ValueError listing every problem of the options, else return the dead-letter
    queue if known and the max receive count the runtime works with."""
    problems = Problems("QueueWorkerService")
    _validate_worker(problems, given)
    problems.expect("queue_props", queue_props, sqs.QueueProps, "sqs.QueueProps(...)")
    problems.expect(
        "table_props", given["table_props"], dynamodb.TablePropsV2, "dynamodb.TablePropsV2(...)"
    )
    problems.exclusive(existing_queue=existing_queue, queue_props=queue_props)
    problems.exclusive(existing_table=given["existing_table"], table_props=given["table_props"])
    if given["existing_vpc"] is not None and given["vpc_endpoints"]:
        problems.add("vpc_endpoints", True, "applies only to the VPC created here; remove it")
    validate_alarm_topic(problems, given["alarm_topic"])
    problems.raise_if_any()
    resolved = _dead_letters(construct, problems, queue_props, existing_queue, max_receive_count)
    problems.raise_if_any()
    return resolved


def _validate_worker(problems: Problems, given: dict[str, Any]) -> None:
    code, processor = given["code"], given["processor"]
    if not isinstance(code, str) or not Path(code).is_dir():
        problems.add("code", code, "give the folder of your worker code, e.g. 'workers/sms'")
    if not isinstance(processor, str) or not _PROCESSOR.match(processor):
        problems.add("processor", processor, "give module.function, e.g. 'app.process'")
    environment = given["environment"]
    for name in sorted(RESERVED_ENVIRONMENT & environment.keys()):
        problems.add(f"environment[{name!r}]", environment[name], "the runtime sets it; rename it")
    cpu, memory = given["cpu"], given["memory_limit_mib"]
    if not is_token(cpu) and cpu not in FARGATE_SIZES:
        problems.add("cpu", cpu, f"Fargate takes one of {sorted(FARGATE_SIZES)}")
    elif not is_token(memory) and not is_token(cpu) and memory not in FARGATE_SIZES[cpu]:
        sizes = FARGATE_SIZES[cpu]
        problems.add(
            "memory_limit_mib",
            memory,
            f"with cpu={cpu} Fargate takes {sizes.start}-{sizes.stop - 1} in steps of {sizes.step}",
        )
    problems.in_range("max_tasks", given["max_tasks"], 1, 1000)
    problems.in_range("messages_per_task", given["messages_per_task"], 1, 100_000)
    problems.in_range("batch_size", given["batch_size"], 1, 10)
    visibility, delay = given["visibility_timeout"], given["retry_delay"]
    for option, value in (("visibility_timeout", visibility), ("retry_delay", delay)):
        if not isinstance(value, Duration):
            problems.add(
                option,
                value,
                f"expected a Duration, e.g. Duration.minutes(2); got {type(value).__name__}",
            )
            return
    problems.in_range(
        "visibility_timeout (s)", visibility.to_seconds(), 30, MAX_VISIBILITY_TIMEOUT.to_seconds()
    )
    problems.in_range("retry_delay (s)", delay.to_seconds(), 0, visibility.to_seconds())


def _dead_letters(
    construct: Construct,
    problems: Problems,
    props: sqs.QueueProps | None,
    existing: sqs.IQueue | None,
    max_receive_count: int | None,
) -> tuple[sqs.IQueue | None, int]:
    """The dead-letter queue if known, and the max receive count the runtime works with."""
    problems.in_range("max_receive_count", max_receive_count, 1, 1000)
    if props is not None and props.fifo:
        problems.add("queue_props.fifo", True, "the worker takes standard queues only")
    validate_existing_queue_keeps_failures(construct, problems, existing)
    resolved = resolve_queue(
        problems,
        "",
        props=props,
        existing=existing,
        max_receive_count=max_receive_count,
        consumed_by_lambda=False,
    )
    return resolved.dead_letter_queue, resolved.max_receive_count
