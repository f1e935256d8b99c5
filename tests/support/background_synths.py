"""The suite's two large CDK apps besides the reference app, synthesized in a worker process.

- Every reference stack in three more environments, with the cdk-nag packs
  (tests/test_environments.py): pinning a stack to an account and region (how most teams
  deploy), or leaving out the flags ``cdk init`` writes, turns region, account and partition
  into literals in ARNs, and so into cdk-nag's finding ids.
- Every integration-test app of ``integ/`` (tests/test_integ_apps.py).

Together ~20 s of jsii; started with the session (``background_synths`` in
tests/conftest.py), they run beside the rest of the suite, on the second core.
"""

import importlib
import json
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.cdk import ROOT

#: The apps ``make integ`` runs (the files integ-runner's Python preset finds, too).
INTEG_APPS = sorted((ROOT / "integ").glob("integ_*.py"))

PINNED_ACCOUNT, PINNED_REGION = "111111111111", "eu-west-1"

#: Stage id -> (whether the stage is pinned to an environment, whether it gets cdk.json's context).
VARIANTS = {
    "PinnedWithFlags": (True, True),
    "PinnedWithoutFlags": (True, False),
    "AgnosticWithoutFlags": (False, False),
}


def nag_report_of_variants(outdir: str) -> dict[str, Any]:
    """Synthesize every reference stack once per variant with the cdk-nag packs;
    cdk-nag's validation report. (Imported in the worker as part of ``tests``, whose
    ``__init__`` chooses jsii's Node before aws_cdk loads.)"""
    from aws_cdk import Environment, Stage, Validations
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    from examples.app import REFERENCE_STACKS, cli_context, new_app

    app = new_app(outdir=outdir)
    for stage_id, (pinned, flags) in VARIANTS.items():
        env = Environment(account=PINNED_ACCOUNT, region=PINNED_REGION) if pinned else None
        stage = Stage(app, stage_id, env=env)
        if flags:  # feature flags are read from the nearest context up the construct tree
            for key, value in cli_context().items():
                stage.node.set_context(key, value)
        for stack_id, stack_class in REFERENCE_STACKS.items():
            stack_class(stage, stack_id)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    try:
        app.synth()
    except Exception as error:  # jsii's JavaScriptError wraps cdk's ValidationFailed
        if "ValidationFailed" not in str(error):
            raise
    return json.loads((Path(outdir) / "validation-report.json").read_text())


def integ_assembly(outdir: str) -> dict[str, Any]:
    """Every integ app built into one CDK app with the reference app's context, synthesized:
    ``{"cases": {app: (stack under test, assertions stack)}, "templates": {stack: template}}``.

    (Each app writes its own ``integ.json`` when run alone; built together, only the last
    one's is left, so the cases come from the apps.)
    """
    from integ import harness

    app = harness.app(outdir=outdir)
    cases = {}
    for path in INTEG_APPS:
        test = importlib.import_module(f"integ.{path.stem}").build(app)
        cases[path.stem] = (test.stack.stack_name, test.assertion_stack.stack_name)
    assembly = app.synth()
    return {
        "cases": cases,
        "templates": {stack.stack_name: stack.template for stack in assembly.stacks},
    }


#: Test module -> the synthesis its tests read.
SYNTHS: dict[str, Callable[[str], dict[str, Any]]] = {
    "tests/test_environments.py": nag_report_of_variants,
    "tests/test_integ_apps.py": integ_assembly,
}


@contextmanager
def background_synths(
    modules: set[str], outdir: Path
) -> Iterator[dict[str, Future[dict[str, Any]]]]:
    """Start, in one worker process, the synthesis of each test module in ``modules``:
    ``{module: future result}``."""
    wanted = [module for module in SYNTHS if module in modules]
    if not wanted:
        yield {}
        return
    # spawn, not fork: the parent holds jsii's Node process and its pipes.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        yield {
            module: pool.submit(SYNTHS[module], str(outdir / Path(module).stem))
            for module in wanted
        }
