"""The developer commands: ``make help``, ``make runkinto PORT=``, stopping tests/kinto_server.py.

Real processes: the script and ``make`` are started as subprocesses, sent
real signals, and every wait is bounded (a hung process fails the test
instead of hanging the suite). Whatever a test started is stopped by PID at
the end, even when the test failed.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kinto_server import free_port

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "kinto_server.py"
UP = re.compile(r"Kinto is up on (\S+) \(pid (\d+)\)")
#: Upper bounds only, never asserted as durations: Kinto starts in a few seconds.
START_BOUND = 120.0
STOP_BOUND = 60.0


def read_until_up(process: subprocess.Popen[bytes]) -> tuple[str, int]:
    """The URL and the Kinto PID the script announces, read from its stdout."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    output = b""
    deadline = time.monotonic() + START_BOUND
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=1.0):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            output += chunk
            match = UP.search(output.decode("utf-8", "replace"))
            if match:
                return match.group(1), int(match.group(2))
    pytest.fail(f"no 'Kinto is up' line (exit status {process.poll()}); output: {output!r}")


def wait_gone(pid: int) -> bool:
    """Whether the process has exited, polled for STOP_BOUND seconds at most."""
    deadline = time.monotonic() + STOP_BOUND
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; it only waits for its parent to read its status.
    with contextlib.suppress(FileNotFoundError):
        if ") Z " in Path(f"/proc/{pid}/stat").read_text():
            return False
    return True


def assert_port_free(port: int) -> None:
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.settimeout(10)
        probe.connect(("127.0.0.1", port))
    with socket.socket() as sock:
        # As a new server binds it (waitress sets SO_REUSEADDR too).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()


@contextlib.contextmanager
def cleanup(
    process: subprocess.Popen[bytes], pids: list[int], group: bool = False
) -> Iterator[None]:
    """Stop, by PID, what the test started if it is still there at the end.

    ``group``: the process leads a session of its own, whose group is killed too.
    """
    try:
        yield
    finally:
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STOP_BOUND)


@pytest.mark.parametrize(
    ("signum", "status"),
    [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)],
    ids=["SIGTERM", "SIGINT"],
)
def test_signal_stops_the_script_and_its_kinto_child(signum: int, status: int) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    pids: list[int] = []
    with cleanup(process, pids):
        url, kinto_pid = read_until_up(process)
        pids.append(kinto_pid)
        assert url == f"http://127.0.0.1:{port}/v1"
        assert "kinto" in Path(f"/proc/{kinto_pid}/cmdline").read_text()
        assert requests.get(url + "/__heartbeat__", timeout=10).status_code == 200

        process.send_signal(signum)
        assert process.wait(timeout=STOP_BOUND) == status
        assert not alive(kinto_pid), f"kinto (pid {kinto_pid}) outlived the script"
        assert_port_free(port)


def test_sigterm_while_a_command_runs_stops_command_and_kinto(tmp_path: Path) -> None:
    """``kinto_server.py -- COMMAND`` (make demo): SIGTERM stops both children."""
    pid_file = tmp_path / "command.pid"
    command = (
        "import os, pathlib, time; "
        f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); "
        "time.sleep(600)"
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", str(port), "--", sys.executable, "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    pids: list[int] = []
    with cleanup(process, pids):
        _, kinto_pid = read_until_up(process)
        pids.append(kinto_pid)
        deadline = time.monotonic() + START_BOUND
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.1)
        command_pid = int(pid_file.read_text())
        pids.append(command_pid)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_BOUND) == 128 + signal.SIGTERM
        assert not alive(command_pid), "the command outlived the script"
        assert not alive(kinto_pid), "kinto outlived the script"
        assert_port_free(port)


def needs_make() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")


def make_help() -> str:
    needs_make()
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(ROOT), "help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def makefile_targets() -> tuple[set[str], set[str]]:
    """The named targets of the Makefile's rules, and those it declares .PHONY."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    rules = set(re.findall(r"^([A-Za-z][A-Za-z0-9_.-]*)\s*:(?!=)", text, re.M))
    phony: set[str] = set()
    for names in re.findall(r"^\.PHONY\s*:(.*)$", text, re.M):
        phony.update(names.split())
    return rules, phony


def test_makefile_rules_are_the_phony_targets() -> None:
    """Every named rule is a command (the files, such as the stamps, are variables)."""
    rules, phony = makefile_targets()
    assert {"help", "install", "tests", "tests-postgresql", "demo", "runkinto", "dist"} <= rules
    assert rules == phony


def test_make_help_lists_every_target() -> None:
    rules, phony = makefile_targets()
    listed = set(re.findall(r"^\s*make (\S+)\s+\S", make_help(), re.M))
    assert listed == rules | phony


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
    reason="runs make's own .venv; the suite runs elsewhere (tox)",
)
def test_make_runkinto_serves_on_the_given_port() -> None:
    needs_make()
    port = free_port()
    # A session of its own: make, the script and kinto form one process group,
    # which the test signals as a terminal's Ctrl-C would.
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(ROOT), "runkinto", f"PORT={port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    pids: list[int] = []
    with cleanup(process, pids, group=True):
        url, kinto_pid = read_until_up(process)
        pids.append(kinto_pid)
        assert url == f"http://127.0.0.1:{port}/v1"
        assert requests.get(url + "/__heartbeat__", timeout=10).status_code == 200

        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=STOP_BOUND)
        assert wait_gone(kinto_pid), f"kinto (pid {kinto_pid}) still runs after Ctrl-C"
        assert_port_free(port)


def test_make_runkinto_default_port_is_8888() -> None:
    needs_make()
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), "runkinto"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "tests/kinto_server.py --port 8888" in result.stdout
