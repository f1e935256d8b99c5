"""The public building blocks of ``serverless_patterns.core``, each with its own defaults.

The reference stacks use them beside the patterns (a worker's queue, a records table, an
alarm on a DLQ); these tests pin what each one builds on its own.
"""

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk.assertions import Template
from serverless_patterns.core import alarms, functions, queues, tables, topics

from tests.support.cdk import new_app, only, resources


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    code = tmp_path_factory.mktemp("code")
    (code / "app.py").write_text("def handler(event, context):\n    return None\n")
    (code / "__pycache__").mkdir()
    (code / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"changes per machine")
    stack = Stack(new_app(), "Blocks")
    function = functions.python_function(
        stack,
        "Function",
        code=functions.asset_code(str(code)),
        handler="app.handler",
        service_name="blocks",
    )
    table = tables.table(stack, "Table")
    tables.grant(table, function, tables.TableAccess.READ)
    dead_letters = queues.dead_letter_queue(stack, "DeadLetters")
    queues.queue(
        stack, "Work", dead_letter_queue=dead_letters, consumer_timeout=Duration.seconds(20)
    )
    topics.topic(stack, "Topic")
    alarms.function_alarms(stack, "FunctionAlarms", function)
    alarms.dead_letter_queue_alarm(stack, "DeadLettersAlarm", dead_letters)
    return {"code": code, "template": Template.from_stack(stack).to_json()}


def test_python_function_runs_on_arm_traced_with_json_logs(built: dict[str, Any]) -> None:
    _, function = only(built["template"], "AWS::Lambda::Function")
    assert function["Architectures"] == ["arm64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["Runtime"].startswith("python3.")


def test_asset_code_leaves_out_bytecode(built: dict[str, Any], tmp_path: Path) -> None:
    """The same code without a ``__pycache__`` gives the same asset: bytecode is left out."""
    (tmp_path / "app.py").write_text((built["code"] / "app.py").read_text())
    stack = Stack(new_app(), "Clean")
    functions.python_function(
        stack,
        "F",
        code=functions.asset_code(str(tmp_path)),
        handler="app.handler",
        service_name="x",
    )
    _, clean = only(Template.from_stack(stack).to_json(), "AWS::Lambda::Function")
    _, with_bytecode = only(built["template"], "AWS::Lambda::Function")
    assert clean["Code"] == with_bytecode["Code"]


def test_table_is_on_demand_recoverable_and_retained(built: dict[str, Any]) -> None:
    [(logical_id, table)] = resources(built["template"], "AWS::DynamoDB::GlobalTable").items()
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["Replicas"][0]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    assert built["template"]["Resources"][logical_id]["DeletionPolicy"] == "Retain"


def test_grant_read_allows_no_writes(built: dict[str, Any]) -> None:
    actions = [
        action
        for policy in resources(built["template"], "AWS::IAM::Policy").values()
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
        if action.startswith("dynamodb:")
    ]
    assert actions and not [a for a in actions if "Put" in a or "Update" in a or "Delete" in a]


def test_queues_are_encrypted_and_redrive_to_their_dead_letter_queue(built: dict[str, Any]) -> None:
    queue_resources = resources(built["template"], "AWS::SQS::Queue")
    dead_letters = next(q for q in queue_resources.values() if "RedrivePolicy" not in q)
    work = next(q for q in queue_resources.values() if "RedrivePolicy" in q)
    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert all(q["SqsManagedSseEnabled"] for q in queue_resources.values())
    assert work["VisibilityTimeout"] == 6 * 20


def test_topic_is_encrypted(built: dict[str, Any]) -> None:
    _, topic = only(built["template"], "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic


def test_alarms_watch_function_errors_throttles_and_dead_letters(built: dict[str, Any]) -> None:
    metrics = sorted(
        a["MetricName"]
        for a in resources(built["template"], "AWS::CloudWatch::Alarm").values()
        if "MetricName" in a
    )
    assert metrics == ["ApproximateNumberOfMessagesVisible", "Errors", "Throttles"]
