"""Both locks install with pip alone on Windows: every locked package has a wheel
for win_amd64 (or a pure-Python one), so nothing is built from source there (no
python-ldap, which needs OpenLDAP's headers and has no Windows wheel).

uv resolves the lock for Windows without building anything (``--only-binary``),
reading only the index's lists of files; offline, the test skips, except in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"


@pytest.mark.process
@pytest.mark.parametrize("lock", ["prod.lock", "dev.lock"])
def test_every_locked_package_has_a_windows_wheel(lock, tmp_path):
    command = [
        *(str(UV), "pip", "install", "--dry-run", "--no-deps", "--only-binary", ":all:"),
        *("--python-platform", "x86_64-pc-windows-msvc", "--python-version", "3.11"),
        *("--target", str(tmp_path), "-r", str(ROOT / "requirements" / lock)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0 and "no usable wheels" not in done.stderr:
        message = f"uv could not read the package index: {done.stderr.strip()[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert done.returncode == 0, done.stderr
    assert "ldap3" in done.stderr + done.stdout  # the directory's library is in the set
