"""cfn-lint, run in a worker process while the rest of the suite runs.

cfn-lint validates a reference template in 1 to 2 s of pure CPU; the suite's other tests run on
one core, so the lint of every template is handed to a second process as soon as the templates
exist and its findings are collected when the compliance tests ask for them.
"""

import json
import multiprocessing
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

#: W3005: CDK adds a redundant DependsOn on every Lambda's role policy; harmless.
IGNORED_CHECKS = ["W3005"]


def cfn_lint(template_json: str) -> list[str]:
    """cfn-lint's findings for one template, as text."""
    from cfnlint.api import ManualArgs, lint

    config = ManualArgs(regions=["us-east-1"], ignore_checks=IGNORED_CHECKS)
    return [str(match) for match in lint(template_json, config=config)]


@contextmanager
def background_cfn_lint(
    templates: Mapping[str, dict[str, Any]],
) -> Iterator[dict[str, Future[list[str]]]]:
    """Start linting every template in one worker process: ``{stack id: future findings}``."""
    # spawn, not fork: the parent holds jsii's Node process and its pipes.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        yield {
            stack_id: pool.submit(cfn_lint, json.dumps(template))
            for stack_id, template in templates.items()
        }
