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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_proxy import FaultProxy, running
from kinto_server import KintoServer

from kinto_client import Client, Retry

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


def read_all(raw: requests.Session, url: str) -> list[dict[str, Any]]:
    """Every object of a plural endpoint, read with plain HTTP (following ``Next-Page``)."""
    objects: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        response = raw.get(next_url, timeout=10)
        assert response.status_code == 200, (next_url, response.status_code, response.text)
        objects.extend(response.json()["data"])
        next_url = response.headers.get("Next-Page")
    return objects


# -- fault injection: a real proxy on 127.0.0.1 in front of the test server --


@pytest.fixture
def proxy(server_url: str, flush: None) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the (flushed) test server."""
    with running(server_url) as p:
        yield p


@pytest.fixture
def fast_retry() -> Retry:
    """The retry policy of ``make_client``'s clients; a module may override it."""
    return Retry(total=3, backoff_factor=0.01)


@pytest.fixture
def make_client(
    proxy: FaultProxy, bucket: str, collection: str, fast_retry: Retry
) -> Iterator[Callable[..., Client]]:
    """Build clients that talk through ``proxy`` to ``bucket``/``collection``."""
    made: list[Client] = []

    def make(**kwargs: Any) -> Client:
        kwargs.setdefault("retry", fast_retry)
        c = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.session.close()


@pytest.fixture
def stored(
    raw: requests.Session, server_url: str, bucket: str, collection: str
) -> Callable[[], list[dict[str, Any]]]:
    """The records of the collection, read from the server directly (not the proxy)."""

    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    return lambda: read_all(raw, url)


# The second server (accounts, attachments), started only by the tests that use it.
from conftest_oidc import openid_flush, openid_server  # noqa: E402, F401  (the openid server)
from conftest_plugins import (  # noqa: E402, F401
    files,
    plugins_client,
    plugins_flush,
    plugins_server,
    plugins_server_url,
    source,
)
