"""replicate() and the replication command, between two buckets of the test server.

Everything is read back with plain ``requests`` (``raw``): the destination
must hold the origin collection's metadata, its permissions, and every
record with its own permissions.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import AUTH, read_all

from kinto_client import Client
from kinto_client.replication import main, replicate

ORIGIN_DATA = {"title": "Recipes", "tags": ["food"], "nested": {"a": 1}}
ORIGIN_PERMISSIONS = {"read": ["system.Everyone"], "record:create": ["system.Authenticated"]}


def read(raw: requests.Session, url: str) -> dict[str, Any]:
    response = raw.get(url)
    assert response.status_code == 200, (url, response.status_code, response.text)
    return response.json()  # type: ignore[no-any-return]


def records_of(raw: requests.Session, collection_url: str) -> dict[str, dict[str, Any]]:
    """``{id: data without last_modified}`` of every record of a collection."""
    return {
        r["id"]: {k: v for k, v in r.items() if k != "last_modified"}
        for r in read_all(raw, collection_url + "/records")
    }


@pytest.fixture
def origin(server_url: str, flush: None, raw: requests.Session) -> str:
    """Bucket ``origin``, collection ``recipes``: 30 records (3 pages, 2 batch chunks)."""
    base = f"{server_url}/buckets/origin"
    assert raw.put(base).status_code == 201
    url = f"{base}/collections/recipes"
    response = raw.put(url, json={"data": ORIGIN_DATA, "permissions": ORIGIN_PERMISSIONS})
    assert response.status_code == 201, response.text
    requests_ = [
        {
            "method": "PUT",
            "path": f"/buckets/origin/collections/recipes/records/{n}",
            "body": {"data": {"n": n, "name": f"recipe {n}", "nested": {"n": [n]}}},
        }
        for n in range(30)
    ]
    requests_[0]["body"]["permissions"] = {"read": ["leplatrem"], "write": ["basicauth:xyz"]}
    for chunk in (requests_[:25], requests_[25:]):
        response = raw.post(f"{server_url}/batch", json={"requests": chunk})
        assert response.status_code == 200
        assert all(r["status"] == 201 for r in response.json()["responses"])
    return url


def assert_records_copied(raw: requests.Session, origin_url: str, copy_url: str) -> None:
    """Every origin record is in the copy with the same data (4.0's replication)."""
    copied = records_of(raw, copy_url)
    for record_id, data in records_of(raw, origin_url).items():
        assert copied[record_id] == data, record_id


def assert_is_a_copy(raw: requests.Session, origin_url: str, copy_url: str) -> None:
    """The copy is a mirror: collection data and permissions, records and their permissions."""
    source, copy = read(raw, origin_url), read(raw, copy_url)
    strip = ("id", "last_modified")
    assert {k: v for k, v in copy["data"].items() if k not in strip} == {
        k: v for k, v in source["data"].items() if k not in strip
    }
    for kind, principals in source["permissions"].items():
        assert set(principals) <= set(copy["permissions"].get(kind, [])), kind
    assert records_of(raw, copy_url) == records_of(raw, origin_url)
    for record_id in ("0", "7"):
        stored = read(raw, f"{origin_url}/records/{record_id}")["permissions"]
        copied = read(raw, f"{copy_url}/records/{record_id}")["permissions"]
        for kind, principals in stored.items():
            assert set(principals) <= set(copied.get(kind, [])), (record_id, kind)


def test_replicate_between_two_buckets(server_url, origin, raw):
    source = Client(server_url=server_url, auth=AUTH, bucket="origin", collection="recipes")
    destination = Client(server_url=server_url, auth=AUTH, bucket="copy", collection="recipes")

    summary = replicate(source, destination)

    assert (summary.copied, summary.deleted, summary.mirror) == (30, 0, False)
    copy_url = f"{server_url}/buckets/copy/collections/recipes"
    assert read(raw, f"{server_url}/buckets/copy")["data"]["id"] == "copy"  # bucket created
    copy = read(raw, copy_url)  # collection created with the origin's data and permissions
    assert copy["data"]["title"] == "Recipes" and copy["data"]["nested"] == {"a": 1}
    assert copy["permissions"]["read"] == ["system.Everyone"]
    assert copy["permissions"]["record:create"] == ["system.Authenticated"]
    records = records_of(raw, copy_url)
    assert len(records) == 30
    assert records["12"] == {"id": "12", "n": 12, "name": "recipe 12", "nested": {"n": [12]}}
    assert_records_copied(raw, origin, copy_url)
    # As in 4.0, records are written with their data only.
    assert "read" not in read(raw, f"{copy_url}/records/0")["permissions"]
    # The origin is untouched.
    assert len(records_of(raw, origin)) == 30


def test_replicate_into_an_existing_collection_and_again(server_url, origin, raw):
    copy_url = f"{server_url}/buckets/copy/collections/other"
    assert raw.put(f"{server_url}/buckets/copy", json={"data": {"mine": True}}).status_code == 201
    assert raw.put(copy_url, json={"data": {"title": "old"}}).status_code == 201
    assert raw.put(f"{copy_url}/records/5", json={"data": {"n": "stale"}}).status_code == 201
    source = Client(server_url=server_url, auth=AUTH, bucket="origin", collection="recipes")
    destination = Client(server_url=server_url, auth=AUTH, bucket="copy", collection="other")

    replicate(source, destination)
    assert_records_copied(raw, origin, copy_url)
    assert read(raw, f"{copy_url}/records/5")["data"]["n"] == 5  # overwritten
    assert read(raw, f"{server_url}/buckets/copy")["data"]["mine"] is True  # bucket kept
    assert read(raw, copy_url)["data"] == {  # the existing collection is not rewritten
        "id": "other",
        "title": "old",
        "last_modified": read(raw, copy_url)["data"]["last_modified"],
    }

    # Changes on the origin reach the copy on the next run; extra records stay.
    assert raw.put(f"{copy_url}/records/extra", json={"data": {}}).status_code == 201
    assert raw.patch(f"{origin}/records/3", json={"data": {"name": "changed"}}).status_code == 200
    assert raw.put(f"{origin}/records/new", json={"data": {"n": 99}}).status_code == 201
    assert raw.delete(f"{origin}/records/4").status_code == 200
    replicate(source, destination)
    assert_records_copied(raw, origin, copy_url)
    assert "extra" in records_of(raw, copy_url) and "4" in records_of(raw, copy_url)
    assert read(raw, f"{copy_url}/records/3")["data"]["name"] == "changed"
    assert read(raw, f"{copy_url}/records/new")["data"]["n"] == 99


def test_mirror_makes_an_exact_copy(server_url, origin, raw):
    copy_url = f"{server_url}/buckets/copy/collections/other"
    assert raw.put(f"{server_url}/buckets/copy", json={"data": {"mine": True}}).status_code == 201
    assert raw.put(copy_url, json={"data": {"title": "old"}}).status_code == 201
    assert raw.put(f"{copy_url}/records/5", json={"data": {"n": "stale"}}).status_code == 201
    assert raw.put(f"{copy_url}/records/extra", json={"data": {}}).status_code == 201
    source = Client(server_url=server_url, auth=AUTH, bucket="origin", collection="recipes")
    destination = Client(server_url=server_url, auth=AUTH, bucket="copy", collection="other")

    summary = replicate(source, destination, mirror=True)

    assert (summary.copied, summary.deleted, summary.mirror) == (30, 1, True)
    assert_is_a_copy(raw, origin, copy_url)
    assert "extra" not in records_of(raw, copy_url)
    first = read(raw, f"{copy_url}/records/0")["permissions"]
    assert first["read"] == ["leplatrem"] and "basicauth:xyz" in first["write"]
    assert read(raw, f"{server_url}/buckets/copy")["data"]["mine"] is True  # bucket kept

    assert raw.patch(f"{origin}/records/3", json={"data": {"name": "changed"}}).status_code == 200
    assert raw.delete(f"{origin}/records/4").status_code == 200
    again = replicate(source, destination, mirror=True)
    assert (again.copied, again.unchanged, again.deleted) == (1, 28, 1)
    assert_is_a_copy(raw, origin, copy_url)


def test_replicate_an_empty_collection(server_url, flush, raw):
    assert raw.put(f"{server_url}/buckets/src").status_code == 201
    assert raw.put(f"{server_url}/buckets/src/collections/empty").status_code == 201
    source = Client(server_url=server_url, auth=AUTH, bucket="src", collection="empty")
    destination = Client(server_url=server_url, auth=AUTH, bucket="dst", collection="empty")
    replicate(source, destination)
    assert read_all(raw, f"{server_url}/buckets/dst/collections/empty/records") == []


@pytest.fixture
def restore_loggers() -> Iterator[None]:
    """main() configures logging (cli_utils.setup_logger): undo it for the next tests."""
    loggers = [logging.getLogger(n) for n in ("kinto_client", "kinto_client.replication")]
    saved = [(lg.level, list(lg.handlers)) for lg in loggers]
    yield
    for lg, (level, handlers) in zip(loggers, saved):
        lg.setLevel(level)
        lg.handlers[:] = handlers


def test_main_replicates(server_url, origin, raw, restore_loggers):
    status = main(
        [
            "--origin-server",
            server_url,
            "--origin-auth",
            "alexis:p4ssw0rd",
            "--origin-bucket",
            "origin",
            "--origin-collection",
            "recipes",
            "-s",
            server_url,
            "-a",
            "alexis:p4ssw0rd",
            "-b",
            "copy",
            "-c",
            "recipes",
            "-q",
            "--mirror",
        ]
    )
    assert status == 0
    assert_is_a_copy(raw, origin, f"{server_url}/buckets/copy/collections/recipes")


def test_replication_command_line(server_url, origin, raw):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kinto_client.replication",
            "--origin-server",
            server_url,
            "--origin-auth",
            "alexis:p4ssw0rd",
            "--origin-bucket",
            "origin",
            "--origin-collection",
            "recipes",
            "--server",
            server_url,
            "--auth",
            "alexis:p4ssw0rd",
            "--bucket",
            "cli",
            "--collection",
            "recipes",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "p4ssw0rd" not in result.stdout + result.stderr
    assert_records_copied(raw, origin, f"{server_url}/buckets/cli/collections/recipes")


def test_replication_help_lists_the_documented_options():
    result = subprocess.run(
        [sys.executable, "-m", "kinto_client.replication", "--help"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in (
        "--origin-server",
        "--origin-auth",
        "--origin-bucket",
        "--origin-collection",
        "--server",
        "--auth",
        "--bucket",
        "--collection",
    ):
        assert option in result.stdout
