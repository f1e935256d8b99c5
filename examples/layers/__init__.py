"""Lambda layers the example handlers share, so that no handler asset repeats another's code."""

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from serverless_patterns.core.functions import DEFAULT_RUNTIME, asset_code

LAYERS = Path(__file__).parent


def _layer(
    scope: Construct, construct_id: str, folder: str, description: str
) -> lambda_.LayerVersion:
    """The Python layer in ``examples/layers/<folder>`` for the examples' arm64 functions."""
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=asset_code(str(LAYERS / folder)),
        compatible_runtimes=[DEFAULT_RUNTIME],
        compatible_architectures=[lambda_.Architecture.ARM_64],
        description=f"{description} (serverless-patterns)",
    )


def rest_json_layer(scope: Construct, construct_id: str = "RestJsonLayer") -> lambda_.LayerVersion:
    """``rest_json``: JSON bodies, JSON numbers and page tokens for the REST API handlers."""
    return _layer(scope, construct_id, "rest_json", "Example REST handlers' shared JSON helpers")


def orders_layer(scope: Construct, construct_id: str = "OrdersLayer") -> lambda_.LayerVersion:
    """``order_lines``: the rules of an order's items for the example order handlers."""
    return _layer(scope, construct_id, "orders", "Example order handlers' shared order-line rules")
