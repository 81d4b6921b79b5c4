"""Start and stop a real Kinto server on 127.0.0.1 for tests, the demo and benchmarks.

As a script: ``python tests/kinto_server.py [--ini FILE] [--port N] -- COMMAND...``
starts a server, runs COMMAND with ``KINTO_SERVER_URL`` set, stops the
server (by the PID it started) and exits with COMMAND's status. Without a
command, serves in the foreground until interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
DEFAULT_INI = HERE / "config" / "kinto.ini"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kinto_executable() -> str:
    candidate = Path(sys.executable).parent / "kinto"
    return str(candidate) if candidate.exists() else "kinto"


class KintoServer:
    """One ``kinto start`` process that this object started, and stops by PID."""

    def __init__(self, ini: Path | str = DEFAULT_INI, port: int | None = None) -> None:
        self.ini = Path(ini)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    def start(self, timeout: float = 90.0) -> KintoServer:
        self.process = subprocess.Popen(
            [kinto_executable(), "start", "--ini", str(self.ini), "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Kinto exited early ({self.process.returncode}):\n{self.log()}")
            try:
                if requests.get(self.url + "/__heartbeat__", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Kinto did not answer on {self.url} in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-5000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> KintoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", default=str(DEFAULT_INI))
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    server = KintoServer(args.ini, args.port)
    print(f"Starting Kinto on {server.url} ...", flush=True)
    with server:
        print(f"Kinto is up on {server.url}", flush=True)
        if not command:
            try:
                while server.process and server.process.poll() is None:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
            return 0
        env = dict(os.environ, KINTO_SERVER_URL=server.url)
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
