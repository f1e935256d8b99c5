"""The test suite: ``tests/conftest.py`` builds the reference app once per session."""

from serverless_patterns._node import use_wheel_node

use_wheel_node()  # jsii's Node, chosen before anything in this package loads aws_cdk
