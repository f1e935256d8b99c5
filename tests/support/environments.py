"""The reference stacks in three more environments, synthesized in a process of their own.

Pinning a stack to an account and region (how most teams deploy), or leaving out the flags
``cdk init`` writes, turns region, account and partition into literals in ARNs, and so into
cdk-nag's finding ids (tests/test_environments.py). The app holding every reference stack
three more times takes ~12 s of jsii; it runs beside the rest of the suite, on the second core.
"""

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


@contextmanager
def background_nag_report_of_variants(outdir: Path) -> Iterator[Future[dict[str, Any]]]:
    """Start :func:`nag_report_of_variants` in a worker process; its future report."""
    # spawn, not fork: the parent holds jsii's Node process and its pipes.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        yield pool.submit(nag_report_of_variants, str(outdir))
