"""``make e2e``: deploy every reference stack to MiniStack and run the end-to-end tests.

Steps (each timed): synthesize the reference app in-process into ``.e2e/cdk.out``; start
MiniStack (its own pinned virtualenv ``.e2e-venv/``, set up by the Makefile) on a free
loopback port; ask it which resource types it refuses and check that against
``adapt.DROPS``; copy the assembly with the listed adaptations into ``.e2e/deploy.out``;
``cdk bootstrap``; ``cdk deploy`` each stack, one at a time, with the pinned CDK CLI; run
``pytest -m e2e tests/e2e``; stop MiniStack (its process group, by the PID this started),
whatever happened.

``python -m tools.e2e up`` does everything but the tests and leaves MiniStack running (its
PID and endpoint in ``.e2e/emulator.json``) for iterating on tests:
``E2E_ENDPOINT=<endpoint> .venv/bin/python -m pytest -m e2e tests/e2e``; then
``python -m tools.e2e down`` stops it.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tools.e2e import adapt

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".e2e-venv"
WORK = ROOT / ".e2e"
STATE = WORK / "emulator.json"
CDK = ROOT / "node_modules" / ".bin" / "cdk"
ACCOUNT, REGION = "000000000000", "us-east-1"
#: What the emulator accepts; nothing here is a real credential.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
HEALTH_TIMEOUT = 30.0


def log(message: str) -> None:
    print(f"[e2e] {message}", flush=True)


@contextmanager
def timed(step: str, timings: dict[str, float]) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        timings[step] = time.monotonic() - start
        log(f"{step}: {timings[step]:.1f} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def client_env(endpoint: str) -> dict[str, str]:
    """The environment of everything that talks to the emulator: CDK CLI, boto3, tests."""
    return {
        **os.environ,
        **CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "E2E_ENDPOINT": endpoint,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def start() -> tuple[subprocess.Popen[bytes], str]:
    """MiniStack on a free loopback port, healthy; its own process group."""
    executable = VENV / "bin" / "ministack"
    if not executable.exists():
        raise SystemExit(f"{executable} is missing: run `make e2e` (it sets up {VENV.name}/)")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    WORK.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_"))}
    env.update(GATEWAY_PORT=str(port), BIND_HOST="127.0.0.1", MINISTACK_REGION=REGION)
    with (WORK / "ministack.log").open("wb") as output:
        process = subprocess.Popen(
            [str(executable)],
            env=env,
            cwd=WORK,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its Lambda workers share its process group
        )
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/_ministack/health", timeout=1) as answer:
                if answer.status == 200:
                    return process, endpoint
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process.pid)
            raise SystemExit(f"MiniStack did not become healthy: see {WORK / 'ministack.log'}")
        time.sleep(0.1)


def stop(pid: int) -> None:
    """Stop the process group MiniStack leads (it and its Lambda workers), by its PID."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        with suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)


def synthesize() -> dict[str, dict]:
    """The reference app as ``cdk synth`` builds it, into ``.e2e/cdk.out``; stack -> template.

    Without the cdk-nag packs: they change no template, and `make test` runs them.
    """
    from examples.app import REFERENCE_STACKS, cli_context, new_app

    outdir = WORK / "cdk.out"
    app = new_app(context=cli_context(), outdir=str(outdir))
    for stack_id, stack_class in REFERENCE_STACKS.items():
        stack_class(app, stack_id)
    app.synth()
    return {
        stack_id: json.loads((outdir / f"{stack_id}.template.json").read_text())
        for stack_id in REFERENCE_STACKS
    }


def refused_types(endpoint: str, templates: dict[str, dict]) -> dict[str, set[str]]:
    """Per stack, the resource types the emulator refuses (asked through ValidateTemplate)."""
    import boto3
    from botocore.exceptions import ClientError

    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    refused = {}
    for stack, template in templates.items():
        probe = {
            "Resources": {
                f"R{index}": {"Type": resource_type}
                for index, resource_type in enumerate(sorted(adapt.resource_types(template)))
            }
        }
        try:
            cloudformation.validate_template(TemplateBody=json.dumps(probe))
            refused[stack] = set()
        except ClientError as error:
            message = error.response["Error"]["Message"]
            if "Unrecognized resource types: [" not in message:
                raise
            listed = message.split("Unrecognized resource types: [", 1)[1].split("]", 1)[0]
            refused[stack] = {name.strip() for name in listed.split(",")}
    return refused


def cdk(*args: str, env: dict[str, str]) -> None:
    command = [str(CDK), *args]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.stdout.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"failed: {' '.join(command)}")


def deploy(
    endpoint: str, timings: dict[str, float], deployed: Callable[[str], None] = lambda _: None
) -> None:
    """Synthesize, check the drops, copy with the adaptations, bootstrap, deploy each stack
    (one at a time, those whose tests wait longest first); ``deployed(stack)`` after each."""
    with timed("synthesize", timings):
        templates = synthesize()
    env = client_env(endpoint)
    problems = adapt.drop_problems(
        {stack: adapt.resource_types(template) for stack, template in templates.items()},
        refused_types(endpoint, templates),
    )
    if problems:
        raise SystemExit("Unsupported resource types:\n- " + "\n- ".join(problems))
    assembly = WORK / "deploy.out"
    adapt.copy_assembly(WORK / "cdk.out", assembly, templates)
    with timed("bootstrap", timings):
        cdk("bootstrap", f"aws://{ACCOUNT}/{REGION}", "--app", str(assembly), env=env)
    for stack in sorted(templates, key=lambda stack: -_consumers(templates[stack])):
        with timed(f"deploy {stack}", timings):
            cdk("deploy", stack, "--app", str(assembly), "--require-approval", "never", env=env)
        deployed(stack)


def _consumers(template: dict) -> int:
    """Event source mappings: stacks with more wait longer in their tests (retries), so they
    are deployed, and their tests started, first."""
    return sum(
        resource["Type"] == "AWS::Lambda::EventSourceMapping"
        for resource in template["Resources"].values()
    )


#: Test modules running at once: their Lambda cold starts share the emulator's 2 cores.
PARALLEL_MODULES = 4

#: ``STACK = "SyncApi"`` or ``STACK, CONSTRUCT = "AsyncApi", ...`` in a test module.
_STACK = re.compile(r'^STACK(?:, \w+)* = "(\w+)"', re.MULTILINE)


class TestRuns:
    """The e2e test modules, each in its own pytest process, started as soon as the stack it
    drives (its ``STACK``) is deployed (at most :data:`PARALLEL_MODULES` at once); the others
    once every stack is. Most of their time is waiting (a poison message's receives), so they
    overlap the remaining deploys and each other."""

    def __init__(self, endpoint: str) -> None:
        self.env = client_env(endpoint)
        self.reports = WORK / "tests"
        self.reports.mkdir(parents=True, exist_ok=True)
        self.waiting: dict[Path, str | None] = {}
        for module in sorted((ROOT / "tests" / "e2e").glob("test_*.py")):
            text = module.read_text()
            if "pytestmark = pytest.mark.e2e" in text:  # not test_adapt.py, a unit test
                match = _STACK.search(text)
                self.waiting[module] = match.group(1) if match else None
        self.ready: list[Path] = []
        self.running: dict[Path, subprocess.Popen[bytes]] = {}
        self.failed: list[str] = []
        self.started = time.monotonic()

    def _start(self, module: Path) -> None:
        # --confcutdir: not tests/conftest.py, which loads the CDK (jsii) and moto.
        command = [sys.executable, "-m", "pytest", "-m", "e2e", "--confcutdir=tests/e2e"]
        with (self.reports / f"{module.stem}.log").open("wb") as output:
            self.running[module] = subprocess.Popen(
                [*command, str(module.relative_to(ROOT))],
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def deployed(self, stack: str) -> None:
        for module, needs in list(self.waiting.items()):
            if needs == stack:
                self.ready.append(self.waiting.pop(module) and module)
        self._start_ready()

    def _start_ready(self) -> None:
        """Start ready modules while fewer than :data:`PARALLEL_MODULES` run."""
        for module, run in list(self.running.items()):
            if run.poll() is not None:
                self._report(module, run)
        while self.ready and len(self.running) < PARALLEL_MODULES:
            self._start(self.ready.pop(0))

    def _report(self, module: Path, run: subprocess.Popen[bytes]) -> None:
        del self.running[module]
        output = (self.reports / f"{module.stem}.log").read_text()
        lines = output.strip().splitlines() or ["(no output)"]
        log(f"{module.name}: {lines[-1]} (at {time.monotonic() - self.started:.0f} s)")
        if run.returncode:
            self.failed.append(module.name)
            sys.stdout.write(output)

    def finish(self) -> int:
        """Run the rest, wait for all, report each as it ends; 0 if all passed."""
        self.ready += list(self.waiting)
        self.waiting.clear()
        while self.ready or self.running:
            self._start_ready()
            time.sleep(0.2)
        if self.failed:
            log(f"FAILED: {', '.join(self.failed)}")
        return 1 if self.failed else 0

    def stop(self) -> None:
        for run in self.running.values():
            run.terminate()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.e2e", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "up", "down"])
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (run only)")
    options = parser.parse_args()
    if options.command == "down":
        if STATE.exists():
            stop(json.loads(STATE.read_text())["pid"])
            STATE.unlink()
        return 0

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    timings: dict[str, float] = {}
    total = time.monotonic()
    process, endpoint = start()
    tests = None if options.command == "up" or options.pytest_args else TestRuns(endpoint)
    keep = False  # only `up`, once everything is deployed, leaves MiniStack running
    try:
        log(f"MiniStack {endpoint} (PID {process.pid})")
        deploy(endpoint, timings, tests.deployed if tests else lambda _: None)
        if options.command == "up":
            STATE.write_text(json.dumps({"pid": process.pid, "endpoint": endpoint}))
            log(f"running: E2E_ENDPOINT={endpoint}; stop with `python -m tools.e2e down`")
            keep = True
            return 0
        with timed("tests (after the last deploy)", timings):
            if tests is None:  # a selection (-k ...): one process, as asked
                command = [sys.executable, "-m", "pytest", "-m", "e2e", "tests/e2e"]
                return subprocess.run(
                    [*command, *options.pytest_args], env=client_env(endpoint), cwd=ROOT
                ).returncode
            return tests.finish()
    finally:
        if tests is not None:
            tests.stop()
        if not keep:
            stop(process.pid)
            log(f"stopped MiniStack (PID {process.pid})")
        log(f"total: {time.monotonic() - total:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
