"""kinto_client.cli_utils: argparse options, auth parsing, logging, client creation (no server).

The password prompt of a bare ``-a user`` is driven through a real
pseudo-terminal (``pty.fork``), and also with ``getpass.getpass``
monkeypatched (the prompt function only; nothing of ``requests``).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import select
import sys
import time

import pytest

from kinto_client import Client, cli_utils
from kinto_client.auth import BasicAuth, BearerTokenAuth
from kinto_client.retry import Retry


def parse(*argv: str, **options: object) -> argparse.Namespace:
    return cli_utils.add_parser_options(**options).parse_args(list(argv))  # type: ignore[arg-type]


# -- parser options ---------------------------------------------------------------------------


def test_creates_a_parser_when_none_is_given():
    parser = cli_utils.add_parser_options(description="Download records", prog="example.py")
    assert isinstance(parser, argparse.ArgumentParser)
    assert parser.description == "Download records"
    assert parser.prog == "example.py"


def test_adds_to_the_given_parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mine")
    assert cli_utils.add_parser_options(parser) is parser
    args = parser.parse_args(["--mine", "x", "-s", "http://h/v1"])
    assert (args.mine, args.server) == ("x", "http://h/v1")


def test_defaults():
    args = parse()
    assert (args.server, args.auth, args.bucket, args.collection) == (None, None, None, None)
    assert args.verbosity is None
    args = parse(
        default_server="http://h/v1",
        default_auth=("u", "p"),
        default_bucket="bb",
        default_collection="cc",
    )
    assert (args.server, args.auth, args.bucket, args.collection) == (
        "http://h/v1",
        ("u", "p"),
        "bb",
        "cc",
    )


def test_long_and_short_options():
    short = parse("-s", "http://h/v1", "-a", "u:p", "-b", "bb", "-c", "cc")
    long = parse("--server", "http://h/v1", "--auth", "u:p", "--bucket", "bb", "--collection", "cc")
    assert vars(short) == vars(long)
    assert (short.server, short.auth, short.bucket, short.collection) == (
        "http://h/v1",
        ("u", "p"),
        "bb",
        "cc",
    )


def test_include_bucket_and_collection():
    args = parse(include_bucket=False, include_collection=False)
    assert not hasattr(args, "bucket") and not hasattr(args, "collection")
    with pytest.raises(SystemExit):
        parse("-b", "x", include_bucket=False)


def test_set_parser_server_options_alias():
    assert cli_utils.set_parser_server_options is cli_utils.add_parser_options
    parser = argparse.ArgumentParser(description="Download records")
    cli_utils.set_parser_server_options(parser)
    args = parser.parse_args(["-s", "http://h/v1", "-a", "u:p"])
    assert args.server == "http://h/v1" and args.auth == ("u", "p")


def test_help_lists_the_documented_options():
    text = " ".join(cli_utils.add_parser_options(prog="example.py").format_help().split())
    assert text.startswith(
        "usage: example.py [-h] [-s SERVER] [-a AUTH] [-b BUCKET] [-c COLLECTION] [-v] [-q] [-D]"
    )
    for line in (
        "-s SERVER, --server SERVER The location of the remote server (with prefix)",
        "-b BUCKET, --bucket BUCKET Bucket name.",
        "-c COLLECTION, --collection COLLECTION Collection name.",
        "-v, --verbose Show all messages.",
        "-q, --quiet Show only critical errors.",
        "-D, --debug Show all messages, including debug messages.",
    ):
        assert line in text


# -- auth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("user:pass", ("user", "pass")),
        ("user:pa:ss", ("user", "pa:ss")),
        ("user:", ("user", "")),
        ("token:my-secret", ("token", "my-secret")),
        ("Bearer tok", "Bearer tok"),
        ("Bearer+OIDC tok", "Bearer+OIDC tok"),
        ("bearer  tok ", "bearer  tok"),
    ],
)
def test_get_auth(value, expected):
    assert cli_utils.get_auth(value) == expected
    assert parse("-a", value).auth == expected


def test_parsed_secrets_stay_out_of_reprs():
    for value, secret in (("u:hunter2", "hunter2"), ("Bearer tok3n", "tok3n")):
        args = parse("-a", value)
        assert secret not in repr(args) and secret not in str(args)
        assert secret in str(args.auth) or secret == args.auth[1]  # the value itself is intact
    assert repr(parse("-a", "u:hunter2").auth) == "('u', '***')"
    assert repr(parse("-a", "Bearer tok3n").auth) == "'Bearer ***'"


def test_bare_user_prompts_with_getpass(monkeypatch):
    prompts: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        prompts.append(prompt)
        return "s3cr3t"

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    assert parse("-a", "alice").auth == ("alice", "s3cr3t")
    assert len(prompts) == 1 and "alice" in prompts[0]
    # No prompt when the password is given.
    assert parse("-a", "alice:pw").auth == ("alice", "pw")
    assert len(prompts) == 1


PROMPT_SCRIPT = """
from kinto_client import cli_utils
args = cli_utils.add_parser_options().parse_args(["-a", "alice"])
print("AUTH=%r" % (tuple(args.auth),), flush=True)
"""


def _read_until(fd: int, marker: bytes, timeout: float = 30.0) -> bytes:
    output = b""
    deadline = time.monotonic() + timeout
    while marker not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    return output


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_bare_user_prompts_on_a_real_terminal():
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: a Python on the pseudo-terminal
        os.execv(sys.executable, [sys.executable, "-c", PROMPT_SCRIPT])
    try:
        prompt = _read_until(fd, b": ")
        assert b"Password for alice" in prompt, prompt
        os.write(fd, b"typed-secret\n")
        output = _read_until(fd, b"AUTH=('alice', 'typed-secret')")
        assert b"AUTH=('alice', 'typed-secret')" in output, output
        # The password was not echoed: it shows only in the script's own print.
        assert output.count(b"typed-secret") == 1, output
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0


# -- verbosity and logging --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ((), None),
        (("-v",), logging.INFO),
        (("--verbose",), logging.INFO),
        (("-q",), logging.CRITICAL),
        (("--quiet",), logging.CRITICAL),
        (("-D",), logging.DEBUG),
        (("--debug",), logging.DEBUG),
        (("-v", "-D"), logging.DEBUG),  # as in 4.0: the last one wins
        (("-D", "-q"), logging.CRITICAL),
    ],
)
def test_verbosity_flags(flags, level):
    assert parse(*flags).verbosity == level


@pytest.mark.parametrize(
    ("flags", "level"),
    [((), logging.WARNING), (("-v",), logging.INFO), (("-q",), logging.CRITICAL), (("-D",), 10)],
)
def test_setup_logger(flags, level):
    logger = logging.getLogger(f"test_setup_logger_{level}_{len(flags)}")
    library = logging.getLogger("kinto_client")
    saved = (library.level, list(library.handlers))
    try:
        cli_utils.setup_logger(logger, parse(*flags))
        cli_utils.setup_logger(logger, parse(*flags))  # twice: still one handler
        assert logger.level == level
        assert library.level == level
        assert len(logger.handlers) == 1
        assert isinstance(logger.handlers[0], logging.StreamHandler)
    finally:
        library.setLevel(saved[0])
        library.handlers[:] = saved[1]


# -- create_client_from_args --------------------------------------------------------------------


def test_create_client_from_args():
    args = parse(
        "-s", "http://127.0.0.1:8888/v1", "-a", "u:hunter2", "-b", "bb", "-c", "cc", "--retry", "3"
    )
    client = cli_utils.create_client_from_args(args)
    assert isinstance(client, Client)
    assert client.server_url == "http://127.0.0.1:8888/v1"
    assert client.session.auth == BasicAuth("u", "hunter2")
    assert (client.bucket_name, client.collection_name) == ("bb", "cc")
    assert client.session.retry == Retry(total=3)
    assert repr(client) == "<KintoClient http://127.0.0.1:8888/v1/buckets/bb/collections/cc>"
    assert "hunter2" not in repr(client.session.auth) + repr(client.session) + repr(args)


def test_create_client_from_args_defaults_and_bearer():
    args = parse("-s", "http://127.0.0.1:8888/v1", "-a", "Bearer tok", "--retry-after", "2")
    client = cli_utils.create_client_from_args(args)
    assert client.session.auth == BearerTokenAuth("tok")
    assert (client.bucket_name, client.collection_name) == ("default", None)
    assert client.session.retry_after == 2


def test_create_client_from_a_namespace_with_only_the_old_options():
    args = argparse.Namespace(server="http://127.0.0.1:8888/v1", auth=("u", "p"), bucket="b")
    client = cli_utils.create_client_from_args(args)
    assert (client.bucket_name, client.collection_name) == ("b", None)
    assert client.session.retry == Retry(total=0)


def test_create_client_without_server_fails_clearly():
    with pytest.raises(AttributeError, match="server_url"):
        cli_utils.create_client_from_args(parse("-a", "u:p"))
