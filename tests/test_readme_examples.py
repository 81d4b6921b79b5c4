"""Every example of kinto-client 4.0.0's documentation, executed as written.

``../shared/spec/original-readme.txt`` is the original documentation. Each
test below runs one of its examples as written (only the server URL is the
test server's instead of ``http://localhost:8888/v1``, and the obvious typos
such as unquoted ``status:`` keys are fixed), then reads its effect back
from the server with plain HTTP (the ``raw`` fixture), never through the
code under test alone.
"""

from __future__ import annotations

import http.server
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import AUTH, read_all
from local_http import LocalServer

from kinto_client import Client, KintoException
from kinto_client.retry import Retry

DOC_RECORD_ID = "89881454-e4e9-4ef0-99a9-404d95900352"


def read(raw: requests.Session, server_url: str, path: str) -> dict:
    """GET ``path`` with plain requests and return the JSON body (asserting 200)."""
    response = raw.get(server_url + path)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def status(raw: requests.Session, server_url: str, path: str) -> int:
    return raw.get(server_url + path).status_code


def put(raw: requests.Session, server_url: str, path: str, body: dict | None = None) -> dict:
    response = raw.put(server_url + path, json=body or {})
    assert response.status_code in (200, 201), response.text
    return response.json()


# -- Usage: the overview ---------------------------------------------------------------


def test_overview(server_url, flush, raw):
    for n in range(3):
        put(raw, server_url, f"/buckets/default/collections/todos/records/r{n}", {"data": {}})

    # As written in the documentation:
    from kinto_client import Client

    client = Client(server_url=server_url, auth=("alexis", "p4ssw0rd"))
    records = client.get_records(bucket="default", collection="todos")
    for i, record in enumerate(records["data"]):
        record["title"] = "Todo #%d" % i  # noqa: UP031 (as documented)
    for record in records:
        client.update_record(record)

    assert len(records) == 3
    stored = read(raw, server_url, "/buckets/default/collections/todos/records?_sort=title")
    assert sorted(r["title"] for r in stored["data"]) == ["Todo #0", "Todo #1", "Todo #2"]
    # Each title landed on the record it was set on.
    by_id = {r["id"]: r["title"] for r in stored["data"]}
    assert by_id == {r["id"]: r["title"] for r in records}


# -- Creating a client ---------------------------------------------------------------------


def test_creating_a_client(server_url, flush, raw):
    from kinto_client import Client

    credentials = ("alexis", "p4ssw0rd")
    client = Client(server_url=server_url, auth=credentials)

    # The credentials are used: the server knows who we are.
    info = client.server_info()
    assert info["user"]["id"].startswith("basicauth:")
    assert info["user"]["id"] == read(raw, server_url, "/")["user"]["id"]


def test_client_with_default_bucket_and_collection(server_url, flush, raw):
    auth = ("alexis", "p4ssw0rd")

    # Decision: the documentation's line gives no server_url. A client without
    # a server cannot send anything, so it fails at construction, before any
    # request, with an error that says what to pass.
    with pytest.raises(AttributeError, match="server_url"):
        client = Client(bucket="payments", collection="receipts", auth=auth)

    # With the server URL supplied, the bucket and collection are the defaults.
    client = Client(server_url=server_url, bucket="payments", collection="receipts", auth=auth)
    assert client.bucket_name == "payments"
    assert client.collection_name == "receipts"
    client.create_bucket()
    client.create_collection()
    client.create_record({"id": "r1", "amount": 12})
    stored = read(raw, server_url, "/buckets/payments/collections/receipts/records/r1")
    assert stored["data"]["amount"] == 12


# -- Handling buckets --------------------------------------------------------------------


def test_handling_buckets(server_url, flush, raw):
    from kinto_client import Client

    credentials = ("alexis", "p4ssw0rd")
    client = Client(server_url=server_url, auth=credentials)
    client.create_bucket("payments")
    got = client.get_bucket("payments")
    # It is also possible to manipulate bucket permissions (see later)
    client.update_bucket("payments", permissions={})

    stored = read(raw, server_url, "/buckets/payments")
    assert stored["data"]["id"] == "payments"
    assert got["data"]["id"] == "payments"
    assert got["permissions"]["write"] == stored["permissions"]["write"]
    # The creator keeps write access; no other permission was added.
    assert set(stored["permissions"]) == {"write"}


# -- Collections ---------------------------------------------------------------------


def test_collections(client, raw, server_url):
    client.create_bucket("payments")

    client.create_collection("receipts", bucket="payments")
    assert status(raw, server_url, "/buckets/payments/collections/receipts") == 200
    # Or get an existing one.
    got = client.get_collection("receipts", bucket="payments")
    assert got["data"]["id"] == "receipts"
    # To delete an existing collection.
    client.delete_collection("receipts", bucket="payments")
    assert status(raw, server_url, "/buckets/payments/collections/receipts") == 404


# -- Records ---------------------------------------------------------------------------


def test_records(client, raw, server_url):
    path = "/buckets/default/collections/todos/records"
    # The documentation retrieves and deletes this record: it exists beforehand.
    put(raw, server_url, f"{path}/{DOC_RECORD_ID}", {"data": {"title": "existing"}})

    # You can pass a python dictionary to create the record
    # bucket='default' can be omitted since it's the default value
    client.create_record(
        data={"id": 1234, "status": "done", "title": "Todo #1"},
        collection="todos",
        bucket="default",
    )
    stored = read(raw, server_url, f"{path}/1234")["data"]
    assert stored["id"] == "1234"
    assert (stored["status"], stored["title"]) == ("done", "Todo #1")

    # Retrieve all records.
    record = client.get_records(collection="todos", bucket="default")
    assert sorted(r["id"] for r in record) == sorted(["1234", DOC_RECORD_ID])

    # Retrieve a specific record and update it.
    record = client.get_record(
        "89881454-e4e9-4ef0-99a9-404d95900352", collection="todos", bucket="default"
    )
    record["data"]["title"] = "updated"
    client.update_record(record, collection="todos", bucket="default")
    stored = read(raw, server_url, f"{path}/{DOC_RECORD_ID}")
    assert stored["data"]["title"] == "updated"
    assert "data" not in stored["data"]  # the whole object was not nested
    assert stored["permissions"] == record["permissions"]

    # Update multiple records at once.
    records = client.get_records(collection="todos")
    for r in records:
        r["done"] = True
    client.update_records(records, collection="todos")
    stored = read(raw, server_url, path)["data"]
    assert len(stored) == 2
    assert all(r["done"] is True for r in stored)

    # It is also possible to delete records.
    client.delete_record(id="89881454-e4e9-4ef0-99a9-404d95900352", collection="todos")
    assert status(raw, server_url, f"{path}/{DOC_RECORD_ID}") == 404
    assert [r["id"] for r in read(raw, server_url, path)["data"]] == ["1234"]


# -- Permissions ---------------------------------------------------------------------


def test_permissions_on_create(client, raw, server_url):
    client.create_record(
        data={"foo": "bar"}, permissions={"read": ["group:groupid"]}, collection="todos"
    )
    (stored,) = read(raw, server_url, "/buckets/default/collections/todos/records")["data"]
    assert stored["foo"] == "bar"
    full = read(raw, server_url, f"/buckets/default/collections/todos/records/{stored['id']}")
    assert full["permissions"]["read"] == ["group:groupid"]


def test_permissions_give_write_access_to_a_record(client, raw, server_url):
    put(raw, server_url, "/buckets/alexis")
    put(raw, server_url, "/buckets/alexis/collections/todos")
    put(raw, server_url, "/buckets/alexis/collections/todos/records/1234", {"data": {"a": 1}})

    record = client.get_record(1234, collection="todos", bucket="alexis")
    record["permissions"]["write"].append("leplatrem")
    client.update_record(record)

    # It landed in bucket alexis (where it came from), not in the default bucket.
    stored = read(raw, server_url, "/buckets/alexis/collections/todos/records/1234")
    assert "leplatrem" in stored["permissions"]["write"]
    assert stored["data"]["a"] == 1
    assert "data" not in stored["data"]
    assert status(raw, server_url, "/buckets/default/collections/todos/records/1234") == 404


def test_permissions_during_creation(client, raw, server_url):
    # As written, on a client without a default collection: a clear error,
    # before anything is sent.
    with pytest.raises(KintoException, match="collection is missing"):
        client.create_record(data={"foo": "bar"}, permissions={})

    # On a client created with a default collection (see "Creating a client").
    client = Client(server_url=server_url, auth=AUTH, collection="todos")
    created = client.create_record(data={"foo": "bar"}, permissions={})
    record_id = created["data"]["id"]
    stored = read(raw, server_url, f"/buckets/default/collections/todos/records/{record_id}")
    assert stored["data"]["foo"] == "bar"
    # Only the author's implicit write permission.
    assert list(stored["permissions"]) == ["write"]


# -- Get or create --------------------------------------------------------------------


def test_get_or_create(client, raw, server_url):
    first = client.create_bucket("bucket", if_not_exists=True)
    put(raw, server_url, "/buckets/bucket", {"data": {"kept": True}})

    second = client.create_bucket("bucket", if_not_exists=True)

    assert first["data"]["id"] == second["data"]["id"] == "bucket"
    # The existing bucket was returned, not overwritten.
    assert second["data"]["kept"] is True
    assert read(raw, server_url, "/buckets/bucket")["data"]["kept"] is True
    assert "write" in second["permissions"]


# -- Overwriting existing objects (safe) -----------------------------------------------


def test_safe_rejects_a_stale_last_modified(client, raw, server_url):
    path = "/buckets/default/collections/todos/records/r1"
    record = client.create_record({"id": "r1", "title": "first"}, collection="todos")
    stale = record["data"]
    put(raw, server_url, path, {"data": {"title": "changed by someone else"}})

    with pytest.raises(KintoException) as excinfo:
        client.update_record({**stale, "title": "mine"}, collection="todos")
    assert excinfo.value.response.status_code == 412
    assert str(excinfo.value).startswith("412 - ")
    assert read(raw, server_url, path)["data"]["title"] == "changed by someone else"

    # safe=False overwrites knowingly.
    client.update_record({**stale, "title": "mine"}, collection="todos", safe=False)
    assert read(raw, server_url, path)["data"]["title"] == "mine"


# -- Batching operations ---------------------------------------------------------------


def test_batching_operations(server_url, flush, raw):
    # A client with a default collection (the example names none).
    client = Client(server_url=server_url, auth=AUTH, bucket="payments", collection="receipts")
    client.create_bucket()
    client.create_collection()

    with client.batch() as batch:
        for idx in range(0, 100):
            batch.update_record(data={"id": idx})

    stored = read_all(raw, server_url + "/buckets/payments/collections/receipts/records")
    assert sorted(int(r["id"]) for r in stored) == list(range(100))
    # A batch object shares the same methods as another client.
    assert isinstance(batch, Client)


def test_batching_in_the_default_bucket(server_url, flush, raw):
    client = Client(server_url=server_url, auth=AUTH, collection="todos")
    with client.batch() as batch:
        for idx in range(0, 100):
            batch.update_record(data={"id": idx})
    stored = read_all(raw, server_url + "/buckets/default/collections/todos/records")
    assert sorted(int(r["id"]) for r in stored) == list(range(100))


# -- Retry on error ----------------------------------------------------------------


class _FlakyHandler(http.server.BaseHTTPRequestHandler):
    """Answers 503 (Retry-After: 0) to the first ``failures`` requests, then 200."""

    failures = 2
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if len(self.hits) <= self.failures:
            body = b'{"code": 503, "errno": 201, "error": "Service Unavailable"}'
            self.send_response(503)
            self.send_header("Retry-After", "0")
        else:
            body = b'{"project_name": "stub", "settings": {}}'
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_FlakyHandler,), {"hits": hits})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with LocalServer(httpd) as server:
        yield f"{server.url}/v1", hits


def test_retry_on_error(server_url, flush, flaky_server):
    credentials = ("alexis", "p4ssw0rd")
    client = Client(server_url=server_url, auth=credentials, retry=10)
    assert client.session.retry == Retry(total=10)
    assert client.create_bucket("payments")["data"]["id"] == "payments"

    stub_url, hits = flaky_server
    client = Client(server_url=stub_url, auth=credentials, retry=10)
    assert client.server_info()["project_name"] == "stub"
    assert len(hits) == 3  # two 503s retried, stopped at the first success


def test_retry_after_is_forced(server_url, flush, raw):
    credentials = ("alexis", "p4ssw0rd")
    client = Client(server_url=server_url, auth=credentials, retry=10, retry_after=5)
    assert client.session.retry.total == 10
    assert client.session.retry_after == 5
    assert client.session.retry.wait(0, "1") == 5  # the forced value wins over Retry-After
    client.create_bucket("payments")
    assert read(raw, server_url, "/buckets/payments")["data"]["id"] == "payments"


# -- Command-line scripts ------------------------------------------------------------

EXAMPLE_SCRIPT = textwrap.dedent(
    """\
    import argparse
    import logging

    from kinto_client import cli_utils

    logger = logging.getLogger(__name__)

    if __name__ == "__main__":
        parser = argparse.ArgumentParser(description="Download records")
        cli_utils.set_parser_server_options(parser)
        args = parser.parse_args()

        cli_utils.setup_logger(logger, args)

        logger.debug("Instantiate Kinto client.")
        client = cli_utils.create_client_from_args(args)

        logger.info("Fetch records.")
        records = client.get_records()
        logger.warn("%s records." % len(records))
    """
)

DOCUMENTED_HELP = (
    "usage: example.py [-h] [-s SERVER] [-a AUTH] [-b BUCKET] [-c COLLECTION] [-v] [-q] [-D] "
    "Download records optional arguments: -h, --help show this help message and exit -s SERVER, "
    "--server SERVER The location of the remote server (with prefix) -a AUTH, --auth AUTH "
    "BasicAuth token:my-secret -b BUCKET, --bucket BUCKET Bucket name. -c COLLECTION, "
    "--collection COLLECTION Collection name. -v, --verbose Show all messages. -q, --quiet "
    "Show only critical errors. -D, --debug Show all messages, including debug messages."
)


@pytest.fixture
def example_py(tmp_path: Path) -> Path:
    script = EXAMPLE_SCRIPT
    if not hasattr(logging.Logger, "warn"):  # removed in some future Python
        script = script.replace("logger.warn(", "logger.warning(")
    path = tmp_path / "example.py"
    path.write_text(script)
    return path


def run_example(example_py: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # Logger.warn() is deprecated (a DeprecationWarning since 3.3, still
        # in 3.13): the documented script uses it, so its warning is silenced
        # here and its message must still be printed.
        [sys.executable, "-W", "ignore::DeprecationWarning", str(example_py), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        cwd=example_py.parent,
    )


def test_command_line_script_help(example_py):
    result = run_example(example_py, "--help")
    assert result.returncode == 0, result.stderr
    words = " ".join(result.stdout.split())
    # Python 3.10 renamed the "optional arguments:" heading to "options:".
    words = words.replace(" options: ", " optional arguments: ")

    documented_usage = DOCUMENTED_HELP.split(" Download records")[0]
    assert words.startswith(documented_usage), words
    for line in (
        "Download records",
        "-h, --help show this help message and exit",
        "-s SERVER, --server SERVER The location of the remote server (with prefix)",
        "-a AUTH, --auth AUTH BasicAuth",
        "token:my-secret",
        "-b BUCKET, --bucket BUCKET Bucket name.",
        "-c COLLECTION, --collection COLLECTION Collection name.",
        "-v, --verbose Show all messages.",
        "-q, --quiet Show only critical errors.",
        "-D, --debug Show all messages, including debug messages.",
    ):
        assert line in words, (line, words)
    # The documented options appear in the documented order.
    positions = [words.index(opt) for opt in ("-s SERVER,", "-a AUTH,", "-b BUCKET,", "-v,")]
    assert positions == sorted(positions)


@pytest.fixture
def todos(server_url: str, flush: None, raw: requests.Session) -> str:
    put(raw, server_url, "/buckets/payments")
    put(raw, server_url, "/buckets/payments/collections/receipts")
    for n in range(12):  # more than one page (paginate_by = 10)
        put(raw, server_url, f"/buckets/payments/collections/receipts/records/r{n}", {"data": {}})
    return server_url


def test_command_line_script_against_the_server(example_py, todos):
    args = ["-s", todos, "-a", "alexis:p4ssw0rd", "-b", "payments", "-c", "receipts"]
    result = run_example(example_py, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["12 records."]

    verbose = run_example(example_py, *args, "-v")
    assert verbose.stderr.splitlines() == ["Fetch records.", "12 records."]

    quiet = run_example(example_py, *args, "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""

    debug = run_example(example_py, *args, "--debug")
    lines = debug.stderr.splitlines()
    assert lines[0] == "Instantiate Kinto client."
    assert "Fetch records." in lines and lines[-1] == "12 records."
    assert "p4ssw0rd" not in debug.stderr


def test_command_line_script_on_the_default_bucket(example_py, server_url, flush, raw):
    put(raw, server_url, "/buckets/default/collections/todos/records/a", {"data": {}})
    result = run_example(
        example_py, "--server", server_url, "--auth", "alexis:p4ssw0rd", "-c", "todos"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["1 records."]
