"""cfn-lint (with the AWS serverless rules), checkov and mypy, run beside the rest of the suite.

cfn-lint validates a reference template in 1 to 2 s of pure CPU; the suite's other tests run on
one core, so the lint of every template is handed to a second process as soon as the templates
exist and its findings are collected when the compliance tests ask for them.
"""

import functools
import json
import multiprocessing
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.cdk import ROOT

#: W3005: CDK adds a redundant DependsOn on every Lambda's role policy; harmless.
IGNORED_CHECKS = ["W3005"]
#: cfn-lint-serverless: the AWS serverless rules (ES#### errors, WS#### warnings).
SERVERLESS_RULES = "cfn_lint_serverless.rules"
#: checkov pins packages that clash with the suite's (boto3, networkx): its own venv.
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@functools.cache
def _cfn_lint_runner() -> Any:
    """cfn-lint's runner with its rules (the serverless ones appended), built once per
    process: loading the rules costs ~0.5 s, as much as linting a small template."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(
        ConfigMixIn(
            regions=["us-east-1"], ignore_checks=IGNORED_CHECKS, append_rules=[SERVERLESS_RULES]
        )
    )


def cfn_lint(template_json: str) -> list[str]:
    """cfn-lint's findings for one template, as text."""
    from cfnlint.decode.decode import decode_str

    template, errors = decode_str(template_json)
    if errors:
        return [str(error) for error in errors]
    return [str(match) for match in _cfn_lint_runner().validate_template(template)]


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


def checkov(templates: list[Path]) -> dict[str, dict[str, set[str]]]:
    """``{template file name: {"failed" | "skipped": {"CHECK_ID Type.LogicalId", ...}}}``.

    One process for every template: checkov takes seconds to import.
    """
    options = ["--framework", "cloudformation", "-o", "json", "--skip-download"]
    files = [argument for template in templates for argument in ("-f", str(template))]
    run = subprocess.run(
        [str(CHECKOV), *files, *options], capture_output=True, text=True, check=False
    )
    assert run.stdout, run.stderr
    reports = json.loads(run.stdout)
    found = {template.name: {"failed": set(), "skipped": set()} for template in templates}
    for report in reports if isinstance(reports, list) else [reports]:
        for outcome in ("failed", "skipped"):
            for check in report["results"][f"{outcome}_checks"]:
                name = Path(check["file_path"]).name
                found[name][outcome].add(f"{check['check_id']} {check['resource']}")
    return found


@contextmanager
def background_type_check() -> Iterator[subprocess.Popen[str]]:
    """Start mypy (configured in pyproject.toml: the library and the examples) in a process of
    its own; stopped at the end if no test waited for it."""
    with subprocess.Popen(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        yield process
        if process.poll() is None:
            process.kill()


@contextmanager
def background_checkov(
    templates: list[Path],
) -> Iterator[Future[dict[str, dict[str, set[str]]]]]:
    """Start checkov on ``templates`` in a thread that waits for its process."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(checkov, templates)
