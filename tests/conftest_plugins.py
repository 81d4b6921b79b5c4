"""The second test server: Kinto with the accounts and kinto-attachment plugins.

``PluginsServer`` starts, in a temporary directory, a static file server on
127.0.0.1 for the attachments folder (kinto-attachment's local storage only
writes files; something else must serve them at ``base_url``) and a Kinto from
``tests/config/kinto-plugins.ini`` pointed at that folder and that server.
Both are stopped at the end, by the objects that started them.

The fixtures below are imported by ``tests/conftest.py``: the server starts
only when a test asks for one of them, once per test session.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kinto_server import HERE, KintoServer
from local_http import LocalServer

from kinto_client import Client

PLUGINS_INI = HERE / "config" / "kinto-plugins.ini"
AUTH = ("alexis", "p4ssw0rd")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class FileServer(LocalServer):
    """A static HTTP server for one folder, on 127.0.0.1, in a daemon thread."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        super().__init__(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler))
        self.url += "/"


class PluginsServer:
    """Kinto with accounts and attachments, its attachments folder and file server."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="kinto-client-plugins-"))
        self.attachments_dir = self.tmp / "attachments"
        self.attachments_dir.mkdir()
        self.files = FileServer(self.attachments_dir)
        ini = PLUGINS_INI.read_text(encoding="utf-8")
        ini = _set(ini, "kinto.attachment.base_path", str(self.attachments_dir))
        ini = _set(ini, "kinto.attachment.base_url", self.files.url)
        self.ini = self.tmp / "kinto.ini"
        self.ini.write_text(ini, encoding="utf-8")
        self.kinto = KintoServer(self.ini)
        self.url = self.kinto.url

    def start(self) -> PluginsServer:
        self.files.start()
        try:
            self.kinto.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.kinto.stop()
        self.files.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> PluginsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _set(ini: str, key: str, value: str) -> str:
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$", re.M)
    assert pattern.search(ini), f"{key} missing from {PLUGINS_INI}"
    return pattern.sub(lambda _: f"{key} = {value}", ini)


@pytest.fixture(scope="session")
def plugins_server() -> Iterator[PluginsServer]:
    """Kinto with accounts and attachments (started on first use)."""
    with PluginsServer() as server:
        yield server


@pytest.fixture(scope="session")
def plugins_server_url(plugins_server: PluginsServer) -> str:
    """The root URL (with /v1) of the plugins server."""
    return plugins_server.url


@pytest.fixture
def plugins_flush(plugins_server: PluginsServer) -> None:
    """Empty every backend of the plugins server (attachment files stay on disk)."""
    response = requests.post(plugins_server.url + "/__flush__", timeout=10)
    assert response.status_code == 202, response.text


@pytest.fixture
def plugins_client(plugins_server: PluginsServer, plugins_flush: None) -> Iterator[Client]:
    """A client on the emptied plugins server, authenticated as a basicauth user."""
    c = Client(server_url=plugins_server.url, auth=AUTH)
    yield c
    c.session.close()


#: The file the attachment tests upload (a small CSV).
ATTACHMENT = b"name,score\nada,3\nbob,5\n" * 50


@pytest.fixture
def files(plugins_client: Client) -> Client:
    """A client on the plugins server whose bucket ``files`` and collection
    ``docs`` exist."""
    plugins_client.create_bucket("files")
    plugins_client.create_collection("docs", bucket="files")
    return plugins_client.clone(bucket="files", collection="docs")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A local file to attach: ``scores.csv`` holding :data:`ATTACHMENT`."""
    path = tmp_path / "scores.csv"
    path.write_bytes(ATTACHMENT)
    return path
