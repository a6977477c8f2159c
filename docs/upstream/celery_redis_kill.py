"""Minimal reproduction (Celery 5.7.0, kombu 5.7.0, redis-py 8.1.0, Linux): a prefork
worker with two processes, one running an acks-late task, stops with
``AttributeError("'NoneType' object has no attribute 'hostname'")`` when its Redis
broker is killed (``kill -9``) and comes back. Needs ``redis-server`` on PATH.

    python docs/upstream/celery_redis_kill.py     # prints "worker alive: False"

Nothing of SI-Gouvernance is used: a throwaway app in a temporary directory.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APP = """
import time
from celery import Celery
app = Celery("repro", broker="redis://127.0.0.1:{port}/0")
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1,
                worker_cancel_long_running_tasks_on_connection_loss=True)
@app.task
def slow(seconds):
    time.sleep(seconds)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server(port: int, directory: str) -> subprocess.Popen:
    import redis

    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = subprocess.Popen([*command, "--dir", directory], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            redis.Redis(port=port).ping()
            return process
        except redis.RedisError:
            time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def main() -> None:
    directory, port = tempfile.mkdtemp(), free_port()
    Path(directory, "reproapp.py").write_text(APP.format(port=port))
    server = redis_server(port, directory)
    log = Path(directory, "worker.log")
    command = [sys.executable, "-m", "celery", "-A", "reproapp", "worker", "--pool=prefork"]
    command += ["--concurrency=2", "--loglevel=INFO"]
    env = {**os.environ, "PYTHONPATH": directory}
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command,
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        assert wait(lambda: " ready." in log.read_text(), 60), log.read_text()
        sys.path.insert(0, directory)
        import reproapp

        reproapp.slow.delay(12)
        assert wait(lambda: "received" in log.read_text(), 30)
        time.sleep(2)
        server.kill()  # kill -9 while the task runs and the other process is free
        server.wait()
        time.sleep(3)
        server = redis_server(port, directory)
        wait(lambda: worker.poll() is not None, 60)
        print("worker alive:", worker.poll() is None)
        print(log.read_text()[-6000:])
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        server.kill()


if __name__ == "__main__":
    main()
