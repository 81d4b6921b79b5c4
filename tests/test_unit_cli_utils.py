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


def test_help_is_4_0s(capsys):
    text = " ".join(cli_utils.add_parser_options(prog="example.py").format_help().split())
    assert text.startswith(
        "usage: example.py [-h] [-s SERVER] [-a AUTH] [-b BUCKET] [-c COLLECTION] [-v] [-q] [-D]"
    )
    for line in (
        "-s SERVER, --server SERVER The location of the remote server (with prefix)",
        "-a AUTH, --auth AUTH BasicAuth token:my-secret",
        "-b BUCKET, --bucket BUCKET Bucket name.",
        "-c COLLECTION, --collection COLLECTION Collection name.",
        "-v, --verbose Show all messages.",
        "-q, --quiet Show only critical errors.",
        "-D, --debug Show all messages, including debug messages.",
    ):
        assert line in text
    for newer in ("--retry", "--timeout", "--ignore-batch-4xx", "--password-file"):
        assert newer not in text
    assert vars(parse()) == {
        "server": None,
        "auth": None,
        "bucket": None,
        "collection": None,
        "verbosity": None,
    }


def test_extended_options_are_opt_in():
    text = cli_utils.add_parser_options(prog="x", extended=True).format_help()
    for newer in ("--retry N", "--retry-after SECONDS", "--timeout SECONDS", "--ignore-batch-4xx"):
        assert newer in text
    args = parse(extended=True)
    assert (args.retry, args.retry_after, args.timeout, args.ignore_batch_4xx) == (
        0,
        None,
        None,
        False,
    )


# -- auth ---------------------------------------------------------------------------------------


class FakeTerminal:
    """A stdin that says it is a terminal (the prompt itself is monkeypatched)."""

    closed = False

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("user:pass", ("user", "pass")),
        ("user:pa:ss", ("user", "pa:ss")),
        ("user:", ("user", "")),
        ("token:my-secret", ("token", "my-secret")),
        ("Bearer x:y", ("Bearer x", "y")),  # as 4.0: no Bearer tokens without extended=True
    ],
)
def test_get_auth(value, expected):
    assert cli_utils.get_auth(value) == expected
    assert parse("-a", value).auth == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("user:pass", ("user", "pass")),
        ("user:pa:ss", ("user", "pa:ss")),
        ("Bearer tok", "Bearer tok"),
        ("Bearer+OIDC tok", "Bearer+OIDC tok"),
        ("bearer  tok ", "bearer tok"),
        ("alice", cli_utils.NeedsPassword("alice")),
    ],
)
def test_extended_auth_option(value, expected):
    assert cli_utils.parse_auth_option(value) == expected
    assert parse("-a", value, extended=True).auth == expected


@pytest.mark.parametrize("value", ["", "  ", "Bearer", "Bearer  ", "Bearer a\nb:c", ":pw"])
def test_extended_auth_option_refuses_bad_values(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse("-a", value, extended=True)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument -a/--auth:" in err and "Traceback" not in err
    assert "a\nb" not in err


def test_parsed_secrets_stay_out_of_reprs():
    for value, secret in (("u:hunter2", "hunter2"), ("Bearer tok3n", "tok3n")):
        args = parse("-a", value, extended=True)
        assert secret not in repr(args) and secret not in str(args)
        assert secret in str(args.auth) or secret == args.auth[1]  # the value itself is intact
    assert repr(parse("-a", "u:hunter2").auth) == "('u', '***')"
    assert repr(parse("-a", "Bearer tok3n", extended=True).auth) == "'Bearer ***'"


def test_bare_user_prompts_with_4_0_prompt_text(monkeypatch):
    prompts: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        prompts.append(prompt)
        return "s3cr3t"

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    assert parse("-a", "alice").auth == ("alice", "s3cr3t")
    assert prompts == ["Please enter a password for alice: "]
    # No prompt when the password is given.
    assert parse("-a", "alice:pw").auth == ("alice", "pw")
    assert len(prompts) == 1


def test_bare_user_without_a_terminal_is_a_usage_error(monkeypatch, capsys):
    def no_prompt(*args: object, **kwargs: object) -> str:
        raise AssertionError("no prompt without a terminal")

    monkeypatch.setattr(getpass, "getpass", no_prompt)
    with pytest.raises(cli_utils.CredentialsError, match="no terminal to ask for it"):
        cli_utils.get_auth("alice")
    with pytest.raises(SystemExit) as exit_info:
        parse("-a", "alice")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument -a/--auth: no password for 'alice' and no terminal" in err


def test_extended_parser_asks_nothing_while_parsing(monkeypatch, capsys):
    def no_prompt(*args: object, **kwargs: object) -> str:
        raise AssertionError("no prompt while parsing")

    monkeypatch.setattr(getpass, "getpass", no_prompt)
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    assert parse("-a", "alice", extended=True).auth == cli_utils.NeedsPassword("alice")
    with pytest.raises(SystemExit) as exit_info:
        parse("-a", "alice", "--help", extended=True)
    assert exit_info.value.code == 0
    assert "--password-file" in capsys.readouterr().out


def resolve(*argv: str) -> object:
    return cli_utils.resolve_auth(parse(*argv, extended=True))


def test_credentials_precedence(monkeypatch, tmp_path):
    for name in (cli_utils.ENV_AUTH, cli_utils.ENV_PASSWORD, cli_utils.ENV_SERVER_URL):
        monkeypatch.delenv(name, raising=False)
    secret = tmp_path / "secret"
    secret.write_text("from-file\nsecond line\n")
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "typed")

    assert resolve() is None
    assert resolve("-a", "alice") == ("alice", "typed")  # 5. the prompt
    monkeypatch.setenv(cli_utils.ENV_PASSWORD, "from-env")
    assert resolve("-a", "alice") == ("alice", "from-env")  # 4. $KINTO_CLIENT_PASSWORD
    assert resolve("-a", "alice", "--password-file", str(secret)) == ("alice", "from-file")
    monkeypatch.setenv(cli_utils.ENV_AUTH, "bob:from-env-auth")
    assert resolve() == ("bob", "from-env-auth")  # $KINTO_CLIENT_AUTH when no -a
    assert resolve("-a", "alice:given") == ("alice", "given")  # -a wins
    monkeypatch.setenv(cli_utils.ENV_AUTH, "Bearer env-token")
    assert resolve() == "Bearer env-token"
    monkeypatch.setenv(cli_utils.ENV_AUTH, "carol")
    assert resolve() == ("carol", "from-env")
    assert resolve("--password-file", str(secret)) == ("carol", "from-file")
    monkeypatch.setenv(cli_utils.ENV_SERVER_URL, "http://env.example/v1")
    assert parse(extended=True).server == "http://env.example/v1"
    assert parse("-s", "http://given/v1", extended=True).server == "http://given/v1"
    # The 4.0 parser reads no environment.
    assert parse().server is None and parse().auth is None


def test_credentials_conflicts_are_explained(monkeypatch, tmp_path):
    for name in (cli_utils.ENV_AUTH, cli_utils.ENV_PASSWORD):
        monkeypatch.delenv(name, raising=False)
    secret = tmp_path / "secret"
    secret.write_text("pw\n")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    cases = [
        (("-a", "alice:pw", "--password-file", str(secret)), "needs a user without a password"),
        (("-a", "Bearer tok", "--password-file", str(secret)), "a Bearer token goes in -a"),
        (("--password-file", str(secret)), "needs a user without a password"),
        (("-a", "alice", "--password-file", str(tmp_path / "nope")), "No such file"),
        (("-a", "alice", "--password-file", str(empty)), "has no password on its first line"),
        (("-a", "alice"), "no terminal to ask for it"),
    ]
    for argv, message in cases:
        with pytest.raises(cli_utils.CredentialsError, match=message):
            resolve(*argv)
    monkeypatch.setenv(cli_utils.ENV_AUTH, "Bearer")
    with pytest.raises(cli_utils.CredentialsError, match=r"\$KINTO_CLIENT_AUTH: 'Bearer' needs"):
        resolve()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_bare_user_prompts_on_a_real_terminal():
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: a Python on the pseudo-terminal
        os.execv(sys.executable, [sys.executable, "-c", PROMPT_SCRIPT])
    try:
        prompt = _read_until(fd, b": ")
        if b"Please enter a password for alice: " not in prompt:
            os.kill(pid, 9)
            raise AssertionError(prompt)
        os.write(fd, b"typed-secret\n")
        output = _read_until(fd, b"AUTH=('alice', 'typed-secret')")
        assert b"AUTH=('alice', 'typed-secret')" in output, output
        # The password was not echoed: it shows only in the script's own print.
        assert output.count(b"typed-secret") == 1, output
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0


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


def test_create_client_from_args_extended():
    args = parse(
        "-s",
        "http://127.0.0.1:8888/v1",
        "-a",
        "u:hunter2",
        "-b",
        "bb",
        "-c",
        "cc",
        "--retry",
        "3",
        extended=True,
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
    args = parse(
        "-s", "http://127.0.0.1:8888/v1", "-a", "Bearer tok", "--retry-after", "2", extended=True
    )
    client = cli_utils.create_client_from_args(args)
    assert client.session.auth == BearerTokenAuth("tok")
    assert (client.bucket_name, client.collection_name) == ("default", None)
    assert client.session.retry_after == 2


class RecordedClient:
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.calls.append((args, kwargs))


def test_create_client_from_args_calls_client_as_4_0(monkeypatch):
    # Which arguments Client() gets is the contract here, so Client is replaced by a recorder.
    monkeypatch.setattr(cli_utils, "Client", RecordedClient)
    RecordedClient.calls.clear()
    cli_utils.create_client_from_args(parse("-s", "http://h/v1", "-a", "u:p", "-c", "cc"))
    cli_utils.create_client_from_args(argparse.Namespace(server="http://h/v1", auth=None))
    assert RecordedClient.calls == [
        (
            (),
            {
                "server_url": "http://h/v1",
                "auth": ("u", "p"),
                "bucket": "default",
                "collection": "cc",
            },
        ),
        ((), {"server_url": "http://h/v1", "auth": None, "bucket": "default", "collection": None}),
    ]


def test_a_4_0_script_adding_its_own_timeout_and_retry(monkeypatch):
    # 4.0 scripts added options of these names after add_parser_options(): no clash, and
    # their values never reach Client().
    parser = cli_utils.add_parser_options(prog="sync.py", default_server="http://h/v1")
    parser.add_argument("--timeout", type=int, default=30, help="my own timeout, in minutes")
    parser.add_argument("--retry", action="store_true", help="my own retry switch")
    args = parser.parse_args(["--timeout", "5", "--retry", "-b", "bb", "-c", "cc"])
    assert (args.timeout, args.retry) == (5, True)
    assert "my own timeout, in minutes" in parser.format_help()
    client = cli_utils.create_client_from_args(args)
    assert (client.bucket_name, client.collection_name) == ("bb", "cc")
    assert client.session.retry == Retry(total=0)
    monkeypatch.setattr(cli_utils, "Client", RecordedClient)
    RecordedClient.calls.clear()
    cli_utils.create_client_from_args(args)
    assert RecordedClient.calls[0][1] == {
        "server_url": "http://h/v1",
        "auth": None,
        "bucket": "bb",
        "collection": "cc",
    }


def test_create_client_without_server_fails_clearly():
    with pytest.raises(AttributeError, match="server_url"):
        cli_utils.create_client_from_args(parse("-a", "u:p"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--timeout", "0"), "argument --timeout: expected a number of seconds, more than 0"),
        (("--timeout", "nan"), "argument --timeout: expected a number of seconds"),
        (("--retry", "-1"), "argument --retry: expected a whole number, 0 or more, got '-1'"),
        (("--retry-after", "-2"), "argument --retry-after: expected a number of seconds, 0 or"),
    ],
)
def test_bad_option_values_are_blamed_on_their_option(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv, extended=True)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "server" not in err.splitlines()[-1]


def test_help_texts_are_uniform():
    help_texts = [
        action.help
        for action in cli_utils.add_parser_options(extended=True)._actions
        if action.help
    ]
    assert len(help_texts) == 13
    for text in help_texts:
        assert "`" not in text, text
        assert text[0].islower() and not text.endswith("."), text
