"""The openid server: Kinto with ``kinto.plugins.openid`` and a stub OpenID provider.

``OpenIDServer`` starts the provider stub (``tests/oidc_provider.py``) on
127.0.0.1, then a Kinto from ``tests/config/kinto-openid.ini`` whose OpenID
policies point at it (Kinto reads the provider's discovery document at
startup). Both are stopped at the end, by the objects that started them
(Kinto by its PID). With ``KINTO_TEST_BACKEND=postgresql``, Kinto runs on a
throw-away PostgreSQL server (``tests/pg_server.py``).

The fixtures are imported by ``tests/conftest.py``: the servers start only
when a test asks for them, once per test session.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kinto_server import HERE, KintoServer
from oidc_provider import OIDCProvider

OPENID_INI = HERE / "config" / "kinto-openid.ini"
CLIENT_ID = "kinto-client-tests"
CLIENT_SECRET = "kinto-client-tests-not-a-secret"


class OpenIDServer:
    """Kinto with two OpenID policies (``oidc``, ``oidcplus``) on one stub provider."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="kinto-client-openid-"))
        self.provider = OIDCProvider(CLIENT_ID, CLIENT_SECRET)
        pattern = re.compile(r"^(multiauth\.policy\.\w+\.issuer)\s*=.*$", re.M)
        ini, count = pattern.subn(
            lambda m: f"{m[1]} = {self.provider.issuer}", OPENID_INI.read_text(encoding="utf-8")
        )
        assert count == 2, f"two issuers expected in {OPENID_INI}"
        self.ini = self.tmp / "kinto.ini"
        self.ini.write_text(ini, encoding="utf-8")
        self.url = ""
        self._stack = contextlib.ExitStack()

    def start(self) -> OpenIDServer:
        try:
            self.provider.start()
            self._stack.callback(self.provider.stop)
            if os.environ.get("KINTO_TEST_BACKEND", "memory") == "postgresql":
                from pg_server import kinto_on_postgresql

                self.url = self._stack.enter_context(kinto_on_postgresql(self.ini))
            else:
                self.url = self._stack.enter_context(KintoServer(self.ini)).url
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stack.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> OpenIDServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def openid_server() -> Iterator[OpenIDServer]:
    """Kinto with kinto.plugins.openid and its provider stub (started on first use)."""
    with OpenIDServer() as server:
        yield server


@pytest.fixture
def openid_flush(openid_server: OpenIDServer) -> None:
    """Empty the openid server's backends, and reset the provider stub's switches."""
    response = requests.post(openid_server.url + "/__flush__", timeout=10)
    assert response.status_code == 202, response.text
    provider = openid_server.provider
    provider.user = {"sub": "mat", "email": "mat@example.com"}
    provider.deny = False
    provider.expires_in = 3600
    provider.authorize_requests.clear()
