"""A tour of kinto_client against a running Kinto server (run by ``make demo``).

It creates a bucket, a collection and records, shares them, writes 100
records in one batch, shows get-or-create and a safe update refused with a
412, then reads every effect back from the server. It exits with status 1
if the server does not hold what the tour wrote.

    KINTO_SERVER_URL=http://localhost:8888/v1 python docs/examples/quickstart.py
"""

from __future__ import annotations

import os
import sys

from kinto_client import Client, KintoHTTPError

SERVER_URL = os.environ.get("KINTO_SERVER_URL", "http://localhost:8888/v1")
AUTH = ("alexis", "p4ssw0rd")
FRIEND_AUTH = ("leplatrem", "s3cr3t")

problems: list[str] = []


def step(title: str) -> None:
    print(f"\n== {title}")


def check(condition: bool, what: str) -> None:
    """Record a failed expectation instead of stopping: the summary lists them all."""
    print(f"   {'ok  ' if condition else 'FAIL'} {what}")
    if not condition:
        problems.append(what)


def main() -> int:
    client = Client(server_url=SERVER_URL, auth=AUTH)
    print(f"Kinto server: {SERVER_URL} as {AUTH[0]!r}")

    step("Server information")
    info = client.server_info()
    print(f"   Kinto {info['project_version']}, HTTP API {info['http_api_version']}")
    print(f"   batch_max_requests = {info['settings']['batch_max_requests']}")
    check("default_bucket" in info["capabilities"], "the server has the default bucket plugin")

    step("Start from a clean slate: delete the demo bucket if a previous run left it")
    client.delete_bucket("demo", if_exists=True)

    step("Buckets and collections")
    bucket = client.create_bucket("demo", data={"description": "kinto_client tour"})
    print(f"   created bucket {bucket['data']['id']!r}")
    todos = client.create_collection("todos", bucket="demo")
    print(f"   created collection {todos['data']['id']!r} in 'demo'")

    # A client with default bucket and collection: the calls below omit them.
    demo = client.clone(bucket="demo", collection="todos")
    print(f"   working with {demo!r}")

    step("Records")
    created = demo.create_record({"id": "groceries", "title": "Buy milk", "done": False})
    print(f"   created record {created['data']['id']!r}: {created['data']['title']!r}")
    other = demo.create_record({"title": "Write the docs", "done": False})
    print(f"   created record with a generated id: {other['data']['id']}")
    numbered = demo.create_record({"title": "An integer id"}, id=1234)
    print(f"   created record {numbered['data']['id']!r} (integer ids are stored as strings)")

    record = demo.get_record("groceries")
    record["data"]["done"] = True
    demo.update_record(record)
    print("   marked 'groceries' as done (whole object passed back to update_record)")
    demo.patch_record({"priority": 1}, id="groceries")
    print("   patched 'groceries' with priority=1")

    stored = demo.get_record("groceries")["data"]
    check(stored["done"] is True and stored["priority"] == 1, "'groceries' is done, priority 1")
    check(stored["title"] == "Buy milk", "patching kept the other fields")
    check(demo.get_record(1234)["data"]["id"] == "1234", "record 1234 is stored as '1234'")

    step("Permissions: share one record with a friend")
    friend = Client(server_url=SERVER_URL, auth=FRIEND_AUTH, bucket="demo", collection="todos")
    friend_id = friend.server_info()["user"]["id"]
    try:
        friend.get_record("groceries")
        check(False, "the friend cannot read 'groceries' before it is shared")
    except KintoHTTPError as exc:
        print(f"   before sharing, the friend gets {exc.status_code}")
        check(exc.status_code == 403, "the friend gets 403 before sharing")
    record = demo.get_record("groceries")
    record["permissions"]["read"] = [friend_id]
    record["permissions"]["write"].append(friend_id)
    demo.update_record(record)
    print(f"   gave read and write access to {friend_id}")
    shared = friend.get_record("groceries")
    print(f"   the friend now reads: {shared['data']['title']!r}")
    check(shared["data"]["title"] == "Buy milk", "the friend reads the shared record")
    check(
        friend_id in demo.get_record("groceries")["permissions"]["read"],
        "the read permission is stored",
    )
    check(demo.get_record("groceries")["data"]["done"] is True, "sharing kept the record's data")

    step("Batch: 100 records in as few requests as the server allows")
    with demo.batch() as batch:
        for i in range(100):
            batch.create_record({"id": f"item-{i:03d}", "title": f"Item #{i}", "done": i % 2 == 0})
    results = batch.results()
    print(
        f"   sent {len(results)} operations in chunks of {info['settings']['batch_max_requests']}"
    )
    check(len(results) == 100, "the batch reports 100 results")
    records = demo.get_records()
    print(f"   the collection now holds {len(records)} records")
    check(len(records) == 103, "103 records are stored (3 + 100)")
    done = demo.get_records(done=True)
    check(len(done) == 51, "filtering done=true gives 51 records (50 + 'groceries')")
    newest = demo.get_records(_sort="-last_modified", _limit=5, pages=1)
    print(f"   the 5 newest: {', '.join(r['id'] for r in newest)}")
    check(len(newest) == 5, "_limit=5 with pages=1 gives one page of 5 records")

    step("Get or create (if_not_exists=True)")
    again = demo.create_record({"id": "groceries", "title": "ignored"}, if_not_exists=True)
    print(f"   'groceries' already exists: got it back, title {again['data']['title']!r}")
    check(again["data"]["title"] == "Buy milk", "if_not_exists returned the existing record")
    bucket_again = client.create_bucket("demo", if_not_exists=True)
    check(bucket_again["data"]["id"] == "demo", "create_bucket(if_not_exists=True) returned it")
    check(
        demo.get_record("groceries")["data"]["title"] == "Buy milk",
        "the existing record was not overwritten",
    )

    step("Safe updates: never overwrite a change you have not seen")
    mine = demo.get_record("groceries")
    theirs = friend.get_record("groceries")  # the friend reads the same version
    theirs["data"]["title"] = "Buy oat milk"
    friend.update_record(theirs)  # and saves first: the record gets a new version
    print("   the friend updated 'groceries' meanwhile")
    mine["data"]["title"] = "Buy soy milk"
    try:
        demo.update_record(mine)  # mine still carries the old last_modified
        check(False, "the stale update is refused")
    except KintoHTTPError as exc:
        print(f"   my stale update was refused: {exc.status_code} Precondition Failed")
        print(f"   ({str(exc)[:100]}...)")
        check(exc.status_code == 412, "the stale update raised a 412")
    final = demo.get_record("groceries")["data"]["title"]
    print(f"   the server kept {final!r}")
    check(final == "Buy oat milk", "the concurrent change was not overwritten")

    step("Deleting")
    deleted = demo.delete_record("item-000")
    check(deleted.get("deleted") is True, "delete_record returns the tombstone")
    gone = demo.delete_records(["item-001", "item-002"])
    print(f"   deleted {1 + len(gone)} records")
    check(len(demo.get_records()) == 100, "100 records are left")
    client.delete_bucket("demo")
    print("   deleted the demo bucket and everything in it")
    check(
        "demo" not in [b["id"] for b in client.get_buckets()],
        "the demo bucket is gone",
    )

    print()
    if problems:
        print(f"FAILED: {len(problems)} check(s) did not pass:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("All checks passed: the server holds exactly what the tour wrote.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
