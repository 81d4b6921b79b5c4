"""Start and stop a real Kinto server on 127.0.0.1 for tests, the demo and benchmarks.

As a script: ``python tests/kinto_server.py [--ini FILE] [--port N] -- COMMAND...``
starts a server, runs COMMAND with ``KINTO_SERVER_URL`` set, stops the
server (by the PID it started) and exits with COMMAND's status. Without a
command, serves in the foreground until interrupted (``make runkinto``).

SIGTERM, SIGINT (Ctrl-C) and SIGHUP stop the script and the ``kinto`` process
it started (and COMMAND), whatever stage it is at: the port is free afterwards.
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
        try:
            return self._wait_until_up(timeout)
        except BaseException:
            # Interrupted (SIGTERM, Ctrl-C) or failed while starting: __exit__ will
            # not run, so the process is stopped here.
            self.stop()
            raise

    def _wait_until_up(self, timeout: float) -> KintoServer:
        assert self.process is not None
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
            pass
        finally:
            # Also when interrupted while waiting: never leave it running.
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> KintoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def exit_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into SystemExit, so that the servers are stopped on the way out.

    SIGINT already raises KeyboardInterrupt. A second signal during the shutdown
    is ignored, so that it cannot interrupt the stopping of the server.
    """

    def handler(signum: int, frame: object) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", default=str(DEFAULT_INI), help="Kinto configuration file")
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    args = parser.parse_args(argv)
    exit_on_signals()
    server = KintoServer(args.ini, args.port)
    print(f"Starting Kinto on {server.url} ...", flush=True)
    try:
        with server:
            assert server.process is not None
            print(f"Kinto is up on {server.url} (pid {server.process.pid})", flush=True)
            if command:
                env = dict(os.environ, KINTO_SERVER_URL=server.url)
                return subprocess.call(command, env=env)
            while server.process.poll() is None:
                time.sleep(0.5)
            print(f"Kinto exited ({server.process.returncode}):\n{server.log()}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
