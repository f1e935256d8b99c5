"""Project tooling: the generated catalog sections, the reviewer's diff and the benchmarks."""

from serverless_patterns._node import use_wheel_node

use_wheel_node()  # jsii's Node, chosen before anything in this package loads aws_cdk
