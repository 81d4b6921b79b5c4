"""python -m kinto_client (kinto-client) info / export / import, run as real subprocesses."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cli_helpers import assert_one_line_error, run_module, run_module_on_tty
from kinto_server import free_port

from kinto_client import Client, commands
from kinto_client.commands import (
    CommandError,
    describe_location,
    explain_error,
    read_json_lines,
)
from kinto_client.exceptions import KintoBatchException
from kinto_client.progress import Progress, format_duration

ALEXIS = ("alexis", "p4ssw0rd")
REMY = ("leplatrem", "s3cr3t")
MODULE = "kinto_client"


def alexis(server_url: str, *extra: str) -> list[str]:
    return ["-s", server_url, "-a", "alexis:p4ssw0rd", *extra]


def fill(server_url: str, count: int, bucket: str = "shop", collection: str = "items") -> Client:
    client = Client(server_url=server_url, auth=ALEXIS, bucket=bucket, collection=collection)
    client.create_bucket(if_not_exists=True)
    client.create_collection(if_not_exists=True)
    with client.batch() as batch:
        for i in range(count):
            batch.create_record({"id": f"i{i:03d}", "n": i, "label": f"été {i}"})
    return client


def records_of(server_url: str, bucket: str, collection: str) -> dict[str, dict]:
    client = Client(server_url=server_url, auth=ALEXIS, bucket=bucket, collection=collection)
    return {r["id"]: r for r in client.get_records()}


# -- info ----------------------------------------------------------------------------


def test_info_shows_server_and_user(server_url, flush):
    result = run_module(MODULE, "info", *alexis(server_url))
    assert result.returncode == 0, result.stderr
    assert "project:" in result.stdout and "kinto 26." in result.stdout
    assert "user:" in result.stdout and "basicauth:" in result.stdout
    assert "batch max requests: 25" in result.stdout
    assert "default_bucket" in result.stdout


def test_info_json_is_the_servers_answer(server_url, flush):
    result = run_module(MODULE, "info", "--json", *alexis(server_url))
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info == requests.get(server_url + "/", auth=ALEXIS, timeout=10).json()


def test_info_anonymous(server_url):
    result = run_module(MODULE, "info", "-s", server_url)
    assert result.returncode == 0, result.stderr
    assert "anonymous (no -a given)" in result.stdout


def test_info_server_down():
    result = run_module(MODULE, "info", "-s", f"http://127.0.0.1:{free_port()}/v1")
    assert_one_line_error(result, "cannot reach the server", "connection refused", "URL")


def test_info_bad_url():
    result = run_module(MODULE, "info", "-s", "ftp//nowhere")
    assert_one_line_error(result, "bad server URL", "http://localhost:8888/v1")


def test_info_no_server():
    result = run_module(MODULE, "info")
    assert_one_line_error(result, "no server given", "-s/--server")


# -- export --------------------------------------------------------------------------


def test_export_to_stdout_streams_json_lines(server_url, flush):
    fill(server_url, 23)  # three pages of 10
    result = run_module(MODULE, "export", *alexis(server_url, "-b", "shop", "-c", "items"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [f"i{i:03d}" for i in range(23)]
    assert records == sorted(
        records_of(server_url, "shop", "items").values(), key=lambda r: r["id"]
    )
    assert records[5]["label"] == "été 5"
    assert "Exported 23 records" in result.stderr
    assert "\r" not in result.stderr


def test_export_progress_on_a_terminal(server_url, flush):
    fill(server_url, 23)
    result = run_module_on_tty(MODULE, "export", *alexis(server_url, "-b", "shop", "-c", "items"))
    assert result.returncode == 0, result.stderr
    assert "\rExporting: 23/23 records (100%)" in result.stderr
    assert len(result.stdout.splitlines()) == 23
    assert "Exporting" not in result.stdout


def test_export_to_file(server_url, flush, tmp_path):
    fill(server_url, 4)
    target = tmp_path / "items.jsonl"
    result = run_module(
        MODULE, "export", *alexis(server_url, "-b", "shop", "-c", "items", "-o", str(target))
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["n"] for line in lines] == [0, 1, 2, 3]
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left


def test_export_missing_collection(server_url, flush, tmp_path):
    fill(server_url, 1)
    target = tmp_path / "out.jsonl"
    result = run_module(
        MODULE, "export", *alexis(server_url, "-b", "shop", "-c", "nope", "-o", str(target))
    )
    assert_one_line_error(result, "404", "collection 'nope' in bucket 'shop' does not exist")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_export_missing_bucket(server_url, flush):
    result = run_module(MODULE, "export", *alexis(server_url, "-b", "ghost", "-c", "items"))
    assert_one_line_error(result, "403 Forbidden", "bucket 'ghost'", "does not exist or is not")
    assert result.stdout == ""


def test_export_someone_elses_collection(server_url, flush):
    fill(server_url, 1)
    args = ["-s", server_url, "-a", "leplatrem:s3cr3t", "-b", "shop", "-c", "items"]
    result = run_module(MODULE, "export", *args)
    assert_one_line_error(result, "403 Forbidden", "these credentials may not read")


def test_export_without_credentials(server_url, flush):
    fill(server_url, 1)
    result = run_module(MODULE, "export", "-s", server_url, "-b", "shop", "-c", "items")
    assert_one_line_error(result, "401 Unauthorized", "pass -a user:password")


def test_export_needs_a_collection(server_url):
    result = run_module(MODULE, "export", *alexis(server_url, "-b", "shop"))
    assert_one_line_error(result, "-c/--collection")


# -- import --------------------------------------------------------------------------


def test_import_from_file_in_batches(server_url, flush, tmp_path):
    fill(server_url, 0)
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"x{i:03d}", "n": i, "last_modified": 1}) for i in range(60)]
    source.write_text("\n".join(lines) + "\n\n", encoding="utf-8")

    result = run_module(
        MODULE, "import", *alexis(server_url, "-b", "shop", "-c", "items"), str(source)
    )

    assert result.returncode == 0, result.stderr
    assert "Imported 60 records" in result.stderr
    assert "\r" not in result.stderr
    stored = records_of(server_url, "shop", "items")
    assert sorted(stored) == [f"x{i:03d}" for i in range(60)]
    assert stored["x042"]["n"] == 42
    assert stored["x042"]["last_modified"] > 1  # the destination's own timestamp


def test_import_from_stdin_with_permissions_and_new_ids(server_url, flush, raw):
    fill(server_url, 0)
    stdin = "\n".join(
        [
            json.dumps(
                {"data": {"id": "p1", "n": 1}, "permissions": {"read": ["system.Everyone"]}}
            ),
            json.dumps({"n": 2}),  # no id: created with a new one
            json.dumps({"id": "p3", "n": 3}),
        ]
    )
    args = alexis(server_url, "-b", "shop", "-c", "items")
    result = run_module(MODULE, "import", *args, "-", stdin=stdin)
    assert result.returncode == 0, result.stderr
    stored = records_of(server_url, "shop", "items")
    assert len(stored) == 3
    assert sorted(r["n"] for r in stored.values()) == [1, 2, 3]
    url = f"{server_url}/buckets/shop/collections/items/records/p1"
    assert raw.get(url).json()["permissions"]["read"] == ["system.Everyone"]


def test_import_replaces_existing_records(server_url, flush):
    fill(server_url, 3)
    args = alexis(server_url, "-b", "shop", "-c", "items")
    result = run_module(MODULE, "import", *args, stdin='{"id": "i001", "n": 100}\n')
    assert result.returncode == 0, result.stderr
    stored = records_of(server_url, "shop", "items")
    assert stored["i001"]["n"] == 100
    assert "label" not in stored["i001"]
    assert len(stored) == 3


def test_export_then_import_round_trip(server_url, flush):
    fill(server_url, 25)
    exported = run_module(MODULE, "export", *alexis(server_url, "-b", "shop", "-c", "items"))
    assert exported.returncode == 0
    args = alexis(server_url, "-b", "copy", "-c", "items", "--create")
    imported = run_module(MODULE, "import", *args, stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr

    def strip(records):
        return {k: {f: v for f, v in r.items() if f != "last_modified"} for k, r in records.items()}

    assert strip(records_of(server_url, "copy", "items")) == strip(
        records_of(server_url, "shop", "items")
    )


def test_import_into_missing_bucket_says_so_and_suggests_create(server_url, flush):
    args = alexis(server_url, "-b", "ghost", "-c", "items")
    result = run_module(MODULE, "import", *args, stdin='{"id": "a"}\n')
    assert_one_line_error(result, "bucket 'ghost'", "--create")
    assert requests.get(f"{server_url}/buckets/ghost", auth=ALEXIS, timeout=10).status_code == 403


def test_import_into_missing_collection(server_url, flush):
    fill(server_url, 0)
    args = alexis(server_url, "-b", "shop", "-c", "nope")
    result = run_module(MODULE, "import", *args, stdin='{"id": "a"}\n')
    assert_one_line_error(result, "404", "collection 'nope'", "--create")


def test_import_someone_elses_collection_is_forbidden(server_url, flush):
    fill(server_url, 0)
    client = Client(server_url=server_url, auth=ALEXIS, bucket="shop", collection="items")
    client.update_collection(permissions={"read": ["system.Authenticated"]})
    args = ["-s", server_url, "-a", "leplatrem:s3cr3t", "-b", "shop", "-c", "items"]
    result = run_module(MODULE, "import", *args, stdin='{"id": "a"}\n')
    assert_one_line_error(result, "403 Forbidden", "may not write", "record 'a'", "ask its owner")
    assert records_of(server_url, "shop", "items") == {}


def test_import_ignoring_batch_4xx_reports_the_failures(server_url, flush):
    fill(server_url, 0)
    client = Client(server_url=server_url, auth=ALEXIS, bucket="shop", collection="items")
    client.update_collection(permissions={"read": ["system.Authenticated"]})
    client.create_record({"id": "mine"})
    # Remy may read the collection, so he gets past the check, but not write into it.
    args = ["-s", server_url, "-a", "leplatrem:s3cr3t", "-b", "shop", "-c", "items"]
    stdin = '{"id": "a"}\n{"id": "b"}\n'
    result = run_module(
        MODULE, "import", *args, "--ignore-batch-4xx", "--batch-size", "1", stdin=stdin
    )
    assert result.returncode == 0, result.stderr
    assert "Imported 0 records" in result.stderr
    assert "(2 failed and ignored, see the warnings)" in result.stderr
    assert sorted(records_of(server_url, "shop", "items")) == ["mine"]


def test_import_batch_size_must_be_positive(server_url):
    args = alexis(server_url, "-b", "shop", "-c", "items", "--batch-size", "0")
    result = run_module(MODULE, "import", *args, stdin="")
    assert result.returncode == 2
    assert "expected a positive whole number, got '0'" in result.stderr


def test_import_bad_line_is_reported_before_anything_is_sent(server_url, flush):
    fill(server_url, 0)
    stdin = '{"id": "a"}\n{"id": "b"}\n{"id": "c",\n'
    result = run_module(
        MODULE, "import", *alexis(server_url, "-b", "shop", "-c", "items"), stdin=stdin
    )
    assert_one_line_error(result, "stdin line 3: not valid JSON")
    assert records_of(server_url, "shop", "items") == {}


def test_import_missing_file(server_url, tmp_path):
    missing = tmp_path / "nope.jsonl"
    args = alexis(server_url, "-b", "shop", "-c", "items")
    result = run_module(MODULE, "import", *args, str(missing))
    assert_one_line_error(result, "nope.jsonl", "No such file")


def test_import_server_down(tmp_path):
    args = ["-s", f"http://127.0.0.1:{free_port()}/v1", "-b", "shop", "-c", "items", "--create"]
    result = run_module(MODULE, "import", *args, stdin='{"id": "a"}\n')
    assert_one_line_error(result, "cannot reach the server", "connection refused")


def test_import_progress_on_a_terminal(server_url, flush, tmp_path):
    fill(server_url, 0)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": f"t{i}"}) + "\n" for i in range(130)))
    args = alexis(server_url, "-b", "shop", "-c", "items")
    result = run_module_on_tty(MODULE, "import", *args, str(source))
    assert result.returncode == 0, result.stderr
    assert "\r" in result.stderr
    assert "Importing: 130/130 records (100%)" in result.stderr
    assert "Imported 130 records" in result.stderr
    assert len(records_of(server_url, "shop", "items")) == 130


def test_import_quiet_on_a_terminal(server_url, flush, tmp_path):
    fill(server_url, 0)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": f"t{i}"}) + "\n" for i in range(30)))
    args = alexis(server_url, "-b", "shop", "-c", "items", "-q")
    result = run_module_on_tty(MODULE, "import", *args, str(source))
    assert result.returncode == 0
    assert result.stderr == ""
    assert len(records_of(server_url, "shop", "items")) == 30


# -- help and scripts ----------------------------------------------------------------


@pytest.mark.parametrize("command", ["info", "export", "import"])
def test_each_command_has_help(command):
    result = run_module(MODULE, command, "--help")
    assert result.returncode == 0
    assert "--server" in result.stdout and "--auth" in result.stdout
    if command != "info":
        assert "--collection" in result.stdout


def test_no_command_is_a_usage_error():
    result = run_module(MODULE)
    assert result.returncode == 2
    assert "COMMAND" in result.stderr


def test_console_script_is_installed(server_url):
    script = shutil.which("kinto-client", path=str(Path(sys.executable).parent))
    assert script, "kinto-client is not installed: run `pip install -e .`"
    result = subprocess.run(
        [script, "info", "-s", server_url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "HTTP API:" in result.stdout


# -- pure logic (no server) ---------------------------------------------------------


def test_progress_draws_only_when_enabled():
    quiet = io.StringIO()
    with Progress("Copying", total=4, stream=quiet) as progress:
        progress.advance(4)
    assert quiet.getvalue() == ""  # a StringIO is not a terminal
    assert progress.done == 4

    shown = io.StringIO()
    with Progress("Copying", total=4, stream=shown, enabled=True, interval=0) as progress:
        progress.advance(1)
        progress.advance(3)
    text = shown.getvalue()
    assert text.startswith("\rCopying: 1/4 records (25%)")
    assert "\rCopying: 4/4 records (100%)" in text
    assert text.endswith("\n")


def test_progress_without_total_and_growing_total():
    out = io.StringIO()
    progress = Progress("Reading", stream=out, enabled=True, unit="lines")
    progress.advance(7)
    assert progress.line().startswith("Reading: 7 lines, ")
    progress.total = 5
    progress.advance(1)
    assert progress.total == 8
    progress.finish()
    progress.finish()
    assert out.getvalue().count("\n") == 1


def test_format_duration():
    assert format_duration(0.5) == "0.50s"
    assert format_duration(12.34) == "12.3s"
    assert format_duration(245) == "4m05s"
    assert format_duration(7380) == "2h03m"


def test_describe_location():
    assert describe_location("/v1/buckets/b/collections/c/records") == (
        "collection 'c' in bucket 'b'"
    )
    assert describe_location("http://h/v1/buckets/records/collections/x/records/r%201") == (
        "record 'r 1' of collection 'x' in bucket 'records'"
    )
    assert describe_location("/buckets/b") == "bucket 'b'"
    assert describe_location("/buckets/b/groups/g") == "group 'g' in bucket 'b'"


def test_explain_batch_failure_is_one_line():
    results = [
        {
            "request": {"method": "PUT", "path": f"/buckets/b/collections/c/records/r{i}"},
            "status": 403,
            "body": {"code": 403, "message": "no"},
            "ok": False,
        }
        for i in range(12)
    ]
    text = explain_error(KintoBatchException(results))
    assert "\n" not in text
    assert text.startswith("12 of 12 batch operations failed; 403 Forbidden")
    assert "record 'r0' of collection 'c' in bucket 'b'" in text


def test_read_json_lines_checks_every_line():
    records = read_json_lines(iter(['{"id": "a", "last_modified": 3}\n', "\n", '{"b": 1}']), "x")
    assert records == [
        {"data": {"id": "a"}, "permissions": None},
        {"data": {"b": 1}, "permissions": None},
    ]
    with pytest.raises(CommandError, match="x line 2: expected a JSON object"):
        read_json_lines(iter(['{"id": "a"}', "[1, 2]"]), "x")
    with pytest.raises(CommandError, match="'id' must be a string"):
        read_json_lines(iter(['{"id": [1]}']), "x")
    with pytest.raises(CommandError, match="'permissions' must be an object"):
        read_json_lines(iter(['{"data": {}, "permissions": 3}']), "x")


def test_explain_names_the_missing_parent():
    results = [
        {
            "request": {"method": "PUT", "path": "/buckets/b/collections/c/records/r"},
            "status": 404,
            "body": {"code": 404, "details": {"id": "c", "resource_name": "collection"}},
            "ok": False,
        }
    ]
    text = explain_error(KintoBatchException(results))
    assert text == "1 of 1 batch operations failed; 404 Not Found: collection 'c' does not exist"


def test_explain_anonymous_and_refused_credentials():
    results = [
        {
            "request": {"method": "GET", "path": "/buckets/b"},
            "status": 401,
            "body": {"code": 401},
            "ok": False,
        }
    ]
    asked = explain_error(KintoBatchException(results), authenticated=False)
    assert "bucket 'b' needs credentials; pass -a user:password" in asked
    refused = explain_error(KintoBatchException(results), authenticated=True)
    assert "the server refused these credentials to read bucket 'b'" in refused


def test_main_in_process_writes_to_a_replaced_stdout(server_url, flush):
    fill(server_url, 3)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = commands.main(["export", *alexis(server_url, "-b", "shop", "-c", "items")])
        missing = commands.main(["export", *alexis(server_url, "-b", "shop", "-c", "nope")])
    assert status == 0
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [
        "i000",
        "i001",
        "i002",
    ]
    assert missing == 1
    assert "kinto-client export: error: 404 Not Found: collection 'nope'" in err.getvalue()


def test_info_server_that_never_answers():
    # A listening socket that never answers: the connection opens, the reply never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        result = run_module(MODULE, "info", "-s", url, "--timeout", "0.5")
    assert_one_line_error(result, "timed out", "Use --timeout to wait longer")


def test_credentials_in_the_url_are_never_printed():
    url = f"http://alexis:p4ssw0rd@127.0.0.1:{free_port()}/v1"
    result = run_module(MODULE, "info", "-s", url)
    assert_one_line_error(result, "connection refused")  # checks that no password leaked
    result = run_module(MODULE, "info", "-s", "htp://alexis:p4ssw0rd@127.0.0.1/v1")
    assert_one_line_error(result, "bad server URL")
