"""A full log disk (issue 18, item 6): one line on stderr, not a traceback per
record, and health says so. /dev/full answers every write with ENOSPC, as a full
LOG_DIR does: no root needed."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from core import lost_logs
from core.selectors.liveness import logs_health
from si_gouvernance.logging import RotatingFileHandler

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


@pytest.fixture
def full_disk_logger(tmp_path: Path) -> Iterator[logging.Logger]:
    lost_logs.forget()
    log_file = tmp_path / "logs" / "si_gouvernance.log"
    log_file.parent.mkdir()
    log_file.symlink_to("/dev/full")
    handler = RotatingFileHandler(str(log_file), maxBytes=10 * 1024 * 1024, backupCount=5)
    logger = logging.getLogger("tests.full_disk")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger
    logger.removeHandler(handler)
    with contextlib.suppress(OSError):  # its last flush: logging.shutdown() ignores it too
        handler.close()
    lost_logs.forget()


def test_a_full_disk_prints_one_line_not_a_traceback_per_record(full_disk_logger, capfd):
    for number in range(50):
        full_disk_logger.warning("record %d", number)

    err = capfd.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err
    [line] = err.splitlines()
    assert "si_gouvernance.log" in line and "No space left on device" in line


def test_the_lost_records_are_counted_and_health_warns(db, full_disk_logger):
    for number in range(3):
        full_disk_logger.error("record %d", number)

    report = logs_health(now=timezone.now())

    assert report.ok and report.warning  # a warning: pages and jobs go on
    assert report.figures["lost_records"] == 3
    assert report.figures["errors"] == ["ENOSPC"]
    assert report.as_dict()["status"] == "warn"


def test_logs_written_normally_are_healthy(db, tmp_path, settings):
    lost_logs.forget()
    settings.LOG_DIR = tmp_path
    report = logs_health(now=timezone.now())
    assert report.as_dict()["status"] == "ok"
