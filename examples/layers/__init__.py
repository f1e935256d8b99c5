"""Lambda layers the example handlers share, so that no handler asset repeats another's code."""

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from serverless_patterns.core.functions import DEFAULT_RUNTIME, asset_code

LAYERS = Path(__file__).parent


def rest_json_layer(scope: Construct, construct_id: str = "RestJsonLayer") -> lambda_.LayerVersion:
    """``rest_json``: JSON bodies, JSON numbers and page tokens for the REST API handlers."""
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=asset_code(str(LAYERS / "rest_json")),
        compatible_runtimes=[DEFAULT_RUNTIME],
        compatible_architectures=[lambda_.Architecture.ARM_64],
        description="Example REST handlers' shared JSON helpers (serverless-patterns)",
    )
