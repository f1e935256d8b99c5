"""``python -m tools.integ [integ_<app>.py ...]``: deploy, assert and destroy the integ apps.

In a REAL AWS account (the credentials and region of the environment, as for the CDK CLI).
This does what ``integ-runner`` does for CDK integration tests, with the pinned CDK CLI:
the newest ``@aws-cdk/integ-runner`` (2.197.10) bundles a toolkit that reads cloud assemblies
up to schema 53, and aws-cdk-lib 2.275.0 writes schema 55, so it refuses every app here
("Maximum schema version supported is 53.x.x, but found 55.0.0"). The apps are ordinary
``IntegTest`` apps: integ-runner can run them once it reads schema 55.

For each app (all at once, each in its own process): synthesize it; deploy its stack under
test and its assertions stack, whose custom resources make the calls, check the answers and
write one ``AssertionResults...`` output each (a waiter that never sees the expected answer
fails the deployment instead); then destroy both stacks, whatever happened. Each app's CLI
output goes to ``cdk.integ.out/<app>.log``.
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTEG = ROOT / "integ"
OUT = ROOT / "cdk.integ.out"
CDK = str(ROOT / "node_modules" / ".bin" / "cdk")


def failures(outputs: dict[str, str]) -> list[str]:
    """The failed assertions among an assertions stack's outputs.

    integ-tests-alpha writes each assertion's result to an output named
    ``AssertionResults<id>``: ``{"status": "success"}`` or ``{"status": "fail", "message"}``.
    """
    failed = []
    for name, value in sorted(outputs.items()):
        if name.startswith("AssertionResults"):
            result = json.loads(value)
            if result.get("status") != "success":
                failed.append(f"{name}: {result.get('message', value)}")
    return failed


def run(app: Path) -> list[str]:
    """Deploy, assert and destroy one integ app; what failed (nothing when it passed)."""
    assembly = OUT / app.stem
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (OUT / f"{app.stem}.log").open("w") as log:

        def cdk(*args: str) -> None:
            subprocess.run([CDK, *args], check=True, cwd=ROOT, env=env, stdout=log, stderr=log)

        try:
            cdk("synth", "--quiet", "--app", f"{sys.executable} {app}", "--output", str(assembly))
        except subprocess.CalledProcessError:
            return ["synth failed"]
        [case] = json.loads((assembly / "integ.json").read_text())["testCases"].values()
        outputs = assembly / "outputs.json"
        failed = ["deploy failed: a waiter timed out, a resource failed or no credentials (log)"]
        try:
            cdk(
                "deploy",
                *case["stacks"],
                case["assertionStack"],
                "--app",
                str(assembly),
                "--require-approval",
                "never",
                "--outputs-file",
                str(outputs),
            )
            failed = failures(json.loads(outputs.read_text()).get(case["assertionStackName"], {}))
        except subprocess.CalledProcessError:
            pass
        finally:
            try:
                cdk("destroy", "--all", "--force", "--app", str(assembly))
            except subprocess.CalledProcessError:
                failed.append(
                    f"destroy failed: delete the stacks {case['stacks']} and "
                    f"{case['assertionStack']} yourself"
                )
        return failed


def main(names: list[str]) -> int:
    apps = [INTEG / name for name in names] or sorted(INTEG.glob("integ_*.py"))
    OUT.mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=len(apps)) as pool:
        results = dict(zip(apps, pool.map(run, apps), strict=True))
    for app, failed in results.items():
        print(f"{'FAIL' if failed else 'PASS'}  {app.name}  (log: cdk.integ.out/{app.stem}.log)")
        for failure in failed:
            print(f"      {failure}")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
