"""Shared fixtures: a real Kinto server for the functional tests.

The server is started once per test session (memory backends, 127.0.0.1,
a free port) from this virtualenv's ``kinto``, and stopped at the end.
With ``KINTO_SERVER_URL`` set (``make runkinto`` in another terminal), that
server is used instead. Its data is flushed before each functional test.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kinto_server import KintoServer

from kinto_client import Client

AUTH = ("alexis", "p4ssw0rd")
OTHER_AUTH = ("leplatrem", "s3cr3t")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """The root URL (with /v1) of a running Kinto server.

    ``KINTO_TEST_BACKEND=postgresql`` (``make tests-postgresql``) starts it on
    a throw-away PostgreSQL server (``tests/pg_server.py``); the default is
    ``memory``.
    """
    given = os.environ.get("KINTO_SERVER_URL")
    if given:
        requests.get(given.rstrip("/") + "/__heartbeat__", timeout=10).raise_for_status()
        yield given.rstrip("/")
        return
    backend = os.environ.get("KINTO_TEST_BACKEND", "memory")
    if backend == "postgresql":
        from pg_server import kinto_on_postgresql

        with kinto_on_postgresql() as url:
            yield url
        return
    if backend != "memory":
        raise pytest.UsageError(f"KINTO_TEST_BACKEND must be memory or postgresql, not {backend!r}")
    server = KintoServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def flush(server_url: str) -> None:
    """Empty every backend of the server."""
    response = requests.post(server_url + "/__flush__", timeout=10)
    assert response.status_code == 202, response.text


@pytest.fixture
def client(server_url: str, flush: None) -> Iterator[Client]:
    """A client on an empty server, authenticated, default bucket ``default``."""
    c = Client(server_url=server_url, auth=AUTH)
    yield c
    c.session.close()


@pytest.fixture
def raw(server_url: str) -> requests.Session:
    """Plain ``requests`` with the same credentials, to read back effects."""
    s = requests.Session()
    s.auth = AUTH
    s.headers["Accept"] = "application/json"
    return s


@pytest.fixture
def bucket(client: Client) -> str:
    """A fresh bucket created through plain HTTP."""
    name = "b-" + uuid.uuid4().hex[:8]
    response = requests.put(f"{client.server_url}/buckets/{name}", auth=AUTH, timeout=10)
    assert response.status_code == 201, response.text
    return name


@pytest.fixture
def collection(client: Client, bucket: str) -> str:
    """A fresh collection in ``bucket``."""
    name = "c-" + uuid.uuid4().hex[:8]
    url = f"{client.server_url}/buckets/{bucket}/collections/{name}"
    response = requests.put(url, auth=AUTH, timeout=10)
    assert response.status_code == 201, response.text
    return name


# The second server (accounts, attachments), started only by the tests that use it.
from conftest_plugins import (  # noqa: E402, F401
    plugins_client,
    plugins_flush,
    plugins_server,
    plugins_server_url,
)
