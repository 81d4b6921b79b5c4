"""Run the command-line tools as real subprocesses, with stderr on a pipe or a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from dataclasses import dataclass

TIMEOUT = 120
#: the test users' passwords, which must never be printed
SECRETS = ("p4ssw0rd", "s3cr3t")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINTO_CLIENT_")}
    env.pop("KINTO_SERVER_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_module(
    module: str, *args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None
) -> Result:
    """``python -m module args``, stdout and stderr captured (pipes: not terminals).

    ``env`` adds environment variables (the ``KINTO_CLIENT_*`` of the test
    runner are removed first).
    """
    data = stdin if stdin is not None else ""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        input=data.encode() if isinstance(data, str) else data,
        capture_output=True,
        timeout=TIMEOUT,
        env=_env(env),
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def run_module_on_tty(module: str, *args: str) -> Result:
    """``python -m module args`` with stderr on a pseudo-terminal; returns what it drew."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=_env(),
        )
    finally:
        os.close(slave)
    assert proc.stdout is not None
    out = proc.stdout
    captured: list[bytes] = []
    reader = threading.Thread(target=lambda: captured.append(out.read()))
    reader.start()  # drain stdout meanwhile, so a big output cannot block the command
    drawn = bytearray()
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not data:
                break
            drawn += data
    finally:
        os.close(master)
    reader.join(TIMEOUT)
    out.close()
    returncode = proc.wait(timeout=TIMEOUT)
    stdout = b"".join(captured).decode()
    return Result(returncode, stdout, drawn.decode("utf-8", "replace"))


def assert_one_line_error(result: Result, *needles: str) -> str:
    """A failed command: status 1, one ``prog: error: ...`` line, no traceback."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert ": error: " in lines[0], lines[0]
    for secret in SECRETS:
        assert secret not in result.stderr + result.stdout, "a password leaked"
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
