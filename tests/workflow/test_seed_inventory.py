"""``python -m examples.seed_inventory``: the one command that loads the saga's stock.

The table comes from the stack's ``InventoryTableName`` output (CloudFormation
DescribeStacks; a stack that does not exist answers ``ValidationError``, "Stack with id X
does not exist": docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
API_DescribeStacks.html). moto's CloudFormation needs extras this repo does not install, so
DescribeStacks answers come from botocore's Stubber in that documented shape; the table is
moto's, created from the reference template.
"""

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from examples import seed_inventory
from tests.support.aws import create_table
from tests.support.cdk import resources
from tests.support.emulation import plain


@pytest.fixture
def inventory(aws: None, templates: dict[str, dict[str, Any]]) -> Iterator[Any]:
    [(logical_id, properties)] = [
        (name, props)
        for name, props in resources(templates["OrderSaga"], "AWS::DynamoDB::GlobalTable").items()
        if name.startswith("Inventory")
    ]
    yield boto3.resource("dynamodb").Table(create_table(logical_id, properties))


@pytest.fixture
def cloudformation(aws: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudformation")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def stack(outputs: dict[str, str]) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": "OrderSaga",
                "CreationTime": "2026-12-01T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


def test_the_stack_output_names_the_table(
    templates: dict[str, dict[str, Any]], cloudformation: tuple[Any, Stubber]
) -> None:
    output = templates["OrderSaga"]["Outputs"][seed_inventory.INVENTORY_OUTPUT]
    assert output["Value"]["Ref"].startswith("Inventory")
    client, stubber = cloudformation
    stubber.add_response(
        "describe_stacks",
        stack({"StateMachineArn": "arn", seed_inventory.INVENTORY_OUTPUT: "OrderSaga-Inv-1"}),
        {"StackName": "OrderSaga"},
    )
    assert seed_inventory.inventory_table(client, "OrderSaga") == "OrderSaga-Inv-1"


def test_a_name_that_is_no_stack_is_the_table(cloudformation: tuple[Any, Stubber]) -> None:
    client, stubber = cloudformation
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id OrderSaga-Inv-1 does not exist",
        http_status_code=400,
    )
    assert seed_inventory.inventory_table(client, "OrderSaga-Inv-1") == "OrderSaga-Inv-1"


def test_a_stack_without_the_output_is_refused(cloudformation: tuple[Any, Stubber]) -> None:
    client, stubber = cloudformation
    stubber.add_response("describe_stacks", stack({}))
    with pytest.raises(SystemExit, match="has no InventoryTableName output"):
        seed_inventory.inventory_table(client, "Other")


def test_other_errors_are_not_mistaken_for_a_table_name(
    cloudformation: tuple[Any, Stubber],
) -> None:
    client, stubber = cloudformation
    stubber.add_client_error("describe_stacks", service_error_code="AccessDenied")
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        seed_inventory.inventory_table(client, "OrderSaga")


def test_seed_sets_the_documented_stock(inventory: Any) -> None:
    seed_inventory.seed(inventory.name)
    assert plain(inventory.scan()["Items"]) == [{"sku": "book-42", "available": 10}]


def test_seeding_again_keeps_open_reservations(inventory: Any) -> None:
    inventory.put_item(Item={"sku": "book-42", "available": 1, "reserved_o-1": 2})
    seed_inventory.seed(inventory.name)
    assert plain(inventory.scan()["Items"]) == [
        {"sku": "book-42", "available": 10, "reserved_o-1": 2}
    ]


def test_main_takes_exactly_one_name() -> None:
    with pytest.raises(SystemExit, match=re.escape("python -m examples.seed_inventory OrderSaga")):
        seed_inventory.main([])
