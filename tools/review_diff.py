"""``python -m tools.review_diff``: per stack, what the current code changes versus the pins.

Synthesizes the reference app in-process (exactly as ``cdk synth`` does, but without
stopping at cdk-nag findings, which it reports instead), then diffs every template against
its pinned snapshot with the CDK's own diff engine (``tools/review-diff.cjs``).
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from examples.app import synthesize

ROOT = Path(__file__).resolve().parents[1]
PINNED = ROOT / "tests" / "__snapshots__" / "test_snapshots"


def main() -> int:
    with tempfile.TemporaryDirectory() as outdir:
        app = synthesize(Path(outdir))
        result = subprocess.run(
            ["node", str(ROOT / "tools" / "review-diff.cjs"), str(PINNED), outdir], check=False
        )
    open_findings = sum(len(plugin["violations"]) for plugin in app.nag_report["pluginReports"])
    print(f"cdk-nag: {open_findings} unacknowledged findings (`make synth` lists them).")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
