"""Run by ``make compat`` in its scratch virtualenv: the reference stacks, from the wheel.

Synthesizes every reference stack with the installed wheel (not the repo's source) and the
cdk-nag packs; exits 1 on any unacknowledged finding.
"""

import json
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import serverless_patterns
from aws_cdk import App

from examples.app import build, cli_context


def main() -> None:
    source = Path(serverless_patterns.__file__).resolve()
    if not source.is_relative_to(Path(sys.prefix).resolve()):
        sys.exit(f"serverless_patterns comes from {source}, not the installed wheel")
    with tempfile.TemporaryDirectory() as outdir:
        # Not examples.app.new_app: its switch for the built-in template check came later.
        app = build(App(analytics_reporting=False, context=cli_context(), outdir=outdir))
        try:
            app.synth()
        except Exception as error:  # jsii's JavaScriptError wraps cdk's ValidationFailed
            if "ValidationFailed" not in str(error):
                raise
        report = json.loads((Path(outdir) / "validation-report.json").read_text())
    violations = [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    packs = sorted(plugin["pluginName"] for plugin in report["pluginReports"])
    print(
        f"aws-cdk-lib {metadata.version('aws-cdk-lib')}, cdk-nag {metadata.version('cdk-nag')}:"
        f" {packs} ran, {len(violations)} unacknowledged findings"
    )
    if violations or packs != ["AwsSolutions", "Serverless"]:
        sys.exit("\n".join(violations))


if __name__ == "__main__":
    main()
