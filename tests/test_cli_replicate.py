"""kinto-client-replicate / python -m kinto_client.replication, run as real subprocesses."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cli_helpers import assert_one_line_error, run_module, run_module_on_tty
from kinto_server import free_port

from kinto_client import Client
from kinto_client.progress import Progress
from kinto_client.replication import ReplicationSummary, replicate

ALEXIS = ("alexis", "p4ssw0rd")
REMY = ("leplatrem", "s3cr3t")
MODULE = "kinto_client.replication"


def auth_option(auth: tuple[str, str]) -> str:
    return f"{auth[0]}:{auth[1]}"


def fill_origin(server_url: str, count: int, public: bool = True) -> Client:
    """Alexis's bucket 'origin', collection 'recipes': metadata, permissions, records."""
    client = Client(server_url=server_url, auth=ALEXIS, bucket="origin", collection="recipes")
    client.create_bucket()
    client.create_collection(
        data={"title": "Recipes", "schema_version": 3},
        permissions={"read": ["system.Everyone"]} if public else None,
    )
    with client.batch() as batch:
        for i in range(count):
            batch.create_record({"id": f"r{i:03d}", "n": i, "name": f"recipe {i}"})
    return client


def read(server_url: str, path: str, auth: tuple[str, str]) -> requests.Response:
    return requests.get(f"{server_url}{path}", auth=auth, timeout=10)


def destination_records(server_url: str, auth: tuple[str, str], bucket: str) -> dict[str, dict]:
    client = Client(server_url=server_url, auth=auth, bucket=bucket, collection="recipes")
    return {r["id"]: r for r in client.get_records()}


def replicate_args(server_url: str, *extra: str) -> list[str]:
    return [
        "--origin-server",
        server_url,
        "--origin-auth",
        auth_option(ALEXIS),
        "--origin-bucket",
        "origin",
        "--origin-collection",
        "recipes",
        "-s",
        server_url,
        "-a",
        auth_option(REMY),
        "-b",
        "mirror",
        *extra,
    ]


def test_copies_metadata_permissions_records_and_deletions(server_url, flush):
    origin = fill_origin(server_url, 30)
    origin.patch_record({"id": "r007"}, permissions={"read": ["system.Authenticated"]})
    # The destination already has a stale record and an outdated copy of r001.
    mirror = Client(server_url=server_url, auth=REMY, bucket="mirror", collection="recipes")
    mirror.create_bucket()
    mirror.create_collection()
    mirror.create_record({"id": "stale", "n": -1})
    mirror.create_record({"id": "r001", "n": 999, "extra": True})

    result = run_module(MODULE, *replicate_args(server_url, "--mirror"))

    assert result.returncode == 0, result.stderr
    assert "30 records copied, 0 unchanged, 1 deleted" in result.stderr
    assert "\r" not in result.stderr  # no progress display off a terminal
    assert result.stdout == ""
    collection = read(server_url, "/buckets/mirror/collections/recipes", REMY).json()
    assert collection["data"]["title"] == "Recipes"
    assert collection["data"]["schema_version"] == 3
    assert collection["permissions"]["read"] == ["system.Everyone"]
    records = destination_records(server_url, REMY, "mirror")
    assert sorted(records) == [f"r{i:03d}" for i in range(30)]
    assert records["r001"]["n"] == 1
    assert "extra" not in records["r001"]
    assert records["r029"]["name"] == "recipe 29"
    record = read(server_url, "/buckets/mirror/collections/recipes/records/r007", REMY).json()
    assert record["permissions"]["read"] == ["system.Authenticated"]


def test_next_run_deletes_what_was_deleted_on_the_origin(server_url, flush):
    origin = fill_origin(server_url, 12)
    assert run_module(MODULE, *replicate_args(server_url, "--mirror")).returncode == 0
    before = destination_records(server_url, REMY, "mirror")
    origin.delete_record("r003")
    origin.delete_record("r010")
    origin.update_record({"id": "r004", "n": 44})
    origin.patch_record({"id": "r006"}, permissions={"read": ["system.Authenticated"]})

    result = run_module(MODULE, *replicate_args(server_url, "--mirror"))

    assert result.returncode == 0, result.stderr
    assert "2 records copied, 8 unchanged, 2 deleted" in result.stderr
    records = destination_records(server_url, REMY, "mirror")
    assert "r003" not in records and "r010" not in records
    assert len(records) == 10
    assert records["r004"]["n"] == 44
    record = read(server_url, "/buckets/mirror/collections/recipes/records/r006", REMY).json()
    assert record["permissions"]["read"] == ["system.Authenticated"]
    # Identical records are not written again: their timestamps did not move.
    assert records["r005"]["last_modified"] == before["r005"]["last_modified"]
    assert records["r004"]["last_modified"] > before["r004"]["last_modified"]


def test_a_run_without_changes_writes_nothing(server_url, flush):
    fill_origin(server_url, 5)
    assert run_module(MODULE, *replicate_args(server_url, "--mirror")).returncode == 0
    collection = read(server_url, "/buckets/mirror/collections/recipes", REMY).json()

    result = run_module(MODULE, *replicate_args(server_url, "--mirror"))

    assert result.returncode == 0, result.stderr
    assert "0 records copied, 5 unchanged, 0 deleted" in result.stderr
    again = read(server_url, "/buckets/mirror/collections/recipes", REMY).json()
    assert again["data"]["last_modified"] == collection["data"]["last_modified"]


def test_by_default_keeps_destination_records_and_collection_as_4_0(server_url, flush):
    origin = fill_origin(server_url, 3)
    mirror = Client(server_url=server_url, auth=REMY, bucket="mirror", collection="recipes")
    mirror.create_bucket()
    mirror.create_collection(data={"title": "Mine"})
    mirror.create_record({"id": "mine"})
    mirror.create_record({"id": "r001", "n": 999, "extra": True})

    result = run_module(MODULE, *replicate_args(server_url))

    assert result.returncode == 0, result.stderr
    assert "3 records copied, in" in result.stderr
    records = destination_records(server_url, REMY, "mirror")
    assert sorted(records) == ["mine", "r000", "r001", "r002"]
    assert records["r001"]["n"] == 1 and "extra" not in records["r001"]  # replaced
    collection = read(server_url, "/buckets/mirror/collections/recipes", REMY).json()
    assert collection["data"]["title"] == "Mine"  # an existing collection is not rewritten
    assert "schema_version" not in collection["data"]
    # Deleting on the origin deletes nothing on the destination (no tombstones in a listing).
    origin.delete_record("r002")
    assert run_module(MODULE, *replicate_args(server_url)).returncode == 0
    assert sorted(destination_records(server_url, REMY, "mirror")) == [
        "mine",
        "r000",
        "r001",
        "r002",
    ]


def test_verbose_prints_each_line_once(server_url, flush):
    fill_origin(server_url, 3)
    # The console script: its logger is kinto_client.replication (with -m it is __main__).
    script = shutil.which("kinto-client-replicate", path=str(Path(sys.executable).parent))
    assert script
    result = subprocess.run(
        [script, *replicate_args(server_url, "-v")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("Replication from") for line in lines), lines
    assert len(lines) == len(set(lines)), lines


def test_version():
    result = run_module(MODULE, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("kinto-client-replicate ")
    from kinto_client import __version__

    assert __version__ in result.stdout


def test_quiet_prints_nothing(server_url, flush):
    fill_origin(server_url, 3)
    result = run_module(MODULE, *replicate_args(server_url, "-q"))
    assert result.returncode == 0
    assert result.stderr == ""
    assert len(destination_records(server_url, REMY, "mirror")) == 3


def test_progress_is_drawn_on_a_terminal(server_url, flush):
    fill_origin(server_url, 120)

    result = run_module_on_tty(MODULE, *replicate_args(server_url))

    assert result.returncode == 0, result.stderr
    assert "\r" in result.stderr
    assert "Replicating: 120/120 records (100%)" in result.stderr
    assert "records/s" in result.stderr
    assert "120 records copied, in" in result.stderr
    assert len(destination_records(server_url, REMY, "mirror")) == 120


def test_quiet_draws_no_progress_even_on_a_terminal(server_url, flush):
    fill_origin(server_url, 30)
    result = run_module_on_tty(MODULE, *replicate_args(server_url, "-q"))
    assert result.returncode == 0
    assert result.stderr == ""
    assert len(destination_records(server_url, REMY, "mirror")) == 30


def test_origin_unreachable(server_url, flush):
    args = replicate_args(server_url)
    args[1] = f"http://127.0.0.1:{free_port()}/v1"
    result = run_module(MODULE, *args)
    assert_one_line_error(
        result, "cannot reach the origin server", "connection refused", "(--origin-server)"
    )


def test_origin_owned_by_someone_else_is_forbidden(server_url, flush):
    fill_origin(server_url, 1, public=False)
    args = replicate_args(server_url)
    args[3] = auth_option(REMY)  # Remy may not read Alexis's bucket
    result = run_module(MODULE, *args)
    line = assert_one_line_error(
        result,
        "403",
        "collection 'recipes' in bucket 'origin' on the origin",
        "check --origin-bucket/--origin-collection and --origin-auth",
    )
    assert " -a" not in line and "-b/-c" not in line
    assert read(server_url, "/buckets/mirror", REMY).status_code == 403  # nothing created


def test_missing_origin_collection(server_url, flush):
    fill_origin(server_url, 1)
    args = replicate_args(server_url)
    args[7] = "nothing-here"
    result = run_module(MODULE, *args)
    assert_one_line_error(result, "404", "'nothing-here'")


def test_origin_without_credentials_names_the_origin_options(server_url, flush):
    fill_origin(server_url, 1, public=False)
    args = replicate_args(server_url)
    del args[2:4]  # no --origin-auth
    result = run_module(MODULE, *args)
    line = assert_one_line_error(result, "on the origin", "--origin-auth")
    assert "pass -a" not in line


def test_destination_without_credentials_is_explained(server_url, flush):
    fill_origin(server_url, 1)
    args = replicate_args(server_url)
    del args[10:12]  # no -a for the destination
    result = run_module(MODULE, *args)
    assert_one_line_error(result, "401", "bucket 'mirror' on the destination", "-a user:password")


def test_same_origin_and_destination_is_refused(server_url, flush):
    fill_origin(server_url, 1)
    args = replicate_args(server_url)
    args[-1] = "origin"
    result = run_module(MODULE, *args)
    assert_one_line_error(result, "same collection")


def test_bad_destination_url(server_url):
    args = replicate_args(server_url)
    args[9] = "localhost:8888"
    result = run_module(MODULE, *args)
    assert_one_line_error(result, "bad server URL for -s/--server")


def test_missing_options_are_usage_errors():
    result = run_module(MODULE, "-s", "http://127.0.0.1:1/v1", "-c", "x")
    assert result.returncode == 2
    assert "--origin-server" in result.stderr
    result = run_module(MODULE, "--origin-server", "http://127.0.0.1:1/v1", "-s", "x")
    assert result.returncode == 2
    assert "a collection is required" in result.stderr


def test_help_describes_origin_and_destination():
    result = run_module(MODULE, "--help")
    assert result.returncode == 0
    for option in ("--origin-server", "--origin-auth", "--origin-bucket", "--origin-collection"):
        assert option in result.stdout
    for option in ("--server", "--auth", "--bucket", "--collection", "--quiet"):
        assert option in result.stdout


def test_console_script_is_installed():
    script = shutil.which("kinto-client-replicate", path=str(Path(sys.executable).parent))
    assert script, "kinto-client-replicate is not installed: run `pip install -e .`"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--origin-server" in result.stdout


# -- the library function -------------------------------------------------------------


def test_replicate_returns_a_summary_and_counts_progress(server_url, flush):
    origin = fill_origin(server_url, 27)
    destination = Client(server_url=server_url, auth=REMY, bucket="mirror", collection="copy")
    progress = Progress("test", enabled=False)

    summary = replicate(origin, destination, progress=progress)

    assert isinstance(summary, ReplicationSummary)
    assert (summary.copied, summary.unchanged, summary.deleted, summary.vanished) == (27, 0, 0, 0)
    assert progress.done == 27
    assert progress.total == 27
    assert str(summary).startswith("27 records copied, in ")
    replicate(origin, destination, mirror=True)  # now with the records' permissions
    mirrored = replicate(origin, destination, mirror=True)
    assert str(mirrored).startswith("0 records copied, 27 unchanged, 0 deleted, in ")
    assert len(destination.get_records()) == 27


def test_replicate_positional_signature_still_works(server_url, flush):
    origin = fill_origin(server_url, 2)
    destination = Client(server_url=server_url, auth=ALEXIS, bucket="origin", collection="copy")
    summary = replicate(origin, destination)
    assert summary.copied == 2
    assert sorted(r["id"] for r in destination.get_records()) == ["r000", "r001"]


def test_replicate_needs_collections(server_url):
    origin = Client(server_url=server_url, auth=ALEXIS, bucket="origin")
    destination = Client(server_url=server_url, auth=ALEXIS, bucket="b", collection="c")
    with pytest.raises(ValueError, match="origin client has no collection"):
        replicate(origin, destination)
