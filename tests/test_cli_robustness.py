"""The command-line tools never show a traceback: credentials, hostile input, bad options.

Commands run as real subprocesses (stdin a pipe, no terminal) against the
test server, and in-process for the hypothesis test (random and hostile
arguments and files: the status is 0, 1 or 2, stderr never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest
from cli_helpers import assert_one_line_error, run_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinto_client import Client, commands

ALEXIS = ("alexis", "p4ssw0rd")
MODULE = "kinto_client"
REPLICATE = "kinto_client.replication"


def shop(server_url: str, *extra: str) -> list[str]:
    return ["-s", server_url, "-a", "alexis:p4ssw0rd", "-b", "shop", "-c", "items", *extra]


@pytest.fixture
def items(server_url: str, flush: None) -> Client:
    client = Client(server_url=server_url, auth=ALEXIS, bucket="shop", collection="items")
    client.create_bucket(if_not_exists=True)
    client.create_collection(if_not_exists=True)
    return client


def stored_ids(client: Client) -> list[str]:
    return sorted(r["id"] for r in client.get_records())


# -- credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["info"],
        ["export", "-b", "shop", "-c", "items"],
        ["import", "-b", "shop", "-c", "items", "--create"],
    ],
)
def test_bare_user_without_a_terminal_is_one_line(server_url, argv):
    result = run_module(MODULE, *argv, "-s", server_url, "-a", "alice", stdin='{"id": "a"}\n')
    assert_one_line_error(result, "no password for 'alice'", "no terminal", "--password-file")


def test_replicate_bare_origin_user_without_a_terminal(server_url):
    args = ["--origin-server", server_url, "--origin-auth", "alice", "-s", server_url, "-c", "x"]
    result = run_module(REPLICATE, *args)
    assert_one_line_error(result, "no password for 'alice'", "--origin-password-file")


def test_help_after_a_bare_user_asks_nothing():
    result = run_module(MODULE, "export", "-a", "alice", "--help")
    assert result.returncode == 0, result.stderr
    assert "--password-file" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("value", "message"), [("", "empty credentials"), ("Bearer", "'Bearer' needs a token")]
)
def test_malformed_auth_is_a_usage_error(value, message):
    result = run_module(MODULE, "info", "-s", "http://127.0.0.1:1/v1", "-a", value)
    assert result.returncode == 2
    assert f"argument -a/--auth: {message}" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_server_and_credentials_from_the_environment(server_url, items):
    env = {
        "KINTO_CLIENT_SERVER_URL": server_url,
        "KINTO_CLIENT_AUTH": "alexis",
        "KINTO_CLIENT_PASSWORD": "p4ssw0rd",
    }
    result = run_module(MODULE, "info", env=env)
    assert result.returncode == 0, result.stderr
    assert "basicauth:" in result.stdout
    # -a wins over the environment: these credentials are refused.
    result = run_module(MODULE, "export", "-b", "shop", "-c", "items", "-a", "nobody:x", env=env)
    assert_one_line_error(result, "403 Forbidden")


def test_password_from_a_file_and_from_stdin(server_url, items, tmp_path):
    items.create_record({"id": "a"})
    secret = tmp_path / "password"
    secret.write_text("p4ssw0rd\n")
    args = ["export", "-s", server_url, "-a", "alexis", "-b", "shop", "-c", "items"]
    result = run_module(MODULE, *args, "--password-file", str(secret))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "a"
    result = run_module(MODULE, *args, "--password-file", "-", stdin="p4ssw0rd\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "a"
    result = run_module(MODULE, *args, "--password-file", str(tmp_path / "nope"))
    assert_one_line_error(result, "--password-file", "nope", "No such file")


def test_import_refuses_stdin_for_both_records_and_password(server_url, items):
    args = ["import", "-s", server_url, "-a", "alexis", "-b", "shop", "-c", "items"]
    result = run_module(MODULE, *args, "--password-file", "-", stdin="p4ssw0rd\n")
    assert_one_line_error(result, "stdin cannot carry both")


def test_import_reads_the_password_file_and_the_records_file(server_url, items, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("p4ssw0rd")
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a"}\n')
    args = ["import", "-s", server_url, "-a", "alexis", "-b", "shop", "-c", "items"]
    result = run_module(MODULE, *args, str(source), "--password-file", str(secret))
    assert result.returncode == 0, result.stderr
    assert stored_ids(items) == ["a"]


# -- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"), [("--timeout", "0"), ("--retry", "-1"), ("--retry-after", "x")]
)
@pytest.mark.parametrize("module", [MODULE, REPLICATE])
def test_bad_values_are_blamed_on_their_option(module, option, value):
    argv = ["info"] if module == MODULE else ["--origin-server", "http://127.0.0.1:1/v1", "-c", "x"]
    result = run_module(module, *argv, "-s", "http://127.0.0.1:1/v1", option, value)
    assert result.returncode == 2
    last = result.stderr.splitlines()[-1]
    assert f"argument {option}: expected" in last
    assert "URL" not in last and "Traceback" not in result.stderr


def command_parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    parser = commands.build_parser()
    subparsers = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    return [("kinto-client", parser), *subparsers.items()]


def test_help_texts_are_uniform():
    result = run_module(REPLICATE, "--help")
    assert "`" not in result.stdout
    for name, parser in command_parsers():
        for action in parser._actions:
            text = action.help
            if not text or text == "==SUPPRESS==":
                continue
            assert "`" not in text, (name, text)
            assert text[0].islower() and not text.endswith("."), (name, text)


# -- import: hostile files and ids -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"id": "a"}\n{"id": "\xe9t\xe9"}\n', "line 2: not UTF-8 text"),
        (b'{"id": "a", "n": NaN}\n', "line 1: not valid JSON (NaN is not JSON"),
        (b'{"id": "a", "n": -Infinity}\n', "not valid JSON (-Infinity is not JSON"),
        (b'{"id": "a", "n": 1e999}\n', "1e999 is too large for a JSON number"),
        (b"[" * 100_000 + b"\n", "line 1: "),
        (b'{"data": {"id": "a"}, "permissions": {"read": "x"}}\n', "permissions['read']"),
        (b'{"id": true}\n', "'id' must be a string"),
    ],
)
def test_import_hostile_files_are_one_line_errors(server_url, items, tmp_path, content, message):
    source = tmp_path / "in.jsonl"
    source.write_bytes(content)
    result = run_module(MODULE, "import", *shop(server_url), str(source))
    assert_one_line_error(result, message)
    result = run_module(MODULE, "import", *shop(server_url), stdin=content)
    assert_one_line_error(result, message.replace("in.jsonl", "stdin"))
    assert stored_ids(items) == []


def test_import_refuses_ids_it_would_rewrite(server_url, items):
    stdin = '{"id": "ok"}\n{"id": "A B C"}\n{"id": "a b c"}\n'
    result = run_module(MODULE, "import", *shop(server_url), stdin=stdin)
    assert_one_line_error(
        result,
        "stdin line 2: id 'A B C' is not a valid Kinto id",
        "it would be stored as 'a-b-c'",
        "--slugify-ids",
    )
    result = run_module(MODULE, "import", *shop(server_url), stdin='{"id": "p1.json"}\n')
    assert_one_line_error(result, "line 1: id 'p1.json'", "'p1json'")
    assert stored_ids(items) == []  # nothing was sent


def test_slugify_ids_stores_slugs_and_refuses_collisions(server_url, items):
    args = ["import", *shop(server_url), "--slugify-ids"]
    result = run_module(MODULE, *args, stdin='{"id": "A B C"}\n{"id": "a b c"}\n')
    assert_one_line_error(
        result, "line 2: id 'a b c' becomes 'a-b-c', like the id 'A B C' of line 1"
    )
    assert stored_ids(items) == []
    stdin = '{"id": "p1.json", "n": 1}\n{"id": "Hôtel de ville", "n": 2}\n{"id": 7}\n'
    result = run_module(MODULE, *args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert stored_ids(items) == ["7", "hotel-de-ville", "p1json"]
    assert items.get_record("p1json")["data"]["n"] == 1
    result = run_module(MODULE, *args, stdin='{"id": "!!!"}\n')
    assert_one_line_error(result, "id '!!!' has no valid slug")


# -- export -o -------------------------------------------------------------------------------


def test_export_into_a_missing_directory_names_the_path(server_url, items, tmp_path):
    target = tmp_path / "missing" / "out.jsonl"
    result = run_module(MODULE, "export", *shop(server_url), "-o", str(target))
    line = assert_one_line_error(result, f"cannot write {target}", "does not exist")
    assert ".part" not in line
    result = run_module(MODULE, "export", *shop(server_url), "-o", str(tmp_path))
    line = assert_one_line_error(result, f"cannot write {tmp_path}", "is a directory")
    assert list(tmp_path.iterdir()) == []


# -- hypothesis: random and hostile arguments and files ---------------------------------------

WORDS = st.sampled_from(
    [
        "info",
        "export",
        "import",
        "-s",
        "-a",
        "-b",
        "-c",
        "-o",
        "-v",
        "-q",
        "-D",
        "--json",
        "--create",
        "--help",
        "--version",
        "--retry",
        "--retry-after",
        "--timeout",
        "--batch-size",
        "--slugify-ids",
        "--password-file",
        "--ignore-batch-4xx",
        "FILE",
        "alice",
        "alice:",
        ":pw",
        "Bearer",
        "Bearer x\ny",
        "",
        "-",
        "0",
        "-1",
        "nan",
        "1e999",
        "shop",
        "items",
        "a b",
        "../..",
        "http://",
        "ftp://x",
        "http://127.0.0.1:1/v1",
        "\x00",
        "é",
    ]
)
LINES = st.one_of(
    st.binary(max_size=60),
    st.sampled_from(
        [
            b'{"id": "a", "n": 1}',
            b'{"id": "A B"}',
            b'{"id": 1.5}',
            b'{"id": null}',
            b'{"data": {"id": "x"}, "permissions": {"write": []}}',
            b'{"data": {}, "permissions": {"read": [1]}}',
            b'{"n": NaN}',
            b"[1]",
            b"\xff\xfe",
            b"\xef\xbb\xbf{}",
            b'{"id": "a", "last_modified": "x"}',
            b'{"id": "' + b"x" * 300 + b'"}',
        ]
    ),
)


@contextlib.contextmanager
def quiet_logging() -> Iterator[None]:
    """commands.main() configures logging: undo it after each example."""
    loggers = [logging.getLogger(n) for n in ("kinto_client", "kinto_client.commands")]
    saved = [(lg.level, list(lg.handlers)) for lg in loggers]
    try:
        yield
    finally:
        for lg, (level, handlers) in zip(loggers, saved):
            lg.setLevel(level)
            lg.handlers[:] = handlers


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    command=st.sampled_from(["info", "export", "import", "import", "--version", "nope"]),
    words=st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=7),
    lines=st.lists(LINES, max_size=5),
    use_server=st.booleans(),
)
def test_no_traceback_ever(
    server_url, items, tmp_path, monkeypatch, command, words, lines, use_server
):
    for name in ("KINTO_CLIENT_SERVER_URL", "KINTO_CLIENT_AUTH", "KINTO_CLIENT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # where `-o NAME` may write
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines))
    argv = [command]
    if use_server:  # a working command line that the random words then spoil
        argv += ["-s", server_url, "-a", "alexis:p4ssw0rd", "-b", "shop", "-c", "items"]
    argv += [str(source) if w == "FILE" else w for w in words]
    if use_server and command == "import":
        argv.append(str(source))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"\n".join(lines))))
    out, err = io.StringIO(), io.StringIO()
    with quiet_logging(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = commands.main(argv)
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            status = exc.code if isinstance(exc.code, int) else 2
    assert status in (0, 1, 2), (argv, status, err.getvalue())
    assert "Traceback" not in err.getvalue(), (argv, err.getvalue())
    assert "unexpected" not in err.getvalue(), (argv, err.getvalue())  # no bug fell through
    if status == 1:
        text = err.getvalue().strip().splitlines()
        assert len(text) >= 1 and ": error: " in text[-1], (argv, err.getvalue())


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    words=st.lists(
        st.one_of(
            WORDS,
            st.sampled_from(
                [
                    "--origin-server",
                    "--origin-auth",
                    "--origin-bucket",
                    "--origin-collection",
                    "--origin-password-file",
                    "--mirror",
                    "origin",
                ]
            ),
            st.text(max_size=8),
        ),
        max_size=7,
    ),
    use_server=st.booleans(),
)
def test_replicate_no_traceback_ever(server_url, items, tmp_path, monkeypatch, words, use_server):
    from kinto_client import replication

    for name in ("KINTO_CLIENT_SERVER_URL", "KINTO_CLIENT_AUTH", "KINTO_CLIENT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"pw\n")))
    argv: list[str] = []
    if use_server:
        argv += ["--origin-server", server_url, "--origin-auth", "alexis:p4ssw0rd"]
        argv += ["--origin-bucket", "shop", "-s", server_url, "-a", "alexis:p4ssw0rd"]
        argv += ["-b", "copy", "-c", "items", "-q"]
    argv += words
    out, err = io.StringIO(), io.StringIO()
    loggers = [logging.getLogger(n) for n in ("kinto_client", "kinto_client.replication")]
    saved = [(lg.level, list(lg.handlers)) for lg in loggers]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = replication.main(argv)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 2
    finally:
        for lg, (level, handlers) in zip(loggers, saved):
            lg.setLevel(level)
            lg.handlers[:] = handlers
    assert status in (0, 1, 2), (argv, status, err.getvalue())
    assert "Traceback" not in err.getvalue(), (argv, err.getvalue())
    assert "unexpected" not in err.getvalue(), (argv, err.getvalue())


PROMPTED_INFO = """
import sys
from kinto_client import commands
sys.exit(commands.main(["info", "-s", sys.argv[1], "-a", "alexis"]))
"""


def test_commands_prompt_on_a_real_terminal_after_parsing(server_url, flush):
    import os
    import pty
    import select
    import sys
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on the pseudo-terminal
        os.execv(sys.executable, [sys.executable, "-c", PROMPTED_INFO, server_url])

    def read_until(marker: bytes) -> bytes:
        output = b""
        deadline = time.monotonic() + 60
        while marker not in output and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
        return output

    try:
        prompt = read_until(b"alexis: ")
        if b"Please enter a password for alexis: " not in prompt:
            os.kill(pid, 9)
            raise AssertionError(prompt)
        os.write(fd, b"p4ssw0rd\n")
        output = read_until(b"capabilities:")
        assert b"basicauth:" in output, output
        assert b"p4ssw0rd" not in output  # not echoed
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
