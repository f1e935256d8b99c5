"""Template -> diagram / inventory / permissions / idle cost, on a small hand-made template."""

from typing import Any

import pytest
from serverless_patterns.core.compliance import CONCERNS

from tools.catalog import compliance, cost, inventory, permissions
from tools.catalog.diagram import Edge, edges, mermaid
from tools.catalog.templates import references, render, role_owners


def arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "Api"}},
        "OrdersPath": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "PathPart": "orders",
                "RestApiId": {"Ref": "Api"},
            },
        },
        "PostOrders": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "HttpMethod": "POST",
                "ResourceId": {"Ref": "OrdersPath"},
                "RestApiId": {"Ref": "Api"},
                "Integration": {
                    "Type": "AWS",
                    "Credentials": arn("ApiRole"),
                    "Uri": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":apigateway:",
                                {"Ref": "AWS::Region"},
                                ":sqs:path/",
                                {"Ref": "AWS::AccountId"},
                                "/",
                                {"Fn::GetAtt": ["Jobs", "QueueName"]},
                            ],
                        ]
                    },
                },
            },
        },
        "ApiRole": {"Type": "AWS::IAM::Role", "Properties": {}},
        "ApiPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": "ApiRole"}],
                "PolicyDocument": {
                    "Statement": [
                        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn("Jobs")}
                    ]
                },
            },
        },
        "Jobs": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {"deadLetterTargetArn": arn("JobsDlq"), "maxReceiveCount": 3}
            },
        },
        "JobsDlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "JobsPolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "sqs:*",
                            "Resource": arn("Jobs"),
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ]
                },
                "Queues": [{"Ref": "Jobs"}],
            },
        },
        "Worker": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Role": arn("WorkerRole")},
            "Metadata": {"aws:cdk:path": "Stack/Jobs/Worker/Resource"},
        },
        "WorkerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "ManagedPolicyArns": [
                    {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                            ],
                        ]
                    }
                ]
            },
        },
        "WorkerPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": "WorkerRole"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
                            "Resource": [
                                {"Fn::Sub": "${Table.Arn}"},
                                {"Fn::Join": ["", [arn("Table"), "/index/*"]]},
                            ],
                        },
                        {
                            "Effect": "Allow",
                            "Action": "sqs:ReceiveMessage",
                            "Resource": arn("Jobs"),
                        },
                        {
                            "Effect": "Allow",
                            "Action": "sns:Publish",
                            "Resource": {
                                "Fn::Sub": [
                                    "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${N}",
                                    {"N": {"Fn::GetAtt": ["Topic", "TopicName"]}},
                                ]
                            },
                        },
                        {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
                    ]
                },
            },
        },
        "WorkerMapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": arn("Jobs"),
                "FunctionName": {"Ref": "Worker"},
                "BatchSize": 5,
            },
        },
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "AuditSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "Protocol": "sqs",
                "TopicArn": {"Ref": "Topic"},
                "Endpoint": arn("Audit"),
                "FilterPolicy": {"kind": ["audit"]},
                "RedrivePolicy": {"deadLetterTargetArn": arn("AuditDlq")},
            },
        },
        "Audit": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "AuditDlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus"}},
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Ref": "Bus"},
                "EventPattern": {"source": ["shop"]},
                "Targets": [
                    {"Id": "1", "Arn": arn("Worker"), "DeadLetterConfig": {"Arn": arn("JobsDlq")}}
                ],
            },
        },
        "InvokeFromRule": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": arn("Worker"),
                "Principal": "events.amazonaws.com",
                "SourceArn": arn("Rule"),
            },
        },
        "Errors": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 300}},
        "Fast": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 10}},
        "Ratio": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Metrics": [
                    {"Id": "a", "MetricStat": {"Period": 300}},
                    {"Id": "b", "MetricStat": {"Period": 300}},
                    {"Id": "e", "Expression": "a / b"},
                ]
            },
        },
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
    }
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Table"}, {"Table"}),
        ({"Ref": "AWS::Region"}, set()),
        ({"Fn::GetAtt": ["Jobs", "Arn"]}, {"Jobs"}),
        ({"Fn::GetAtt": "Jobs.Arn"}, {"Jobs"}),
        (
            {"Fn::Join": ["", ["x", {"Ref": "Topic"}, {"Fn::GetAtt": ["Audit", "Arn"]}]]},
            {"Topic", "Audit"},
        ),
        ({"Fn::Sub": "arn:${AWS::Partition}:x:${Table.Arn}/${Bus}"}, {"Table", "Bus"}),
        ({"Fn::Sub": ["${A}-${Worker}", {"A": {"Ref": "Key"}}]}, {"Worker", "Key"}),
        ({"Ref": "NotInTemplate"}, set()),
    ],
)
def test_references_follow_ref_getatt_join_and_sub(value: Any, expected: set[str]) -> None:
    assert references(value, TEMPLATE) == expected


def test_roles_are_owned_by_what_acts_with_them() -> None:
    assert role_owners(TEMPLATE) == {"ApiRole": ["PostOrders"], "WorkerRole": ["Worker"]}


def test_edges_draw_the_data_flow_with_labelled_dead_letter_paths() -> None:
    assert set(edges(TEMPLATE)) == {
        Edge("Api", "Jobs", "POST /orders"),
        Edge("Jobs", "JobsDlq", "after 3 receives", dead_letter=True),
        Edge("Jobs", "Worker", "batches of 5"),
        Edge("Worker", "Table", "read/write"),
        Edge("Worker", "Topic", "publish"),
        Edge("Topic", "Audit", "filtered"),
        Edge("Topic", "AuditDlq", "undeliverable", dead_letter=True),
        Edge("Bus", "Rule", "matches"),
        Edge("Rule", "Worker", "event"),
        Edge("Rule", "JobsDlq", "failed delivery", dead_letter=True),
    }


def test_mermaid_names_nodes_by_construct_path_and_dots_dead_letter_edges() -> None:
    chart = mermaid(TEMPLATE)
    assert chart.startswith("flowchart LR\n")
    assert '  Worker["λ Jobs/Worker"]' in chart
    assert '  Table[("table Table")]' in chart
    assert '  Jobs -. "DLQ: after 3 receives" .-> JobsDlq' in chart
    assert '  Api -- "POST /orders" --> Jobs' in chart


def test_inventory_groups_resources_by_service() -> None:
    grouped = inventory.inventory(TEMPLATE)
    assert grouped["SQS"] == {"Queue": 4, "QueuePolicy": 1}
    assert grouped["IAM"] == {"Role": 2, "Policy": 2}
    assert (
        "| Lambda | 1 x EventSourceMapping, 1 x Function, 1 x Permission |"
        in inventory.markdown(TEMPLATE)
    )


def test_permissions_name_principal_actions_and_resources() -> None:
    found = permissions.grants(TEMPLATE)
    assert (
        permissions.Grant(
            "Jobs/Worker", ("dynamodb:GetItem", "dynamodb:PutItem"), ("Table", "Table/index/*")
        )
        in found
    )
    assert permissions.Grant("PostOrders", ("sqs:SendMessage",), ("Jobs",)) in found
    assert permissions.Grant("Jobs/Worker", ("sns:Publish",), ("Topic",)) in found
    assert permissions.Grant("Jobs/Worker", ("xray:PutTraceSegments",), ("*",)) in found
    assert (
        permissions.Grant("WorkerRole", ("AWS managed policy AWSLambdaBasicExecutionRole",), ())
        in found
    )
    assert (
        permissions.Grant(
            "events.amazonaws.com", ("lambda:InvokeFunction",), ("Jobs/Worker",), condition=True
        )
        in found
    )
    assert permissions.tls_only(TEMPLATE) == ["Jobs"]


def test_idle_cost_counts_alarm_metrics_and_keys() -> None:
    lines = {line.item: (line.count, line.monthly) for line in cost.idle_cost(TEMPLATE)}
    assert lines == {
        "standard alarm metric": (3, pytest.approx(0.30)),  # one plain alarm + two in the ratio
        "high-resolution alarm metric": (1, pytest.approx(0.30)),
        "customer-managed KMS key": (1, pytest.approx(1.00)),
    }
    assert cost.total(TEMPLATE) == pytest.approx(1.60)


def test_compliance_lists_each_justification_of_one_stack_with_its_scanner_ids() -> None:
    xray = CONCERNS["no-resource-level-permissions"]
    no_vpc = CONCERNS["no-vpc"]
    report = {
        "pluginReports": [
            {
                "pluginName": "AwsSolutions",
                "violations": [],
                "suppressedViolations": [
                    {
                        "ruleName": "AwsSolutions-IAM5[Resource::*]",
                        "reason": xray.reason,
                        "violatingConstructs": [
                            {"constructPath": "Mine/Fn/Role/DefaultPolicy/Resource"},
                            {"constructPath": "Other/Fn/Role/DefaultPolicy/Resource"},
                        ],
                    }
                ],
            }
        ]
    }
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {
                    "aws:cdk:path": "Mine/Fn/Resource",
                    "justifications": ["no-vpc"],
                    "checkov": {"skip": [{"id": "CKV_AWS_117", "comment": no_vpc.reason}]},
                    "guard": {"SuppressedRules": ["LAMBDA_INSIDE_VPC"]},
                },
            }
        }
    }
    text = compliance.markdown(report, template, "Mine")
    assert text.startswith("cdk-nag packs: AwsSolutions: 0 open, 1 acknowledged.")
    assert (
        "| no-resource-level-permissions | `Fn/Role/DefaultPolicy` | "
        f"`AwsSolutions-IAM5[Resource::*]` | — | — | — | {xray.reason} |"
    ) in text
    assert (
        f"| no-vpc | `Fn` | — | `CKV_AWS_117` | — | `LAMBDA_INSIDE_VPC` | {no_vpc.reason} |" in text
    )
    assert "Other/" not in text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (
            {
                "Fn::Join": [
                    "",
                    ["arn:", {"Ref": "AWS::Partition"}, ":ses:", {"Ref": "AWS::Region"}, ":x"],
                ]
            },
            "arn:${AWS::Partition}:ses:${AWS::Region}:x",
        ),
        ({"Fn::GetAtt": ["Worker", "Arn"]}, "Jobs/Worker.Arn"),
        ({"Ref": "Table"}, "Table"),
        ({"Fn::Sub": "arn:${AWS::Partition}:s3:::b/*"}, "arn:${AWS::Partition}:s3:::b/*"),
    ],
)
def test_values_render_readably(value: Any, text: str) -> None:
    assert render(value, TEMPLATE) == text
