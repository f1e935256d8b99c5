"""serverless-patterns: vetted, secure AWS CDK constructs for serverless patterns."""

# isort: off
from serverless_patterns._node import use_wheel_node

use_wheel_node()  # before anything below loads aws_cdk (and starts jsii)
# isort: on

from serverless_patterns.core.apis import PROXY_ROUTES, Route  # noqa: E402
from serverless_patterns.core.tables import TableAccess  # noqa: E402
from serverless_patterns.sync_api import SyncApi  # noqa: E402

__all__ = ["PROXY_ROUTES", "Route", "SyncApi", "TableAccess"]
