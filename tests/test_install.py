"""install.sh and CI: the README's two commands work on stock Debian, in a venv and in CI.

The real install takes minutes, so these run install.sh's decisions with INSTALL_DRY_RUN=1 in
a throwaway copy (it prints each command it would run) and check the scripts with shellcheck.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = [REPO / "install.sh", REPO / ".ci" / "run", REPO / ".ci" / "wheel"]


def test_scripts_parse_and_pass_shellcheck() -> None:
    for script in SCRIPTS:
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0, script
        assert os.access(script, os.X_OK), f"{script} is not executable"
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run(["shellcheck", *map(str, SCRIPTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_readme_commands_are_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, re.S)
    assert commands == [
        './install.sh && .venv/bin/tts say "Hello there." --speaker p225 -o hello.wav',
        "./install.sh && .venv/bin/python -m pytest -q",
    ]
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith(("#", "set ", "cd "))]
    assert ci[0] == commands[1] and ci[1:] == [".ci/wheel"]


def _fake_python(directory: Path, *, has_venv: bool) -> Path:
    """A python3 on PATH that is Python 3.11, with or without the venv module (Debian's split)."""
    directory.mkdir()
    script = directory / "python3"
    refuse = "" if has_venv else 'case "$*" in *ensurepip*) exit 1;; esac\n'
    script.write_text(f'#!/usr/bin/env bash\n{refuse}exec {sys.executable} "$@"\n')
    script.chmod(0o755)
    return script


def dry_run(tmp_path: Path, *, virtual_env: str | None = None, has_venv: bool = True,
            existing_venv: bool = False) -> str:
    """install.sh's dry run in a copy of the checkout's top level, as a user without a venv."""
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy2(REPO / "install.sh", root / "install.sh")
    if existing_venv:
        (root / ".venv" / "bin").mkdir(parents=True)
        os.symlink(sys.executable, root / ".venv" / "bin" / "python")
    fake = _fake_python(tmp_path / "bin", has_venv=has_venv)
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYENV_VERSION")}
    env.update(INSTALL_DRY_RUN="1", PATH=f"{fake.parent}:/usr/bin:/bin")
    if virtual_env is not None:
        env["VIRTUAL_ENV"] = virtual_env
    result = subprocess.run(["bash", str(root / "install.sh")], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not (root / ".venv").exists() or existing_venv, "a dry run changed something"
    return result.stderr


def test_without_a_venv_it_makes_one_and_installs_there(tmp_path: Path) -> None:
    log = dry_run(tmp_path)
    fake = tmp_path / "bin" / "python3"
    assert f"+ {fake} -m venv .venv" in log
    assert "+ .venv/bin/python -m pip install -q torch==2.13.0" in log
    assert "+ .venv/bin/python -m pip install -q -e .[test]" in log
    assert "python3-venv" not in log


def test_without_the_venv_module_it_installs_python3_venv(tmp_path: Path) -> None:
    log = dry_run(tmp_path, has_venv=False)
    apt = [line for line in log.splitlines() if "apt-get install" in line]
    assert len(apt) == 1 and "python3-venv" in apt[0]
    assert log.index("apt-get install") < log.index("-m venv .venv")


def test_an_active_venv_is_used_and_linked(tmp_path: Path) -> None:
    active = tmp_path / "active-venv"
    log = dry_run(tmp_path, virtual_env=str(active))
    assert f"+ ln -s {active} .venv" in log and "-m venv" not in log
    assert "+ .venv/bin/python -m pip install -q -e .[test]" in log


def test_an_existing_project_venv_is_reused(tmp_path: Path) -> None:
    log = dry_run(tmp_path, existing_venv=True, virtual_env=str(tmp_path / "other"))
    assert "-m venv" not in log and "ln -s" not in log
    assert "+ .venv/bin/python -m pip install -q torch==2.13.0" in log
