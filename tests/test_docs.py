"""The documentation runs: every Python example of README.rst and docs/*.rst.

Conventions (see docs/index.rst's "About the examples"):

- each ``.. code-block:: python`` block of a page runs, in page order, in one
  namespace that starts with ``from kinto_client import Client`` and
  ``client = Client(server_url="http://localhost:8888/v1", auth=("alexis", "p4ssw0rd"))``;
- ``http://localhost:8888/v1`` is replaced by the test server's URL;
- the server is flushed before each page, and the page runs in a temporary
  directory (examples may write files);
- a block with the option ``:class: no-run`` is skipped (keep those rare);
- a page whose first lines hold the comment ``.. server: plugins`` runs
  against the server with the extra plugins (accounts, attachments).

A failure names the page, the line of the block and shows the block, and the
traceback points at lines of the page itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_URL = "http://localhost:8888/v1"
PREAMBLE = (
    "from kinto_client import Client\n"
    f'client = Client(server_url="{DOC_URL}", auth=("alexis", "p4ssw0rd"))\n'
)
#: The server with the extra plugins: its URL, and the fixture that flushes it.
PLUGIN_FIXTURES = ("plugins_server_url", "plugins_flush")

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. (?P<name>[\w-]+)::[ \t]*(?P<arg>\S*)[ \t]*$")
_OPTION = re.compile(r"^[ \t]+:(?P<name>[\w-]+):(?P<value>.*)$")
_SERVER_COMMENT = re.compile(r"^\.\. server: *(?P<kind>\S+) *$", re.M)
_PYTHON_NAMES = {"python", "py", "python3", "py3"}


@dataclass
class Block:
    """One code block: where it is, its options, and its dedented source."""

    line: int  # 1-based line of the page where the code starts
    source: str
    options: dict[str, str]

    @property
    def runs(self) -> bool:
        return "no-run" not in self.options.get("class", "").split()


def pages() -> list[Path]:
    """README.rst, CHANGELOG.rst and every page of the Sphinx site."""
    found = [ROOT / "README.rst", ROOT / "CHANGELOG.rst", *sorted((ROOT / "docs").glob("*.rst"))]
    return [page for page in found if page.exists()]


def code_blocks(text: str, language: str = "python") -> list[Block]:
    """The ``.. code-block:: <language>`` blocks of an RST text, in order."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        i += 1
        if not match or match["name"] != "code-block" or match["arg"] != language:
            continue
        indent = len(match["indent"].expandtabs())
        options: dict[str, str] = {}
        while i < len(lines) and _OPTION.match(lines[i]):
            option = _OPTION.match(lines[i])
            assert option is not None
            options[option["name"]] = option["value"].strip()
            i += 1
        body: list[str] = []
        start = None
        while i < len(lines):
            line = lines[i]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            if start is None and line.strip():
                start = i + 1
            if start is not None:
                body.append(line)
            i += 1
        if start is not None:
            blocks.append(Block(start, textwrap.dedent("\n".join(body)).rstrip() + "\n", options))
    return blocks


def misspelled_python_blocks(text: str) -> list[int]:
    """Lines of Python blocks the runner would not see (another directive or language)."""
    bad = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _DIRECTIVE.match(line)
        if not match:
            continue
        other_directive = match["name"] in ("code", "sourcecode") and match["arg"] in _PYTHON_NAMES
        other_language = match["name"] == "code-block" and match["arg"] in _PYTHON_NAMES - {
            "python"
        }
        if other_directive or other_language:
            bad.append(number)
    return bad


def server_kind(text: str) -> str:
    """``'plugins'`` if the page asks for the plugin server in its first lines."""
    match = _SERVER_COMMENT.search("\n".join(text.splitlines()[:10]))
    return match["kind"] if match else "default"


def runnable_pages() -> list[Path]:
    return [page for page in pages() if any(b.runs for b in code_blocks(page.read_text()))]


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


def run_page(page: Path, server_url: str) -> None:
    """Run the page's blocks in order in one namespace; fail at the first error."""
    text = page.read_text(encoding="utf-8")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    exec(compile(PREAMBLE.replace(DOC_URL, server_url), "<docs preamble>", "exec"), namespace)
    for block in code_blocks(text):
        if not block.runs:
            continue
        # Blank lines before the code keep the traceback's line numbers equal to the page's.
        source = "\n" * (block.line - 1) + block.source.replace(DOC_URL, server_url)
        try:
            exec(compile(source, str(page), "exec"), namespace)
        except Exception as exc:
            listing = "\n".join(
                f"{block.line + n:5d} | {line}" for n, line in enumerate(block.source.splitlines())
            )
            where = [
                frame
                for frame in traceback.extract_tb(exc.__traceback__)
                if frame.filename == str(page)
            ]
            failed_at = where[-1].lineno if where else block.line
            pytest.fail(
                f"{page_id(page)}, line {failed_at} (block starting at line {block.line}) "
                f"raised {type(exc).__name__}: {exc}\n\n{listing}\n\n"
                + "".join(traceback.format_exception(exc)),
                pytrace=False,
            )


# -- the runner itself (no server) ---------------------------------------------------

SAMPLE = """\
Title
=====

.. code-block:: python

    a = 1

    b = a + 1

Text.

.. code-block:: python
   :class: no-run

   input("never")

- a list item

  .. code-block:: python

      assert b == 2

.. code-block:: console

   $ make demo
"""


def test_code_blocks_are_found_with_their_page_lines():
    blocks = code_blocks(SAMPLE)
    assert [b.line for b in blocks] == [6, 15, 21]
    assert blocks[0].source == "a = 1\n\nb = a + 1\n"
    assert [b.runs for b in blocks] == [True, False, True]
    assert blocks[2].source == "assert b == 2\n"
    assert SAMPLE.splitlines()[blocks[2].line - 1].strip() == "assert b == 2"


def test_python_blocks_written_another_way_are_reported():
    text = ".. code:: python\n\n   x = 1\n\n.. code-block:: py\n\n   y = 2\n"
    assert misspelled_python_blocks(text) == [1, 5]
    assert misspelled_python_blocks(SAMPLE) == []


def test_server_comment():
    assert server_kind(".. server: plugins\n\nAccounts\n========\n") == "plugins"
    assert server_kind(SAMPLE) == "default"


def test_failing_block_reports_page_and_line(tmp_path):
    page = tmp_path / "broken.rst"
    page.write_text(".. code-block:: python\n\n   x = 1\n   y = x / 0\n")
    # Runs without a server: the preamble only builds a client.
    with pytest.raises(pytest.fail.Exception) as failure:
        run_page(page, "http://127.0.0.1:9/v1")
    message = str(failure.value)
    assert "line 4 (block starting at line 3)" in message
    assert "ZeroDivisionError" in message
    assert "    4 | y = x / 0" in message


def test_every_python_example_is_collected():
    """A block spelled ``.. code:: python`` would silently never run: refuse it."""
    bad = {
        page_id(page): lines
        for page in pages()
        if (lines := misspelled_python_blocks(page.read_text(encoding="utf-8")))
    }
    assert not bad, f"use '.. code-block:: python' so the tests run these examples: {bad}"


def test_the_main_pages_have_examples():
    names = {page_id(page) for page in runnable_pages()}
    assert {"README.rst", "docs/quickstart.rst"} <= names


# -- the pages, against the real server ----------------------------------------------


@pytest.mark.functional
@pytest.mark.parametrize("page", runnable_pages(), ids=page_id)
def test_page_examples_run(page, request, tmp_path, monkeypatch):
    if server_kind(page.read_text(encoding="utf-8")) == "plugins":
        url = plugin_server(request)
    else:
        request.getfixturevalue("flush")
        url = request.getfixturevalue("server_url")
    monkeypatch.chdir(tmp_path)
    run_page(page, url)


def plugin_server(request: pytest.FixtureRequest) -> str:
    """The flushed server with the extra plugins (fixtures of tests/conftest_plugins.py)."""
    try:
        request.getfixturevalue(PLUGIN_FIXTURES[1])
        return str(request.getfixturevalue(PLUGIN_FIXTURES[0]))
    except pytest.FixtureLookupError:
        pytest.fail(
            f"this page asks for '.. server: plugins' but the fixtures {PLUGIN_FIXTURES} "
            "are not defined (tests/conftest_plugins.py)",
            pytrace=False,
        )


@pytest.mark.functional
def test_quickstart_script(server_url, flush):
    """``make demo``'s script, as the demo runs it: a subprocess with KINTO_SERVER_URL."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / "quickstart.py")],
        env=dict(os.environ, KINTO_SERVER_URL=server_url),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed" in result.stdout
    assert "FAIL" not in result.stdout
