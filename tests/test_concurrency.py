"""One Client shared by many threads, on a real Kinto server (memory or PostgreSQL).

Safe updates (``If-Match``) from 8 threads at once: every write either lands
or raises a 412, none is reported wrongly. Which writes landed is read back
from the server's history (the ``kinto.plugins.history`` entries, written in
the same transaction as the record). On PostgreSQL, Kinto answers 409 to a
transaction conflict, and the retry policy sends such a request again.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
from conftest import AUTH, read_all

from kinto_client import Client, KintoHTTPError

THREADS = 8
ROUNDS = 4
RECORDS = ("alpha", "beta")

ON_POSTGRESQL = os.environ.get("KINTO_TEST_BACKEND") == "postgresql"


def run_threads(target: Callable[[int], None], barrier: threading.Barrier | None = None) -> None:
    """Run ``target(i)`` in THREADS threads; re-raise the first error of any.

    A thread that fails breaks ``barrier``, so that the others stop waiting.
    """
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:
            errors.append(exc)
            if barrier is not None:
                barrier.abort()

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if errors:
        raise next(
            (e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0]
        )


def shared_client(client: Client, bucket: str, collection: str) -> Client:
    """One client for every thread; it retries 409 conflicts without waiting Kinto's 3 s."""
    return Client(
        server_url=client.server_url,
        auth=AUTH,
        bucket=bucket,
        collection=collection,
        retry=10,
        retry_after=0.05,
    )


def race_safe_updates(
    client: Client, bucket: str, collection: str
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """ROUNDS rounds in which 8 threads read the same version of each record,
    append their token to its ``writers`` list and write it back with If-Match.

    Returns the tokens whose write reported success, and those that raised 412.
    """
    for record_id in RECORDS:
        client.create_record({"writers": []}, id=record_id, bucket=bucket, collection=collection)
    shared = shared_client(client, bucket, collection)
    barrier = threading.Barrier(THREADS, timeout=60)
    landed: dict[str, list[str]] = {record_id: [] for record_id in RECORDS}
    refused: dict[str, list[str]] = {record_id: [] for record_id in RECORDS}
    lock = threading.Lock()

    def writer(i: int) -> None:
        for round_ in range(ROUNDS):
            for record_id in RECORDS:
                record = shared.get_record(record_id)["data"]
                token = f"t{i}-r{round_}"
                record["writers"] = [*record["writers"], token]
                barrier.wait()  # every thread has read the same version
                try:
                    shared.update_record(record, safe=True)
                    outcome = landed
                except KintoHTTPError as exc:
                    if exc.status_code != 412:
                        raise
                    outcome = refused
                with lock:
                    outcome[record_id].append(token)
                barrier.wait()  # every write of this round is answered

    try:
        run_threads(writer, barrier)
    finally:
        shared.session.close()
    return landed, refused


def test_safe_updates_from_8_threads_land_or_raise_412(
    client: Client, bucket: str, collection: str, raw: requests.Session
) -> None:
    """Every safe write either landed (it is in the server's history) or raised 412.

    A write reported as a success is never missing from the server, and a
    write that raised 412 never reached it: no write is lost silently.
    """
    landed, refused = race_safe_updates(client, bucket, collection)

    history_url = f"{client.server_url}/buckets/{bucket}/history"
    for record_id in RECORDS:
        entries = read_all(raw, f"{history_url}?record_id={record_id}&action=update")
        # Each update appended exactly one token: the last one is this write's.
        in_history = [entry["target"]["data"]["writers"][-1] for entry in entries]
        assert sorted(in_history) == sorted(landed[record_id]), record_id
        assert not set(in_history) & set(refused[record_id]), record_id
        assert len(landed[record_id]) + len(refused[record_id]) == THREADS * ROUNDS
        # At least one writer wins each round, and the stored record is the last write.
        assert len(landed[record_id]) >= ROUNDS, record_id
        latest = max(entries, key=lambda entry: entry["last_modified"])
        url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records/{record_id}"
        stored = raw.get(url, timeout=10).json()["data"]
        assert stored["writers"] == latest["target"]["data"]["writers"]


@pytest.mark.xfail(
    ON_POSTGRESQL,
    reason="Kinto 26 on PostgreSQL checks If-Match before its upsert under READ COMMITTED, "
    "without a row lock: writers that read the same version can all pass the check and "
    "overwrite each other (a server-side race, also seen with plain requests).",
    strict=False,
)
def test_if_match_lets_exactly_one_writer_win_each_round(
    client: Client, bucket: str, collection: str, raw: requests.Session
) -> None:
    """With If-Match, exactly one of the 8 writers of a version wins; the list
    stored on the server holds every write reported as a success."""
    landed, refused = race_safe_updates(client, bucket, collection)

    for record_id in RECORDS:
        url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records/{record_id}"
        stored = raw.get(url, timeout=10).json()["data"]["writers"]
        assert sorted(stored) == sorted(landed[record_id]), record_id
        assert [token.split("-")[1] for token in stored] == [f"r{n}" for n in range(ROUNDS)]
        assert len(refused[record_id]) == (THREADS - 1) * ROUNDS


def test_concurrent_creates_are_retried_through_409_conflicts(
    client: Client, bucket: str, collection: str, raw: requests.Session, caplog: Any
) -> None:
    """8 threads create records in one collection at the same instant.

    On PostgreSQL, Kinto's unique timestamp per collection makes some of
    these transactions fail with ``409 Integrity constraint violated, please
    retry``; the policy retries them, and every record is stored exactly once.
    """
    shared = shared_client(client, bucket, collection)
    barrier = threading.Barrier(THREADS, timeout=60)
    created: list[str] = []
    lock = threading.Lock()
    rounds = 10

    def creator(i: int) -> None:
        for round_ in range(rounds):
            record_id = str(uuid.uuid4())
            barrier.wait()
            shared.create_record({"thread": i, "round": round_}, id=record_id)
            with lock:
                created.append(record_id)

    caplog.set_level(logging.INFO, logger="kinto_client")
    try:
        run_threads(creator, barrier)
    finally:
        shared.session.close()

    records_url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records"
    stored = read_all(raw, records_url)
    assert len(created) == THREADS * rounds
    assert sorted(r["id"] for r in stored) == sorted(created)
    assert Counter((r["thread"], r["round"]) for r in stored) == Counter(
        (i, n) for i in range(THREADS) for n in range(rounds)
    )
    conflicts = [
        r for r in caplog.records if r.levelno == logging.INFO and " 409" in r.getMessage()
    ]
    if ON_POSTGRESQL:
        assert conflicts, "no 409 conflict was provoked (and retried) on PostgreSQL"


def test_concurrent_first_reads_of_empty_collections(client: Client, bucket: str) -> None:
    """8 threads list fresh, empty collections at the same instant.

    On PostgreSQL, Kinto 26 creates an empty collection's timestamp on first
    read, and concurrent first reads race there: some answer ``500`` (its
    ``resource_timestamp`` returns None). The retry policy sends those GETs
    again, so every thread reads the (empty) list.
    """
    collections = [f"c{n}" for n in range(5)]
    for name in collections:
        client.create_collection(name, bucket=bucket)
    shared = shared_client(client, bucket, collections[0])
    barrier = threading.Barrier(THREADS, timeout=60)
    reads: Counter[str] = Counter()
    lock = threading.Lock()

    def reader(i: int) -> None:
        for name in collections:
            barrier.wait()
            records = shared.get_records(collection=name)
            assert list(records) == [], (name, records)
            with lock:
                reads[name] += 1

    try:
        run_threads(reader, barrier)
    finally:
        shared.session.close()
    assert reads == {name: THREADS for name in collections}
