"""AsyncClient: Client's methods as coroutines, run in a bounded thread pool.

The parity tests need no server; the others run against the real Kinto
server (through the counting proxy where requests or connections are
counted). Each test runs its own event loop (``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import requests
from conftest import AUTH, read_all
from requests.auth import AuthBase, HTTPBasicAuth

import kinto_client
from kinto_client import (
    AsyncClient,
    BucketNotFound,
    Client,
    KintoBatchException,
    KintoException,
    KintoHTTPError,
    MissingId,
    Retry,
)
from kinto_client.aio import DEFAULT_MAX_WORKERS, _next_page

ROOT = Path(__file__).resolve().parent.parent
#: On PostgreSQL, Kinto answers concurrent writes with 409 ("please retry"):
#: a client making concurrent calls should retry them.
RETRY = Retry(total=5, backoff_factor=0.02)

# -- parity with Client (no server) ----------------------------------------------------

#: Public names of Client that AsyncClient deliberately does not turn into
#: coroutines, and why. Everything else must be a coroutine method with
#: Client's exact signature.
NOT_COROUTINES = {
    "batch": "an async context manager: 'async with client.batch() as batch:'",
    "iter_records": "an async iterator: 'async for record in client.iter_records():'",
    "get_paginated_records": "an async iterator of pages: 'async for page in ...'",
    "clone": "makes a client, no I/O: returns an AsyncClient at once",
    "results": "reads what the batch already received, no I/O",
    "failures": "reads what the batch already received, no I/O",
    "get_endpoint": "builds a path, no I/O",
}
#: Properties of Client that do no I/O: plain properties on AsyncClient too.
PLAIN_PROPERTIES = {"bucket_name", "collection_name", "server_url", "session"}
#: Properties of Client that may do I/O (read the server once): awaited on AsyncClient.
AWAITABLE_PROPERTIES = {"capabilities", "batch_max_requests"}


def public_names(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def how_to_add(name: str) -> str:
    if isinstance(inspect.getattr_static(Client, name), property):
        if name in PLAIN_PROPERTIES:
            return f"a property '{name}' returning self._client.{name}"
        return f"{name} = _awaitable_property(Client.{name})"
    return f"{name} = _coroutine(_CLIENT.{name})"


def test_same_public_methods_as_client():
    missing = sorted(public_names(Client) - public_names(AsyncClient))
    assert not missing, (
        "AsyncClient lacks these public names of Client: "
        + ", ".join(missing)
        + ". Add one line each to the class body of kinto_client/aio.py:\n    "
        + "\n    ".join(how_to_add(name) for name in missing)
        + "\n(and list it in NOT_COROUTINES / PLAIN_PROPERTIES / AWAITABLE_PROPERTIES of "
        "this test if it is not a plain coroutine)"
    )
    # 'close' and 'closed' may predate Client's own close().
    extra = public_names(AsyncClient) - public_names(Client) - {"close", "closed"}
    assert not extra, f"AsyncClient has public names that Client lacks: {sorted(extra)}"


def test_same_signatures_as_client():
    different = []
    for name in sorted(public_names(Client) & public_names(AsyncClient)):
        mine, theirs = getattr(AsyncClient, name), getattr(Client, name)
        if isinstance(inspect.getattr_static(Client, name), property):
            continue
        if inspect.signature(mine).parameters != inspect.signature(theirs).parameters:
            different.append(f"{name}{inspect.signature(mine)} != {inspect.signature(theirs)}")
    assert not different, "\n".join(different)


def test_every_method_is_a_coroutine_but_the_listed_ones():
    for name in sorted(public_names(Client) & public_names(AsyncClient)):
        static = inspect.getattr_static(AsyncClient, name)
        if isinstance(inspect.getattr_static(Client, name), property):
            if name in PLAIN_PROPERTIES:
                assert isinstance(static, property), name
            else:
                assert name in AWAITABLE_PROPERTIES, f"decide how to expose the property {name}"
                assert not isinstance(static, property), name
            continue
        method = getattr(AsyncClient, name)
        if name in ("iter_records", "get_paginated_records"):
            assert inspect.isasyncgenfunction(method)
        elif name in NOT_COROUTINES:
            assert not inspect.iscoroutinefunction(method), name
        else:
            assert inspect.iscoroutinefunction(method), f"{name} is not a coroutine function"
            if hasattr(method, "__wrapped__"):  # made by _coroutine (close() has its own text)
                assert method.__doc__ == getattr(Client, name).__doc__, name


def test_signature_of_a_bound_method_has_no_self():
    client = AsyncClient(server_url="http://127.0.0.1:9/v1")
    assert str(inspect.signature(client.get_record)) == str(
        inspect.signature(Client(server_url="http://127.0.0.1:9/v1").get_record)
    )


def test_constructor_takes_clients_arguments_and_max_workers():
    client_params = dict(inspect.signature(Client).parameters)
    mine = dict(inspect.signature(AsyncClient).parameters)
    assert mine.pop("max_workers").default == DEFAULT_MAX_WORKERS == 10
    assert [(p.name, p.kind, p.default) for p in mine.values()] == [
        (p.name, p.kind, p.default) for p in client_params.values()
    ]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4", None])
def test_max_workers_is_checked(bad):
    with pytest.raises(ValueError, match="max_workers must be a positive int"):
        AsyncClient(server_url="http://127.0.0.1:9/v1", max_workers=bad)


def test_mypy_sees_awaitables_with_precise_types(tmp_path):
    snippet = tmp_path / "uses_async_client.py"
    snippet.write_text(
        textwrap.dedent(
            """\
            from collections.abc import AsyncIterator, Coroutine
            from typing import Any

            from typing_extensions import assert_type

            from kinto_client import AsyncClient, RecordList
            from kinto_client.types import KintoData, ObjectResponse


            async def main() -> None:
                async with AsyncClient(server_url="http://localhost:8888/v1") as client:
                    pending = client.count_records()
                    _ = assert_type(pending, Coroutine[Any, Any, int])
                    await pending
                    assert_type(await client.count_records(), int)
                    assert_type(await client.purge_history(), list[dict[str, Any]])
                    assert_type(await client.capabilities, dict[str, Any])
                    assert_type(client.iter_records(_limit=2), AsyncIterator[KintoData])
                    records = client.get_records()
                    _ = assert_type(records, Coroutine[Any, Any, RecordList])
                    assert_type(await records, RecordList)
                    assert_type(await client.get_record("id"), ObjectResponse)
                    async with client.batch() as batch:
                        assert_type(batch, AsyncClient)
                    assert_type(client.clone(collection="c"), AsyncClient)
                    await client.get_record("id", collection="c", bucket="b")
                    # misspelled: an error (get_record takes **options: its typos raise
                    # at run time, before sending; see test_kinto_http_parity)
                    await client.delete_record("id", colection="c")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(snippet)],
        capture_output=True,
        text=True,
        cwd=ROOT,  # its .mypy_cache
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, done.stdout + done.stderr
    assert 'Unexpected keyword argument "colection"' in errors[0]


# -- against the server ------------------------------------------------------------------


def test_create_read_update_delete(server_url, flush, raw, bucket, collection):
    async def main() -> None:
        async with AsyncClient(server_url=server_url, auth=AUTH, bucket=bucket) as client:
            created = await client.create_record({"title": "one"}, id="r1", collection=collection)
            assert created["data"]["title"] == "one"
            got = await client.get_record("r1", collection=collection)
            assert got["data"] == created["data"]
            await client.update_record({"title": "two"}, id="r1", collection=collection)
            await client.patch_record({"done": True}, id="r1", collection=collection)
            url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
            stored = raw.get(f"{url}/r1").json()["data"]
            assert (stored["title"], stored["done"]) == ("two", True)
            assert await client.count_records(collection=collection) == 1
            deleted = await client.delete_record("r1", collection=collection)
            assert deleted["deleted"] is True
            assert read_all(raw, url) == []
            assert client.bucket_name == bucket
            assert client.collection_name is None
            assert client.server_url == server_url
            assert "history" in await client.capabilities

    asyncio.run(main())


def test_concurrent_calls_with_gather(server_url, flush, raw, bucket, collection):
    async def main() -> None:
        async with AsyncClient(
            server_url=server_url, auth=AUTH, bucket=bucket, collection=collection, retry=RETRY
        ) as client:
            ids = [f"r{i:02d}" for i in range(30)]
            await asyncio.gather(*(client.create_record({"n": i}, id=ids[i]) for i in range(30)))
            records = await asyncio.gather(*(client.get_record(i) for i in ids))
            assert [r["data"]["n"] for r in records] == list(range(30))

    asyncio.run(main())
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    assert len(read_all(raw, url)) == 30


def test_a_burst_reuses_connections_bounded_by_the_workers(proxy, bucket, collection):
    async def main() -> None:
        client = AsyncClient(
            server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection, max_workers=4
        )
        await client.create_record({"title": "x"}, id="r")
        for _ in range(2):  # a second burst reuses the first one's connections
            await asyncio.gather(*(client.get_record("r") for _ in range(40)))
        await client.close()

    asyncio.run(main())
    assert proxy.count("GET", "/records/r") == 80
    assert 1 <= proxy.connections <= 4
    # close() closed them all (the workers' pooled connections included).
    assert proxy.wait_for_open_connections(0) == 0


def test_batch(server_url, flush, raw, bucket, collection):
    async def main() -> AsyncClient:
        async with AsyncClient(
            server_url=server_url, auth=AUTH, bucket=bucket, collection=collection
        ) as client:
            async with client.batch() as batch:
                assert isinstance(batch, AsyncClient)
                # Queued in call order, even when issued through gather.
                await asyncio.gather(
                    *(batch.create_record({"n": i}, id=f"r{i}") for i in range(30))
                )
                await batch.delete_record("absent", if_exists=True)
                assert await client.count_records() == 0  # nothing sent yet
            return batch

    batch = asyncio.run(main())
    results = batch.results()
    assert [r["data"]["id"] for r in results[:30]] == [f"r{i}" for i in range(30)]
    assert results[30] is None
    assert batch.failures() == []
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    assert sorted(r["n"] for r in read_all(raw, url)) == list(range(30))


def test_batch_failures_and_errors(server_url, flush, raw, bucket, collection):
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"

    async def main() -> AsyncClient:
        async with AsyncClient(
            server_url=server_url, auth=AUTH, bucket=bucket, collection=collection
        ) as client:
            await client.create_record({"n": 0}, id="taken")
            with pytest.raises(KintoBatchException):
                async with client.batch() as batch:
                    await batch.create_record({"n": 1}, id="taken")  # 412: exists
            async with client.batch(ignore_4xx=True) as batch:
                await batch.create_record({"n": 1}, id="taken")
                await batch.create_record({"n": 2}, id="new")
            with pytest.raises(ZeroDivisionError):
                async with client.batch() as unsent:
                    await unsent.create_record({"n": 3}, id="never")
                    raise ZeroDivisionError
            with pytest.raises(KintoException, match="not possible inside a batch"):
                async with client.batch() as inside:
                    async for _ in inside.iter_records():
                        pass
            return batch

    batch = asyncio.run(main())
    assert [f["status"] for f in batch.failures()] == [412]
    assert sorted(r["id"] for r in read_all(raw, url)) == ["new", "taken"]


async def create_25_records(client: AsyncClient) -> None:
    async with client.batch() as batch:
        for i in range(25):
            await batch.create_record({"n": i}, id=f"r{i:02d}")


def test_iter_records_reads_one_page_at_a_time(proxy, bucket, collection):
    async def main() -> None:
        async with AsyncClient(
            server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection
        ) as client:
            await create_25_records(client)
            proxy.reset()
            seen = []
            requests_when_read = []
            async for record in client.iter_records(_limit=10, _sort="n"):
                seen.append(record["n"])
                requests_when_read.append(proxy.count("GET", "/records"))
            assert seen == list(range(25))
            # Page 2 is requested only once page 1 (10 records) was consumed.
            assert requests_when_read == [1] * 10 + [2] * 10 + [3] * 5
            proxy.reset()
            async for _ in client.iter_records(_limit=10):
                break  # stopping early requests nothing more
            assert proxy.count("GET", "/records") == 1
            # Without _limit, the server's page size (paginate_by = 10).
            assert len([r async for r in client.iter_records(pages=2)]) == 20

    asyncio.run(main())


def test_get_paginated_records_gives_pages_one_at_a_time(proxy, bucket, collection):
    async def main() -> None:
        async with AsyncClient(
            server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection
        ) as client:
            await create_25_records(client)
            proxy.reset()
            sizes, requests_when_read = [], []
            async for page in client.get_paginated_records(_limit=10, _sort="n"):
                sizes.append(len(page["data"]))
                requests_when_read.append(proxy.count("GET", "/records"))
            assert sizes == [10, 10, 5]
            assert requests_when_read == [1, 2, 3]

    asyncio.run(main())


def test_a_worker_takes_one_whole_page_per_hop(client, bucket, collection):
    """The pages the pool hands over are whole pages (not one record per thread hop)."""
    for i in range(25):
        client.create_record({"n": i}, id=f"r{i:02d}", bucket=bucket, collection=collection)
    records = client.iter_records(bucket=bucket, collection=collection, _limit=10, _sort="n")
    pages = []
    while (page := _next_page(records)) is not None:
        pages.append([r["n"] for r in page])
    assert pages == [list(range(10)), list(range(10, 20)), list(range(20, 25))]


def test_errors_are_the_clients_own(server_url, flush, bucket, collection):
    sync = Client(server_url=server_url, auth=AUTH, bucket=bucket, collection=collection)

    async def main() -> None:
        async with AsyncClient(
            server_url=server_url, auth=AUTH, bucket=bucket, collection=collection
        ) as client:
            with pytest.raises(KintoHTTPError) as async_error:
                await client.get_record("missing")
            with pytest.raises(KintoHTTPError) as sync_error:
                sync.get_record("missing")
            assert async_error.value.status_code == sync_error.value.status_code == 404
            assert str(async_error.value) == str(sync_error.value)
            with pytest.raises(BucketNotFound):
                await client.get_bucket("no-such-bucket")
            with pytest.raises(MissingId):
                await client.update_record({"title": "no id"})
            with pytest.raises(ValueError, match="patch_type"):
                await client.patch_record({"a": 1}, id="r", patch_type="nope")
            with pytest.raises(TypeError):
                await client.get_record()  # type: ignore[call-arg]

    asyncio.run(main())
    sync.session.close()


def test_close_stops_the_pool_and_refuses_calls(server_url, flush):
    client = AsyncClient(server_url=server_url, auth=AUTH, max_workers=3)

    async def main() -> None:
        clone = client.clone(bucket="other")
        await asyncio.gather(*(client.server_info() for _ in range(6)))
        assert not client.closed
        await client.close()
        await client.close()  # twice is harmless
        assert client.closed and clone.closed
        with pytest.raises(KintoException, match=r"AsyncClient .* is closed"):
            await client.server_info()
        with pytest.raises(KintoException, match="is closed"):
            await clone.get_records()
        with pytest.raises(KintoException, match="is closed"):
            async for _ in client.iter_records():
                pass
        with pytest.raises(KintoException, match="is closed"):
            async with client.batch():
                pass
        with pytest.raises(KintoException, match="is closed"):
            async with client:
                pass

    asyncio.run(main())
    assert not any(t.name.startswith("kinto_client-async") for t in threading.enumerate())


def test_async_with_closes(server_url, flush):
    async def main() -> AsyncClient:
        async with AsyncClient(server_url=server_url, auth=AUTH) as client:
            assert (await client.server_info())["project_name"] == "kinto"
        return client

    assert asyncio.run(main()).closed


def test_clone_shares_the_pool_and_closes_alone(server_url, flush, raw, bucket, collection):
    async def main() -> None:
        async with AsyncClient(server_url=server_url, auth=AUTH, max_workers=2) as client:
            clone = client.clone(bucket=bucket, collection=collection)
            assert isinstance(clone, AsyncClient)
            assert (clone.bucket_name, clone.collection_name) == (bucket, collection)
            assert client.bucket_name == "default"
            assert clone._pool is client._pool
            await clone.create_record({"title": "cloned"}, id="c1")
            other_user = clone.clone(auth=("someone", "else"))  # a session of its own
            assert (await other_user.server_info())["user"]["id"].startswith("basicauth:")
            await other_user.close()
            await clone.close()
            assert clone.closed and not client.closed
            assert (await client.get_record("c1", bucket=bucket, collection=collection))["data"]

    asyncio.run(main())
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    assert [r["title"] for r in read_all(raw, url)] == ["cloned"]


class GateAuth(AuthBase):
    """Basic auth that holds a worker (in the request's preparation) until opened."""

    def __init__(self) -> None:
        self.basic = HTTPBasicAuth(*AUTH)
        #: The threads that sent requests.
        self.threads: list[str] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def close_gate(self) -> None:
        self.entered.clear()
        self.gate.clear()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        assert self.gate.wait(timeout=30), "the test never opened the gate"
        return self.basic(r)


def test_batch_calls_queue_without_waiting_for_the_pool(server_url, flush, bucket, collection):
    """With the only worker busy, calls on a batch client still queue (inline, in order)."""
    auth = GateAuth()

    async def main() -> AsyncClient:
        client = AsyncClient(
            server_url=server_url, auth=auth, bucket=bucket, collection=collection, max_workers=1
        )
        async with client.batch() as batch:
            auth.close_gate()
            busy = asyncio.create_task(client.get_records())
            await asyncio.to_thread(auth.entered.wait, 30)  # the only worker is now held
            queued = (batch.create_record({"n": i}, id=f"r{i}") for i in range(5))
            await asyncio.wait_for(asyncio.gather(*queued), timeout=30)
            auth.gate.set()
            assert await busy == []
            auth.threads.clear()
            # What needs an answer at once is refused by the batch, before any I/O.
            with pytest.raises(KintoException, match="needs the server's answer at once"):
                await batch.heartbeat()
            assert (await client.heartbeat())["storage"] is True  # in the pool
        await client.close()
        return batch

    main_thread = threading.current_thread().name
    batch = asyncio.run(main())
    assert [r["data"]["id"] for r in batch.results()] == [f"r{i}" for i in range(5)]
    assert auth.threads and all(t.startswith("kinto_client-async") for t in auth.threads)
    assert main_thread not in auth.threads


def test_cancelling_a_pending_call_leaves_the_client_working(
    server_url, flush, raw, bucket, collection
):
    auth = GateAuth()
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"

    async def main() -> None:
        client = AsyncClient(
            server_url=server_url, auth=auth, bucket=bucket, collection=collection, max_workers=1
        )
        await client.server_info()  # the worker thread exists, the settings are cached
        auth.close_gate()
        running = asyncio.create_task(client.create_record({"n": 1}, id="running"))
        await asyncio.to_thread(auth.entered.wait, 30)  # the only worker is now held
        queued = asyncio.create_task(client.create_record({"n": 2}, id="queued"))
        await asyncio.sleep(0)  # let it reach the pool's queue
        queued.cancel()
        running.cancel()  # already in a worker: stops being awaited, but completes
        with pytest.raises(asyncio.CancelledError):
            await queued
        with pytest.raises(asyncio.CancelledError):
            await running
        auth.gate.set()
        # The client still works: the worker finishes the running call, then this one.
        created = await client.create_record({"n": 3}, id="after")
        assert created["data"]["n"] == 3
        await client.close()

    asyncio.run(main())
    # The queued call never reached the server; the running one did.
    assert sorted(r["id"] for r in read_all(raw, url)) == ["after", "running"]


def test_package_exports_async_client():
    assert kinto_client.AsyncClient is AsyncClient
    assert "AsyncClient" in kinto_client.__all__
    assert repr(AsyncClient(server_url="http://127.0.0.1:9/v1", collection="c")).startswith(
        "<AsyncKintoClient http://127.0.0.1:9/v1/buckets/default/collections/c"
    )
