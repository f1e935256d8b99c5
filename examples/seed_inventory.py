"""Load the order saga's stock: ``python -m examples.seed_inventory OrderSaga``.

The one piece of data the OrderSaga stack needs before an order can complete: how many of
each SKU can be sold. The argument is the deployed stack's name (its ``InventoryTableName``
output names the table) or the table's name. Uses the AWS credentials and region of the
environment, as the AWS CLI does. Setting the count keeps the item's open reservations.
"""

import sys
from typing import Any

#: The OrderSaga stack's output naming the stock table.
INVENTORY_OUTPUT = "InventoryTableName"
#: Units available per SKU: enough for the catalog page's example order (2 x book-42).
STOCK = {"book-42": 10}


def inventory_table(cloudformation: Any, stack_or_table: str) -> str:
    """The stock table's name: the stack's output, or the argument if no stack has that name."""
    try:
        [stack] = cloudformation.describe_stacks(StackName=stack_or_table)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "ValidationError":  # "Stack ... does not exist"
            raise
        return stack_or_table
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if INVENTORY_OUTPUT not in outputs:
        raise SystemExit(f"stack {stack_or_table} has no {INVENTORY_OUTPUT} output")
    return outputs[INVENTORY_OUTPUT]


def seed(table_name: str, stock: dict[str, int] = STOCK) -> None:
    import boto3  # here, not at the top: the OrderSaga stack imports this module's names

    table = boto3.resource("dynamodb").Table(table_name)
    for sku, available in stock.items():
        table.update_item(
            Key={"sku": sku},
            UpdateExpression="SET available = :available",
            ExpressionAttributeValues={":available": available},
        )


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__.splitlines()[0])
    import boto3

    table_name = inventory_table(boto3.client("cloudformation"), argv[0])
    seed(table_name)
    print(f"{table_name}: " + ", ".join(f"{sku} = {n}" for sku, n in STOCK.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
