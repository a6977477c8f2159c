"""Everything installs with pip alone on Windows: every locked package has a wheel for it.

A package without a Windows wheel (python-ldap, under django-auth-ldap, is the
classic one) makes ``pip install`` build it from source, which needs a compiler
and C headers a Windows server does not have. pip itself answers the question:
an install for win_amd64 / CPython 3.11 that accepts wheels only, resolved
without installing (``--dry-run``), of the packages the lock keeps for Windows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

LOCKS = Path(__file__).resolve().parents[2] / "requirements"

# The marker environment of a Windows server with CPython 3.11 (64-bit).
WINDOWS = {
    "sys_platform": "win32",
    "platform_system": "Windows",
    "os_name": "nt",
    "platform_machine": "AMD64",
    "python_version": "3.11",
    "python_full_version": "3.11.9",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
}


def windows_requirements(lock: Path) -> list[str]:
    """``name==version`` of each package the lock installs on Windows."""
    pinned = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line[:1].isalnum():
            requirement = Requirement(line.split(" \\")[0])
            if requirement.marker is None or requirement.marker.evaluate(WINDOWS):
                pinned.append(f"{requirement.name}{requirement.specifier}")
    return pinned


@pytest.mark.process
@pytest.mark.parametrize("lock", ["prod.lock", "dev.lock"])
def test_every_locked_package_has_a_windows_wheel(lock: str, tmp_path: Path) -> None:
    pinned = windows_requirements(LOCKS / lock)
    (tmp_path / "windows.txt").write_text("\n".join(pinned), encoding="utf-8")
    report = tmp_path / "report.json"
    command = [
        *(sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps"),
        *("--ignore-installed", "--target", str(tmp_path / "target")),
        *("--only-binary=:all:", "--platform", "win_amd64", "--python-version", "3.11"),
        *("--implementation", "cp", "--abi", "cp311", "--report", str(report)),
        *("-r", str(tmp_path / "windows.txt")),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "No matching distribution" not in done.stderr:
        message = f"pip could not reach its package index: {done.stderr.strip()[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    assert done.returncode == 0, f"a package has no Windows wheel:\n{done.stderr[-2000:]}"
    chosen = [item["download_info"]["url"] for item in json.loads(report.read_text())["install"]]
    assert len(chosen) == len(pinned)
    assert all(url.endswith(".whl") for url in chosen)


def test_the_windows_selection_reads_the_locks_markers() -> None:
    """gunicorn (no Windows support) is left out, colorama (Windows only) kept."""
    prod = {Requirement(line).name for line in windows_requirements(LOCKS / "prod.lock")}
    dev = {Requirement(line).name for line in windows_requirements(LOCKS / "dev.lock")}
    assert "gunicorn" not in prod and {"waitress", "django"} <= prod
    assert "colorama" in dev
