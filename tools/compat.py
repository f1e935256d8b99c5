"""``make compat``: the library as a platform team installs it, on the releases it declares.

In a fresh virtualenv holding only the wheel and its declared dependencies:

1. a user app outside the repo (``tools/user_app``: pinned to an account and region, imports
   in the README's order, the cdk-nag packs) synthesizes with aws-cdk-lib one minor release
   below the repo's pin, so co-installing with it works;
2. the reference stacks synthesize from the installed wheel, cdk-nag passing, with the lowest
   aws-cdk-lib pyproject.toml declares (their templates may differ from the snapshots).

Not part of ``make test``: installing aws-cdk-lib takes a while.
"""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
BUILD_REQUIRES = PYPROJECT["build-system"]["requires"]
#: What the sdist may hold at its top level: the library and what describes it, no tests.
SDIST_TOP_LEVEL = {
    "constructs", "PKG-INFO", "pyproject.toml", "setup.cfg", "README.md", "LICENSE",
    "CHANGELOG.md", "MANIFEST.in",
}  # fmt: skip
#: Pins that follow the aws-cdk-lib release chosen, so never copied from constraints.txt.
FOLLOWS_AWS_CDK_LIB = re.compile(r"^aws-cdk(-lib|\.)", re.IGNORECASE)


def lowest_aws_cdk_lib() -> str:
    """The lower bound of aws-cdk-lib in pyproject.toml's dependencies."""
    [spec] = [dep for dep in PYPROJECT["project"]["dependencies"] if dep.startswith("aws-cdk-lib")]
    found = re.search(r">=\s*([\d.]+)", spec)
    assert found, f"no lower bound in {spec!r}"
    return found.group(1)


def one_minor_below_pin() -> str:
    """``2.N.*`` for the minor release below the one constraints.txt pins."""
    found = re.search(r"^aws-cdk-lib==2\.(\d+)\.", (ROOT / "constraints.txt").read_text(), re.M)
    assert found, "constraints.txt pins no aws-cdk-lib 2.x"
    return f"2.{int(found.group(1)) - 1}.*"


def constraints(work: Path, aws_cdk_lib: str) -> Path:
    """constraints.txt with aws-cdk-lib (and what follows it) moved to ``aws_cdk_lib``."""
    pins = [
        line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if not FOLLOWS_AWS_CDK_LIB.match(line)
    ]
    path = work / f"constraints-{aws_cdk_lib.replace('*', 'x')}.txt"
    path.write_text("\n".join([*pins, f"aws-cdk-lib=={aws_cdk_lib}"]) + "\n")
    return path


def user_environment() -> dict[str, str]:
    """This environment without the repo's venv on PATH, JSII_NODE or PYTHONPATH: a user's."""
    env = {k: v for k, v in os.environ.items() if k not in {"JSII_NODE", "PYTHONPATH"}}
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if not entry.startswith(str(ROOT))
    )
    return env


def step(title: str, *command: str | Path, cwd: Path = ROOT, quiet: bool = False) -> None:
    """Run ``command`` as a user would; ``quiet`` shows its output only if it fails."""
    started = time.monotonic()
    print(f"compat: {title}", flush=True)
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=user_environment(), capture_output=quiet
    )
    if done.returncode:
        sys.exit(f"compat: failed: {title}\n{done.stdout or ''}{done.stderr or ''}")
    print(f"compat: ... {time.monotonic() - started:.0f} s", flush=True)


def build(work: Path) -> Path:
    """Build the wheel and the sdist (as build frontends do); check what each ships."""
    builder = work / "build-venv" / "bin" / "python"
    step("build: a virtualenv for the build backend", sys.executable, "-m", "venv",
         builder.parents[1])  # fmt: skip
    step(f"build: install {' '.join(BUILD_REQUIRES)}", builder, "-m", "pip", "install",
         "-q", "--disable-pip-version-check", *BUILD_REQUIRES)  # fmt: skip
    dist = work / "dist"
    backend = "from setuptools import build_meta as b; "
    step("build: the wheel and the sdist", builder, "-c", f"{backend}b.build_wheel"
         f"({str(dist)!r}); b.build_sdist({str(dist)!r})", quiet=True)  # fmt: skip
    [wheel] = dist.glob("serverless_patterns-*.whl")
    [sdist] = dist.glob("serverless_patterns-*.tar.gz")
    package = "constructs/serverless_patterns/"
    tracked = subprocess.run(
        ["git", "ls-files", package], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    missing = [path for path in tracked if path.removeprefix("constructs/") not in shipped]
    if missing:
        sys.exit(f"compat: the wheel leaves out {missing}")
    with tarfile.open(sdist) as archive:
        top = {Path(name).parts[1] for name in archive.getnames() if len(Path(name).parts) > 1}
    if top - SDIST_TOP_LEVEL:
        sys.exit(f"compat: the sdist ships {sorted(top - SDIST_TOP_LEVEL)}")
    print(f"compat: {wheel.name} ships all {len(tracked)} package files; sdist holds {sorted(top)}")
    return wheel


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="serverless-patterns-compat-") as tmp:
        work = Path(tmp)
        python = work / "venv" / "bin" / "python"
        pip = [python, "-m", "pip", "install", "-q", "--no-compile", "--disable-pip-version-check"]
        step("create a fresh virtualenv", sys.executable, "-m", "venv", work / "venv")
        wheel = build(work)

        below = one_minor_below_pin()
        step(
            f"install the wheel with aws-cdk-lib {below} (and the app's own cdk-nag)",
            *pip, "-c", constraints(work, below), f"{wheel}[node]", "cdk-nag",
        )  # fmt: skip
        app = work / "user_app"
        shutil.copytree(ROOT / "tools" / "user_app", app)
        step("synthesize the user app (env-pinned, cdk-nag packs)", python, "app.py", cwd=app)

        lowest = lowest_aws_cdk_lib()
        step(
            f"move to the lowest declared aws-cdk-lib, {lowest}, with the examples' extras",
            *pip, "-c", constraints(work, lowest), f"{wheel}[node,examples]",
        )  # fmt: skip
        step(
            "synthesize the reference stacks from the wheel", python, "-m", "tools.compat_reference"
        )
    print(f"compat: passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
