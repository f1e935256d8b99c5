"""``python -m tools.benchmark``: how fast synth, tests, set-up and Lambda cold starts are.

Writes ``.benchmarks/report.json`` and prints a table; exits 1 when a budget is exceeded.
Budgets (README): whole reference app <= 2.0 s above the empty-app floor; test suite <= 60 s;
set-up from a fresh clone <= 120 s, warm re-run <= 5 s; each handler imports in <= 300 ms
and its asset holds only its own code. Options: ``--repeat N`` (default 5),
``--skip-setup`` and ``--skip-tests`` for a quick run.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from examples.app import REFERENCE_STACKS, cli_context, new_app, synthesize

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / ".benchmarks" / "report.json"
#: What Lambda's Python runtime puts on ``sys.path`` (``/var/runtime``), at the version
#: ``constraints.txt`` pins; nothing of the dev tooling. Layers (Powertools included) come
#: from the synthesized assets.
LAMBDA_RUNTIME = ROOT / ".benchmarks" / "lambda-runtime"
LAMBDA_RUNTIME_PACKAGES = ["boto3"]
BUDGETS = {
    "synth_above_floor_s": 2.0,
    "test_suite_s": 60.0,
    "setup_cold_s": 120.0,
    "setup_warm_s": 5.0,
    "handler_import_ms": 300.0,
    "handler_asset_kb": 256.0,
}
EMPTY_APP = "from aws_cdk import App; App().synth()"
IMPORT_HANDLER = """
import importlib, sys, time
sys.path.insert(0, '.')  # the task root first, as in Lambda
started = time.perf_counter()
importlib.import_module(sys.argv[1])
print((time.perf_counter() - started) * 1000)
"""


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=True, capture_output=True, text=True, **options)


def fresh_process_seconds(code: str, repeat: int, env: dict[str, str]) -> list[float]:
    return [
        timed(lambda: run([sys.executable, "-c", code], cwd=ROOT, env=env)) for _ in range(repeat)
    ]


def summary(samples: list[float]) -> dict[str, float]:
    return {"min": round(min(samples), 3), "median": round(statistics.median(samples), 3)}


def synth_figures(repeat: int) -> dict[str, Any]:
    """Fresh-process synthesis of the empty app (jsii floor) and of the reference app."""
    with tempfile.TemporaryDirectory() as outdir:
        env = {**os.environ, "CDK_OUTDIR": outdir, "CDK_CONTEXT_JSON": json.dumps(cli_context())}
        floor = fresh_process_seconds(EMPTY_APP, repeat, env)
        full = fresh_process_seconds("from examples.app import main; main()", repeat, env)
    return {
        "empty_app_s": summary(floor),
        "reference_app_s": summary(full),
        "synth_above_floor_s": round(statistics.median(full) - statistics.median(floor), 3),
        "import_aws_cdk_s": summary(
            fresh_process_seconds("import aws_cdk", repeat, dict(os.environ))
        ),
        "import_serverless_patterns_s": summary(
            fresh_process_seconds(
                "from serverless_patterns import SyncApi", repeat, dict(os.environ)
            )
        ),
    }


@contextmanager
def counted_jsii_calls() -> Iterator[list[int]]:
    """Count the requests Python sends to jsii's Node process meanwhile (``[count]``).

    Each is a round trip between two processes, the unit of CDK-in-Python's cost, and unlike a
    time it is the same on every machine. Reads jsii's private process provider.
    """
    from jsii._kernel.providers import process

    calls = [0]
    send = process._NodeProcess.send

    def counting(self: Any, request: Any, response_type: Any) -> Any:
        calls[0] += 1
        return send(self, request, response_type)

    process._NodeProcess.send = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        process._NodeProcess.send = send  # type: ignore[method-assign]


def per_stack_figures() -> dict[str, dict[str, float]]:
    """Construction and synthesis time of each reference stack, in this one warm process, its
    jsii round trips (construction and synthesis) and its resources."""
    new_app().synth()  # pay jsii start-up before measuring
    figures = {}
    for stack_id, stack_class in REFERENCE_STACKS.items():
        app = new_app(context=cli_context())
        with counted_jsii_calls() as calls:
            construct = timed(lambda: stack_class(app, stack_id))  # noqa: B023
            started = time.perf_counter()
            assembly = app.synth()
            synth = time.perf_counter() - started
        resources = len(assembly.get_stack_by_name(stack_id).template["Resources"])
        figures[stack_id] = {
            "construct_s": round(construct, 3),
            "synth_s": round(synth, 3),
            "jsii_calls": calls[0],
            "resources": resources,
        }
    return figures


def lambda_runtime() -> Path:
    """The Lambda runtime's libraries (boto3), installed once.

    Handlers are timed against these alone (``python -S``: no site-packages), not the
    project's virtualenv, whose dev packages (``requests`` for moto, ...) the X-Ray SDK would
    import and patch, which Lambda does not pay for.
    """
    stamp = LAMBDA_RUNTIME / ".installed"
    if not stamp.exists():
        shutil.rmtree(LAMBDA_RUNTIME, ignore_errors=True)
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--target"]
        run(
            [*pip, str(LAMBDA_RUNTIME), "-c", "constraints.txt", *LAMBDA_RUNTIME_PACKAGES], cwd=ROOT
        )
        stamp.touch()
    return LAMBDA_RUNTIME


def handler_figures(repeat: int) -> dict[str, dict[str, Any]]:
    """Cold import time and package size of every Lambda asset of the reference app."""
    figures: dict[str, dict[str, Any]] = {}
    runtime = str(lambda_runtime())
    with tempfile.TemporaryDirectory() as outdir:
        app = synthesize(Path(outdir))
        for stack_id, template in app.templates.items():
            for logical_id, resource in template["Resources"].items():
                asset = resource.get("Metadata", {}).get("aws:asset:path")
                if resource["Type"] != "AWS::Lambda::Function" or not asset:
                    continue
                properties = resource["Properties"]
                module = properties["Handler"].rsplit(".", 1)[0]
                variables = properties.get("Environment", {}).get("Variables", {})
                folder = Path(outdir) / asset
                layers = [  # the project's own layers, where Lambda puts them on sys.path
                    str(Path(outdir) / layer["Metadata"]["aws:asset:path"] / "python")
                    for ref in properties.get("Layers", [])
                    if isinstance(ref, dict)
                    and (layer := template["Resources"].get(ref.get("Ref", "")))
                    and "aws:asset:path" in layer.get("Metadata", {})
                ]
                env = {
                    **os.environ,
                    "AWS_REGION": "us-east-1",
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench",
                    "AWS_LAMBDA_FUNCTION_NAME": logical_id,
                    "LAMBDA_TASK_ROOT": str(folder),  # as in Lambda: X-Ray SDK skips its sampler
                    "PYTHONPATH": os.pathsep.join([*layers, runtime]),
                    **{
                        k: v if isinstance(v, str) else f"bench-{k.lower()}"
                        for k, v in variables.items()
                    },
                }
                samples = [
                    float(
                        run(
                            [sys.executable, "-S", "-c", IMPORT_HANDLER, module],
                            cwd=folder,
                            env=env,
                        ).stdout
                    )
                    for _ in range(repeat)
                ]
                files = [p for p in folder.rglob("*") if p.is_file()]
                figures[f"{stack_id}/{logical_id}"] = {
                    "import_ms": round(statistics.median(samples), 1),
                    "import_min_ms": round(min(samples), 1),
                    "asset_kb": round(sum(p.stat().st_size for p in files) / 1024, 1),
                    "asset_files": sorted(str(p.relative_to(folder)) for p in files),
                }
    return figures


def setup_figures() -> dict[str, float]:
    """The README's set-up (`make setup`) on a fresh clone of HEAD: cold, then warm."""
    with tempfile.TemporaryDirectory() as workdir:
        clone = Path(workdir) / "clone"
        run(["git", "clone", "-q", str(ROOT), str(clone)])
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "JSII_NODE"}}
        cold = timed(lambda: run(["make", "setup"], cwd=clone, env=env))
        warm = timed(lambda: run(["make", "setup"], cwd=clone, env=env))
        shutil.rmtree(clone)
    return {"setup_cold_s": round(cold, 1), "setup_warm_s": round(warm, 2)}


def test_figures() -> dict[str, float]:
    return {
        "test_suite_s": round(
            timed(lambda: run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT)), 1
        )
    }


def over_budget(report: dict[str, Any]) -> list[str]:
    problems = []
    for name in ("synth_above_floor_s", "test_suite_s", "setup_cold_s", "setup_warm_s"):
        value = report.get(name)
        if value is not None and value > BUDGETS[name]:
            problems.append(f"{name} = {value} > {BUDGETS[name]}")
    for handler, figures in report["handlers"].items():
        if figures["import_ms"] > BUDGETS["handler_import_ms"]:
            problems.append(f"{handler} imports in {figures['import_ms']} ms")
        if figures["asset_kb"] > BUDGETS["handler_asset_kb"] or any(
            "__pycache__" in name or name.endswith(".pyc") for name in figures["asset_files"]
        ):
            problems.append(f"{handler} asset holds more than its code: {figures['asset_files']}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument("--skip-tests", action="store_true")
    options = parser.parse_args()

    report: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    report.update(synth_figures(options.repeat))
    report["per_stack"] = per_stack_figures()
    report["handlers"] = handler_figures(options.repeat)
    if not options.skip_tests:
        report.update(test_figures())
    if not options.skip_setup:
        report.update(setup_figures())
    problems = over_budget(report)
    report["over_budget"] = problems
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")

    print(f"{'measure':<40} {'value':>10} {'budget':>8}")
    rows = [
        ("empty app synth, median (jsii floor)", report["empty_app_s"]["median"], None),
        ("reference app synth, median", report["reference_app_s"]["median"], None),
        (
            "reference app above floor",
            report["synth_above_floor_s"],
            BUDGETS["synth_above_floor_s"],
        ),
        ("import aws_cdk, median", report["import_aws_cdk_s"]["median"], None),
        (
            "from serverless_patterns import SyncApi, median",
            report["import_serverless_patterns_s"]["median"],
            None,
        ),
        ("test suite", report.get("test_suite_s"), BUDGETS["test_suite_s"]),
        ("set-up, fresh clone", report.get("setup_cold_s"), BUDGETS["setup_cold_s"]),
        ("set-up, warm re-run", report.get("setup_warm_s"), BUDGETS["setup_warm_s"]),
    ]
    rows += [
        (
            f"  {sid}: construct/synth s, jsii calls/resources",
            f"{f['construct_s']}/{f['synth_s']}, {f['jsii_calls']}/{f['resources']}",
            None,
        )
        for sid, f in report["per_stack"].items()
    ]
    rows += [
        (
            f"  handler {name} import ms median/min (kB)",
            f"{f['import_ms']}/{f['import_min_ms']} ({f['asset_kb']})",
            BUDGETS["handler_import_ms"],
        )
        for name, f in report["handlers"].items()
    ]
    for name, value, budget in rows:
        if value is not None:
            print(f"{name:<40} {value!s:>10} {'' if budget is None else budget:>8}")
    print(f"\nreport: {REPORT.relative_to(ROOT)}")
    for problem in problems:
        print(f"OVER BUDGET: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
