"""The public API's types, checked by ``mypy --strict`` (issue 13, item 11).

``tests/typing/usage_ok.py`` must pass; every line of
``tests/typing/usage_bad.py`` marked ``# E: <code>`` must be rejected with
that error code, and no other line. Run on Python 3.10's rules, the oldest
supported. No server needed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TYPING = HERE / "typing"
EXPECTED = re.compile(r"#\s*E:\s*([\w-]+(?:\s*,\s*[\w-]+)*)\s*$")
REPORTED = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")


def mypy(path: Path, tmp_path: Path) -> tuple[int, str]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version",
            "3.10",
            "--no-error-summary",
            "--show-error-codes",
            "--no-pretty",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            str(path.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr


def expected_errors(path: Path) -> set[tuple[int, str]]:
    expected = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECTED.search(line)
        if match:
            expected |= {(number, code.strip()) for code in match.group(1).split(",")}
    return expected


def reported_errors(output: str, path: Path) -> set[tuple[int, str]]:
    """The (line, code) of each error mypy reports in ``path``; an error
    elsewhere (in kinto_client itself) or without a code fails the test."""
    errors = set()
    for line in output.splitlines():
        match = REPORTED.match(line)
        if match and Path(match.group("path")) == path.relative_to(ROOT):
            errors.add((int(match.group("line")), match.group("code")))
        elif ": error:" in line:
            pytest.fail(f"an error outside {path.name}, or without a code: {line}\n{output}")
    return errors


@pytest.fixture(scope="module")
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("typing")


def test_typed_usage_passes_mypy_strict(tmp_cache: Path) -> None:
    status, output = mypy(TYPING / "usage_ok.py", tmp_cache)
    assert status == 0, output


def test_misuses_are_rejected_exactly(tmp_cache: Path) -> None:
    path = TYPING / "usage_bad.py"
    expected = expected_errors(path)
    assert len(expected) >= 15  # the markers were read
    status, output = mypy(path, tmp_cache)
    assert status == 1, output
    reported = reported_errors(output, path)
    missing = sorted(expected - reported)
    unexpected = sorted(reported - expected)
    assert not missing and not unexpected, (
        f"accepted but marked # E: {missing}\nrejected but not marked: {unexpected}\n{output}"
    )
