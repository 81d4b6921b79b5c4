"""Server info, heartbeat, capabilities, and the CapabilityMissing error.

The main test server has history and the permissions endpoint but neither
accounts nor attachments: every method of those plugins must say so clearly
there, before sending anything. The plugins server has them all.
"""

from __future__ import annotations

import json

import pytest
import requests
from fault_proxy import running

from kinto_client import Client
from kinto_client.exceptions import CapabilityMissing, KintoException, KintoHTTPError

pytestmark = pytest.mark.functional

AUTH = ("alexis", "p4ssw0rd")


# -- server_info and capabilities ------------------------------------------------------


def test_server_info_describes_the_server(client, server_url):
    info = client.server_info()
    assert info["project_name"] == "kinto"
    assert info["project_version"].startswith("26.")
    assert info["http_api_version"] == "1.23"
    assert info["user"]["id"].startswith("basicauth:")
    assert info == requests.get(server_url + "/", auth=AUTH, timeout=10).json()


def test_server_info_is_read_once_per_session(server_url, flush):
    with running(server_url) as proxy:
        client = Client(server_url=proxy.url, auth=AUTH)
        first = client.server_info()
        assert client.server_info() is first
        assert client.capabilities == first["capabilities"]
        assert client.clone(bucket="other").server_info() is first  # clones share the session
        assert proxy.count("GET", "/v1/") == 1
        # A new client (a new session) reads it again.
        Client(server_url=proxy.url, auth=AUTH).server_info()
        assert proxy.count("GET", "/v1/") == 2


def test_capabilities_of_the_main_server(client):
    capabilities = client.capabilities
    assert {"history", "permissions_endpoint", "default_bucket"} <= set(capabilities)
    assert "accounts" not in capabilities and "attachments" not in capabilities
    assert capabilities["history"]["url"].startswith("http")


def test_capabilities_of_the_plugins_server(plugins_client, plugins_server):
    capabilities = plugins_client.capabilities
    assert {"history", "accounts", "attachments", "permissions_endpoint"} <= set(capabilities)
    assert capabilities["attachments"]["base_url"] == plugins_server.files.url


def test_capabilities_is_a_copy(client):
    client.capabilities["accounts"] = {}
    assert "accounts" not in client.capabilities


# -- heartbeat --------------------------------------------------------------------------


def test_heartbeat_of_a_healthy_server(client):
    checks = client.heartbeat()
    assert checks == {"storage": True, "permission": True, "cache": True}


def test_heartbeat_reports_a_failing_check_instead_of_raising(plugins_client, plugins_server):
    """A real failure: the attachments folder replaced by a file (the plugin cannot write)."""
    folder = plugins_server.attachments_dir
    moved = folder.with_name("attachments-moved")
    folder.rename(moved)
    folder.write_text("not a folder")
    try:
        raw = requests.get(plugins_server.url + "/__heartbeat__", timeout=10)
        assert raw.status_code == 503
        checks = plugins_client.heartbeat()
    finally:
        folder.unlink()
        moved.rename(folder)
    assert checks == raw.json()
    assert checks["attachments"] is False
    assert checks["storage"] is True
    assert plugins_client.heartbeat()["attachments"] is True  # healthy again


def test_heartbeat_503_without_checks_raises(server_url):
    with running(server_url) as proxy:
        proxy.add("respond", path="/__heartbeat__", status=503, body=b"<html>down</html>")
        client = Client(server_url=proxy.url)
        with pytest.raises(KintoHTTPError) as exc_info:
            client.heartbeat()
    assert exc_info.value.status_code == 503
    assert "down" in str(exc_info.value)


def test_heartbeat_is_refused_in_a_batch(client, raw):
    with client.batch() as batch:
        with pytest.raises(KintoException, match="A heartbeat needs the server's answer at once"):
            batch.heartbeat()
        batch.create_bucket("queued")
    assert raw.get(f"{client.server_url}/buckets/queued", timeout=10).status_code == 200


# -- CapabilityMissing ----------------------------------------------------------------------

ACCOUNT_CALLS = [
    ("create_account", lambda c: c.create_account("bob", "s3cr3t")),
    ("get_account", lambda c: c.get_account("bob")),
    ("get_accounts", lambda c: c.get_accounts()),
    ("update_account", lambda c: c.update_account("bob", password="n3w")),
    ("patch_account", lambda c: c.patch_account("bob", data={"age": 3})),
    ("change_password", lambda c: c.change_password("bob", "n3w")),
    ("delete_account", lambda c: c.delete_account("bob")),
]


@pytest.mark.parametrize("method, call", ACCOUNT_CALLS, ids=[m for m, _ in ACCOUNT_CALLS])
def test_account_methods_need_the_accounts_plugin(server_url, flush, method, call):
    with running(server_url) as proxy:
        client = Client(server_url=proxy.url, auth=AUTH)
        with pytest.raises(CapabilityMissing) as exc_info:
            call(client)
        assert proxy.count(path="/accounts") == 0  # nothing was sent
    error = exc_info.value
    assert isinstance(error, KintoException)
    assert error.capability == "accounts"
    assert "kinto.plugins.accounts" in error.plugin
    assert f"{method}() needs the 'accounts' capability" in str(error)
    assert proxy.url in str(error)


def test_add_attachment_needs_the_attachment_plugin(client, bucket, collection, raw, tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("content")
    with pytest.raises(CapabilityMissing) as exc_info:
        client.add_attachment("rec", path, collection=collection, bucket=bucket)
    error = exc_info.value
    assert error.capability == "attachments"
    assert "pip install kinto-attachment" in str(error)
    assert "kinto_attachment" in str(error)
    url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records/rec"
    assert raw.get(url, timeout=10).status_code == 404  # not created


def test_remove_and_download_attachment_need_the_plugin(client, bucket, collection):
    client.create_record({"title": "no file"}, id="rec", collection=collection, bucket=bucket)
    with pytest.raises(CapabilityMissing, match=r"remove_attachment\(\) needs"):
        client.remove_attachment("rec", collection=collection, bucket=bucket)
    with pytest.raises(CapabilityMissing, match=r"download_attachment\(\) needs"):
        client.download_attachment("rec", collection=collection, bucket=bucket)
    record = client.get_record("rec", collection=collection, bucket=bucket)
    assert record["data"]["title"] == "no file"


def _serve_root(proxy, info):
    """The next GET of the root answers ``info`` (the client reads it first)."""
    proxy.add(
        "respond",
        method="GET",
        path="/v1/",
        status=200,
        headers={"Content-Type": "application/json"},
        body=json.dumps(info).encode(),
    )


def test_a_missing_permissions_endpoint_is_named(server_url):
    """A server without the setting: the proxy serves a root without that capability."""
    info = requests.get(server_url + "/", timeout=10).json()
    del info["capabilities"]["permissions_endpoint"]
    with running(server_url) as proxy:
        _serve_root(proxy, info)
        client = Client(server_url=proxy.url, auth=AUTH)
        with pytest.raises(CapabilityMissing) as exc_info:
            client.get_permissions()
        assert proxy.count(path="/permissions") == 0
    assert exc_info.value.capability == "permissions_endpoint"
    assert "kinto.experimental_permissions_endpoint = true" in str(exc_info.value)


def test_a_missing_history_plugin_is_named(server_url):
    info = requests.get(server_url + "/", timeout=10).json()
    del info["capabilities"]["history"]
    with running(server_url) as proxy:
        _serve_root(proxy, info)
        client = Client(server_url=proxy.url, auth=AUTH)
        for call in (client.get_history, client.purge_history):
            with pytest.raises(CapabilityMissing, match=r"kinto\.plugins\.history"):
                call(bucket="b")
        assert proxy.count(path="/history") == 0
