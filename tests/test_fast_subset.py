"""The fast subset (``dev.py test --fast``) leaves out the tests marked ``process``:
a test that starts a program without the marker is refused, so none slips in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_an_unmarked_test_cannot_start_a_process() -> None:
    with pytest.raises(RuntimeError, match=r"mark it @pytest\.mark\.process"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
    with pytest.raises(RuntimeError, match=r"os\.system"):
        os.system("true")


@pytest.mark.process
def test_a_marked_test_can() -> None:
    assert subprocess.run([sys.executable, "-c", "pass"], check=False).returncode == 0
