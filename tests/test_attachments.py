"""Attachments (the kinto-attachment plugin) on the plugins server.

Files are stored in the fixture's temporary folder and served by its static
file server (``plugins_server.files``): the tests read and corrupt them there.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from conftest_plugins import ATTACHMENT
from fault_proxy import running
from local_http import LocalServer

from kinto_client import Client, Retry
from kinto_client.exceptions import (
    KintoConnectionError,
    KintoException,
    KintoHTTPError,
)

pytestmark = pytest.mark.functional

AUTH = ("alexis", "p4ssw0rd")


def stored_file(server, location: str) -> Path:
    """The file behind an attachment location, in the fixture's folder."""
    return server.attachments_dir / urlsplit(location).path.lstrip("/")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# -- add_attachment ------------------------------------------------------------------------


def test_add_attachment_uploads_the_file(files, source, plugins_server):
    meta = files.add_attachment("r1", source)
    assert meta["filename"] == "scores.csv"
    assert meta["size"] == len(ATTACHMENT)
    assert meta["hash"] == hashlib.sha256(ATTACHMENT).hexdigest()
    assert meta["mimetype"] == "text/csv"
    assert stored_file(plugins_server, meta["location"]).read_bytes() == ATTACHMENT
    assert requests.get(meta["location"], timeout=10).content == ATTACHMENT
    record = files.get_record("r1")  # created by the upload
    assert record["data"]["attachment"] == meta


def test_add_attachment_merges_data_and_permissions(files, source, plugins_server_url):
    files.create_record({"title": "Scores", "year": 2020}, id="r1")
    files.add_attachment(
        "r1",
        str(source),
        data={"year": 2024},
        permissions={"read": ["system.Everyone"]},
        mimetype="application/x-scores",
    )
    url = f"{plugins_server_url}/buckets/files/collections/docs/records/r1"
    body = requests.get(url, timeout=10).json()  # anonymous: now publicly readable
    assert (body["data"]["title"], body["data"]["year"]) == ("Scores", 2024)
    assert body["data"]["attachment"]["mimetype"] == "application/x-scores"


def test_add_attachment_replaces_the_previous_file(files, source, tmp_path, plugins_server):
    first = files.add_attachment("r1", source)
    other = tmp_path / "other.txt"
    other.write_bytes(b"second version")
    second = files.add_attachment("r1", other)
    assert not stored_file(plugins_server, first["location"]).exists()
    assert stored_file(plugins_server, second["location"]).read_bytes() == b"second version"
    assert files.get_record("r1")["data"]["attachment"]["filename"] == "other.txt"


def test_a_retried_upload_sends_the_whole_file_again(
    plugins_server_url, plugins_flush, source, plugins_server
):
    with running(plugins_server_url) as proxy:
        client = Client(server_url=proxy.url, auth=AUTH, retry=Retry(total=2, retry_after=0))
        client.create_bucket("files")
        client.create_collection("docs", bucket="files")
        proxy.add("drop_before", method="POST", path="/attachment")
        meta = client.add_attachment("r1", source, bucket="files", collection="docs")
        uploads = proxy.requests("POST", "/attachment")
    assert len(uploads) == 2
    assert all(ATTACHMENT in upload.body for upload in uploads)  # re-read from its start
    assert len(uploads[0].body) == len(uploads[1].body)  # (only the boundaries differ)
    assert meta["hash"] == hashlib.sha256(ATTACHMENT).hexdigest()
    assert stored_file(plugins_server, meta["location"]).read_bytes() == ATTACHMENT


def test_add_attachment_checks_its_input_before_sending(files, tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a readable file"):
        files.add_attachment("r1", tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError):
        files.add_attachment("r1", tmp_path)  # a folder
    with pytest.raises(KintoHTTPError) as exc_info:
        files.get_record("r1")
    assert exc_info.value.status_code == 404


def test_add_attachment_refuses_a_batch(files, source):
    with (
        pytest.raises(KintoException, match="File uploads cannot go through /batch"),
        files.batch() as batch,
    ):
        batch.add_attachment("r1", source)


def test_add_attachment_refused_extension(files, tmp_path):
    path = tmp_path / "tool.exe"
    path.write_bytes(b"MZ")
    with pytest.raises(KintoHTTPError) as exc_info:
        files.add_attachment("r1", path)
    assert exc_info.value.status_code == 400
    assert "extension is not allowed" in str(exc_info.value)


# -- remove_attachment ---------------------------------------------------------------------


def test_remove_attachment(files, source, plugins_server):
    meta = files.add_attachment("r1", source, data={"title": "kept"})
    files.remove_attachment("r1")
    record = files.get_record("r1")["data"]
    assert record["attachment"] is None
    assert record["title"] == "kept"
    assert not stored_file(plugins_server, meta["location"]).exists()


def test_remove_attachment_in_a_batch(files, source, plugins_server):
    meta = files.add_attachment("r1", source)
    with files.batch() as batch:
        batch.remove_attachment("r1")
        batch.patch_record({"title": "no file"}, id="r1")
    record = files.get_record("r1")["data"]
    assert (record["attachment"], record["title"]) == (None, "no file")
    assert not stored_file(plugins_server, meta["location"]).exists()


def test_deleting_the_record_deletes_its_file(files, source, plugins_server):
    meta = files.add_attachment("r1", source)
    files.delete_record("r1")
    assert not stored_file(plugins_server, meta["location"]).exists()


# -- download_attachment -------------------------------------------------------------------


def test_download_by_id_into_a_folder(files, source, tmp_path):
    files.add_attachment("r1", source)
    target_dir = tmp_path / "downloads"
    target_dir.mkdir()
    path = files.download_attachment("r1", target_dir)
    assert path == str(target_dir / "scores.csv")
    assert Path(path).read_bytes() == ATTACHMENT
    assert leftovers(target_dir) == []


def test_download_a_record_to_a_file_name(files, source, tmp_path):
    files.add_attachment("r1", source)
    record = files.get_record("r1")
    path = files.download_attachment(record, tmp_path / "copy.csv")
    assert Path(path).read_bytes() == ATTACHMENT
    # The data dict alone works too.
    again = files.download_attachment(record["data"], tmp_path / "again.csv")
    assert Path(again).read_bytes() == ATTACHMENT


def test_download_to_the_current_directory(files, source, tmp_path, monkeypatch):
    files.add_attachment("r1", source)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    path = files.download_attachment("r1")
    assert Path(path) == workdir / "scores.csv"
    assert (workdir / "scores.csv").read_bytes() == ATTACHMENT


def test_download_replaces_an_existing_file_keeping_its_mode(files, source, tmp_path):
    files.add_attachment("r1", source)
    target = tmp_path / "scores.csv"
    target.write_bytes(b"old content")
    os.chmod(target, 0o640)
    files.download_attachment("r1", target)
    assert target.read_bytes() == ATTACHMENT
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_hash_mismatch_leaves_the_existing_file_untouched(
    files, source, tmp_path, plugins_server
):
    meta = files.add_attachment("r1", source)
    stored = stored_file(plugins_server, meta["location"])
    stored.write_bytes(ATTACHMENT.replace(b"ada", b"eve"))  # same size, other bytes
    target = tmp_path / "scores.csv"
    target.write_bytes(b"the previous download")
    with pytest.raises(KintoException) as exc_info:
        files.download_attachment("r1", target)
    message = str(exc_info.value)
    assert "does not match the record's attachment metadata" in message
    assert f"instead of {meta['hash']}" in message
    assert "left untouched" in message
    assert target.read_bytes() == b"the previous download"
    assert leftovers(tmp_path) == []


def test_a_size_mismatch_is_detected(files, source, tmp_path, plugins_server):
    meta = files.add_attachment("r1", source)
    stored = stored_file(plugins_server, meta["location"])
    stored.write_bytes(ATTACHMENT[:100])
    with pytest.raises(KintoException, match=f"100 bytes instead of {len(ATTACHMENT)}"):
        files.download_attachment("r1", tmp_path / "short.csv")
    stored.write_bytes(ATTACHMENT + b"more")
    with pytest.raises(KintoException, match=f"more than the {len(ATTACHMENT)} bytes"):
        files.download_attachment("r1", tmp_path / "long.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]  # only the source


def test_a_missing_file_raises_and_keeps_the_target(files, source, tmp_path, plugins_server):
    meta = files.add_attachment("r1", source)
    stored_file(plugins_server, meta["location"]).unlink()
    target = tmp_path / "scores.csv"
    with pytest.raises(KintoHTTPError) as exc_info:
        files.download_attachment("r1", target)
    assert exc_info.value.status_code == 404
    assert "Downloading the attachment of record 'r1'" in str(exc_info.value)
    assert target.read_bytes() == ATTACHMENT  # the source file, same name, untouched
    assert leftovers(tmp_path) == []


def test_a_record_without_attachment(files, tmp_path):
    files.create_record({"title": "plain"}, id="r1")
    with pytest.raises(KintoException, match="has no attachment"):
        files.download_attachment("r1", tmp_path)
    with pytest.raises(KintoHTTPError):
        files.download_attachment("missing", tmp_path)


def test_a_relative_location_is_resolved_against_the_base_url(files, source, tmp_path):
    meta = files.add_attachment("r1", source)
    record = files.get_record("r1")["data"]
    record["attachment"]["location"] = urlsplit(meta["location"]).path.lstrip("/")
    path = files.download_attachment(record, tmp_path / "out.csv")
    assert Path(path).read_bytes() == ATTACHMENT


def test_download_into_a_missing_folder(files, source, tmp_path):
    files.add_attachment("r1", source)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        files.download_attachment("r1", tmp_path / "nowhere" / "file.csv")


def test_the_file_name_from_the_server_cannot_escape_the_folder(files, source, tmp_path):
    files.add_attachment("r1", source)
    record = files.get_record("r1")["data"]
    record["attachment"]["filename"] = "../../escape.csv"
    folder = tmp_path / "inside"
    folder.mkdir()
    path = files.download_attachment(record, folder)
    assert path == str(folder / "escape.csv")
    assert not (tmp_path.parent / "escape.csv").exists()


# -- where credentials go ------------------------------------------------------------------


def test_credentials_are_not_sent_to_another_host(files, source, plugins_server, tmp_path):
    meta = files.add_attachment("r1", source)
    path = urlsplit(meta["location"]).path
    with running(plugins_server.files.url) as files_proxy:
        record = files.get_record("r1")["data"]
        record["attachment"]["location"] = files_proxy.url + path
        files.download_attachment(record, tmp_path / "out.csv")
        (seen,) = files_proxy.requests("GET", path)
    assert "Authorization" not in seen.headers
    assert (tmp_path / "out.csv").read_bytes() == ATTACHMENT


def test_credentials_are_sent_to_the_kinto_host(plugins_server_url, plugins_flush, tmp_path):
    """A file served by the Kinto server's own origin (e.g. behind the same gateway)."""
    with running(plugins_server_url) as proxy:
        proxy.add("respond", method="GET", path="/files/a.txt", status=200, body=b"private")
        client = Client(server_url=proxy.url, auth=AUTH)
        origin = proxy.url.rsplit("/v1", 1)[0]
        record = {
            "id": "r1",
            "attachment": {
                "location": origin + "/files/a.txt",
                "hash": hashlib.sha256(b"private").hexdigest(),
                "size": 7,
                "filename": "a.txt",
            },
        }
        client.download_attachment(record, tmp_path)
        (seen,) = proxy.requests("GET", "/files/a.txt")
    assert seen.headers["Authorization"].startswith("Basic ")
    assert (tmp_path / "a.txt").read_bytes() == b"private"


# -- a connection that drops in the middle of the body ---------------------------------------


class _Truncating(http.server.BaseHTTPRequestHandler):
    """Announces 1000 bytes, sends 10, and closes the connection."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_dropped_download_keeps_the_existing_file(plugins_client, tmp_path):
    with LocalServer(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Truncating)) as server:
        url = f"{server.url}/file.bin"
        record = {"id": "r1", "attachment": {"location": url, "size": 1000, "hash": "0" * 64}}
        target = tmp_path / "file.bin"
        target.write_bytes(b"previous")
        with pytest.raises(KintoConnectionError, match="left untouched"):
            plugins_client.download_attachment(record, target)
    assert target.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []
