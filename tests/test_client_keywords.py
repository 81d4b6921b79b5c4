"""The options of Client, AsyncClient and create_session are explicit keyword
parameters: a misspelt option is an error for Python and for mypy, and an
option left out keeps the session's default."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kinto_client import AsyncClient, Client, Session, create_session
from kinto_client.session import DEFAULT_TIMEOUT, NOT_GIVEN

ROOT = Path(__file__).resolve().parent.parent
URL = "http://127.0.0.1:9/v1"
POSITIONAL = ["server_url", "session", "auth", "bucket", "collection", "retry", "retry_after"]
OPTIONS = ["timeout", "headers", "verify", "on_backoff", "http", "cert", "deadline", "dry_mode"]


@pytest.mark.parametrize("func", [Client, AsyncClient, create_session])
def test_no_catch_all_keywords(func):
    kinds = [p.kind for p in inspect.signature(func).parameters.values()]
    assert inspect.Parameter.VAR_KEYWORD not in kinds


def test_client_signature():
    params = inspect.signature(Client).parameters.values()
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == POSITIONAL  # kinto-client 4.0's order
    keyword_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    assert keyword_only == [*OPTIONS, "ignore_batch_4xx"]
    session_keywords = [
        p.name
        for p in inspect.signature(create_session).parameters.values()
        if p.kind is p.KEYWORD_ONLY
    ]
    assert session_keywords == OPTIONS


@pytest.mark.parametrize("func", [Client, AsyncClient])
def test_a_misspelt_option_is_a_type_error(func):
    with pytest.raises(TypeError, match="unexpected keyword argument 'timout'"):
        func(server_url=URL, timout=5)


def test_left_out_options_keep_the_session_defaults():
    session = Client(server_url=URL).session
    assert isinstance(session, Session)
    assert session.timeout == DEFAULT_TIMEOUT
    assert session.verify is True
    assert session.on_backoff == "wait"
    assert Client(server_url=URL, timeout=None).session.timeout is None  # None: no limit
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


@pytest.mark.parametrize(
    "option",
    [
        {"timeout": None},
        {"timeout": 3},
        {"verify": True},
        {"on_backoff": "wait"},
        {"headers": {"X": "1"}},
        {"dry_mode": True},
    ],
    ids=lambda o: next(iter(o)),
)
def test_options_with_a_given_session_are_refused(option):
    """Even an option given with its default value: it would be ignored."""
    session = Session(URL)
    name = next(iter(option))
    with pytest.raises(TypeError, match=f"^{name} cannot be combined with session="):
        Client(session=session, **option)
    assert Client(session=session, dry_mode=False).session is session


def test_mypy_checks_the_options(tmp_path):
    snippet = tmp_path / "uses_options.py"
    snippet.write_text(
        textwrap.dedent(
            """\
            from kinto_client import AsyncClient, Client

            Client("http://localhost:8888/v1", None, None, "b", "c", 3, 1.0)
            Client(
                server_url="http://localhost:8888/v1",
                timeout=(3, 20),
                headers={"X-Trace": "1"},
                verify="/etc/ssl/ca.pem",
                on_backoff="raise",
                cert=("c.pem", "k.pem"),
                dry_mode=True,
                ignore_batch_4xx=True,
            )
            AsyncClient(server_url="http://localhost:8888/v1", timeout=None, max_workers=4)
            Client(server_url="http://localhost:8888/v1", timout=5)  # error 1
            Client(server_url="http://localhost:8888/v1", on_backoff="sometimes")  # error 2
            Client(server_url="http://localhost:8888/v1", dry_mode="yes")  # error 3
            AsyncClient(server_url="http://localhost:8888/v1", verify=0.5)  # error 4
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(snippet)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert [int(line.split(":")[1]) for line in errors] == [15, 16, 17, 18], done.stdout
    assert 'Unexpected keyword argument "timout"' in errors[0]
