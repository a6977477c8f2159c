"""Fault injection for the tests (and bench/faults.py): servers the test can cut
and bring back.

Never the shared services: a TCP proxy between a worker and the shared
PostgreSQL (the worker's database goes down, the test's own connection stays),
a private redis-server, and a private PostgreSQL to restart for real.

Both come back on the port they had, so that their clients reconnect: the port is
picked by the system (port 0) and held; only a restart binds it again, retrying
while the kernel still holds it (``bind_again``).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

REDIS_CONF = Path(__file__).resolve().parent.parent / "deploy" / "redis" / "si-gouvernance.conf"


def bound_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1:``port`` (0: one the system picks), not
    listening yet: nothing else can take the port, connections are refused. Bound
    again, the port's old connections in TIME_WAIT must not stand in the way: Linux
    lets them go only if the *first* socket had SO_REUSEADDR too (it never lets two
    listeners share a port)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def bind_again(port: int, *, timeout: float = 10) -> socket.socket:
    """``port`` bound again after a restart; fails if another program took it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return bound_socket(port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def candidate_port() -> int:
    """A port the system says is unused now, released: only for a server that
    cannot bind port 0 itself and whose start checks it got it (PrivateRedis)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``upstream``; ``cut()`` drops every connection
    and refuses new ones (a server down), ``restore()`` listens again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._bound: socket.socket | None = bound_socket()
        self.port = int(self._bound.getsockname()[1])
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener, self._bound = self._bound or bind_again(self.port), None
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    restore = start

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        for sock in [self._bound, listener, *sockets]:
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self._bound = None

    stop = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update({client, server})
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class PrivateRedis:
    """A redis-server of the test's own, keeping nothing on disk: stopped and
    started again, it comes back empty (as a restarted broker does), on its port;
    or, ``persistent``, as deploy/redis configures production's.

    redis-server cannot be told port 0 (``--port 0`` turns TCP off) and the broker
    URL must be TCP, so the port is a candidate the system offers; ``start()``
    checks that the server answering there is this process, and on a first start
    tries another candidate if another program took it meanwhile."""

    def __init__(
        self, directory: Path, wait: Callable[..., None], *, persistent: bool = False
    ) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        self.port = candidate_port()
        self.directory = directory
        self.wait = wait
        self.processes: list[subprocess.Popen[bytes]] = []
        # True: started with deploy/redis's settings (its append-only file, flushed
        # every second), a restart or a kill -9 replays the queue from the file.
        self.persistent = persistent

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def start(self) -> None:
        for _ in range(1 if self.processes else 5):  # a restart keeps its port
            if self._started_here():
                return
            self.port = candidate_port()
        pytest.fail("redis-server could not listen on the port it was given")

    def _started_here(self) -> bool:
        """redis-server on our port: True once it (not another program) answers."""
        command = ["redis-server", *([str(REDIS_CONF)] if self.persistent else [])]
        command += ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--dir", str(self.directory)]
        command += [] if self.persistent else ["--appendonly", "no"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        self.processes.append(process)
        self.wait(
            lambda: process.poll() is not None or self._pid_answering() == process.pid,
            timeout=20,
            what="redis-server to listen",
        )
        return process.poll() is None

    def _pid_answering(self) -> int | None:
        """The process id of the redis-server answering on our port, if any."""
        import redis

        try:
            info = redis.Redis(port=self.port, socket_timeout=0.5).info("server")
        except redis.RedisError:
            return None
        return int(info["process_id"])

    def stop(self) -> None:
        self.processes[-1].terminate()
        self.processes[-1].wait(timeout=20)

    def kill(self) -> None:
        """``kill -9``: the server dies at once, without a word to its clients."""
        self.processes[-1].kill()
        self.processes[-1].wait(timeout=20)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _postgres_bin() -> Path | None:
    """The directory of PostgreSQL's server programs (initdb, pg_ctl), if any."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return candidates[-1].parent if candidates else None


class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb in ``directory``, trust on the
    loopback only), that the test can restart as an operator does (``pg_ctl
    restart -m fast``: every session ends, the server is back a moment later).

    PostgreSQL cannot be told port 0 either: the port is a candidate the system
    offers, another one tried if the first start fails. Run as root, the server
    runs as the ``postgres`` user (initdb refuses root), in a directory of /tmp it
    owns (pytest's own directories are root's alone)."""

    def __init__(self) -> None:
        bin_dir = _postgres_bin()
        if bin_dir is None:
            pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
        self.bin_dir = bin_dir
        self.directory = Path(tempfile.mkdtemp(prefix="private-postgres-"))
        self.data = self.directory / "data"
        self.port = candidate_port()
        self.started = False
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            shutil.chown(self.directory, user="postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin_dir / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
            user=self.user,
            cwd=self.directory,
        )

    def _pg_ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        log = str(self.directory / "server.log")
        self._run("pg_ctl", action, "-D", str(self.data), "-w", "-o", options, "-l", log, *args)

    def start(self) -> None:
        """Started, on its port once it has one (its clients reconnect there)."""
        for _ in range(1 if self.started else 5):
            try:
                self._pg_ctl("start")
                self.started = True
                return
            except subprocess.CalledProcessError:
                if self.started:
                    raise
                self.port = candidate_port()  # another program took it meanwhile
        pytest.fail("PostgreSQL could not listen on the ports it was given")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def crash(self) -> None:
        """Stopped as a power cut stops it (``-m immediate``: no checkpoint, no
        goodbye to its sessions); ``start()`` then replays its WAL."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")

    def close(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
