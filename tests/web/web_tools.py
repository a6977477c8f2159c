"""Checkers the accessibility tests run, fetched from the npm registry with npm itself
into ``.cache/npm`` (pinned versions, no install scripts: both packages ship the file
the tests use).

- ``axe-core`` (MPL-2.0): ``axe.min.js``, evaluated in the page under test.
- ``vnu-jar`` (MIT): the Nu HTML Checker, run with the machine's Java.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "npm"
PACKAGES = {"axe-core": "4.14.1", "vnu-jar": "26.9.27"}
FILES = {"axe-core": "axe.min.js", "vnu-jar": "build/dist/vnu.jar"}


def _missing(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{message}: required in CI")
    pytest.skip(message)


def package_file(name: str) -> Path:
    """The file of ``name`` the tests use, installed with npm on first use."""
    path = CACHE / "node_modules" / name / FILES[name]
    if not path.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _missing("npm is not installed (apt-get install npm)")
        specs = [f"{package}@{version}" for package, version in PACKAGES.items()]
        options = ["--no-audit", "--no-fund", "--ignore-scripts", "--no-save"]
        subprocess.run([npm, "install", "--prefix", str(CACHE), *options, *specs], check=True)
    return path


def java() -> str:
    path = shutil.which("java")
    if path is None:
        _missing("Java is not installed (apt-get install default-jre-headless)")
    return str(path)
