"""Integration tests for a real AWS account: one CDK integ-test app per reference stack."""

from serverless_patterns._node import use_wheel_node

use_wheel_node()  # jsii's Node, chosen before anything in this package loads aws_cdk
