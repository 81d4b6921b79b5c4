"""One benchmark run in a fresh process; prints its measurements as JSON.

``python scenarios.py IMPL KIND CONFIG_JSON``

- IMPL: ``floor`` (a raw ``requests.Session`` making the minimum equivalent
  calls), ``kinto_client`` (this project) or ``kinto_http`` (kinto-http.py,
  run from its own virtualenv).
- KIND: ``get_record``, ``gather_get_record`` (the same reads issued at once
  through an async client and ``asyncio.gather``; the floor makes them
  sequentially), ``batch``, ``get_records`` or ``iter_records`` (or
  ``page_worth``: the bytes one page of the collection holds in memory).
- CONFIG_JSON: ``{"url", "bucket", "collection", "size", "chunk", "trace"}``.

Only what the scenario itself does is timed: imports and the input data are
prepared before, and the client (or session) is created inside the timing.
This file imports neither kinto_client nor kinto_http at module level, so
each implementation runs in its own interpreter and virtualenv.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

AUTH = ("bench", "bench-password")


def record_id(i: int) -> str:
    return f"r{i:06d}"


def make_record(i: int) -> dict[str, Any]:
    """The records every scenario reads and writes (about 150 bytes of JSON)."""
    return {
        "id": record_id(i),
        "title": f"Record number {i}",
        "n": i,
        "done": i % 2 == 0,
        "tags": ["bench", f"t{i % 10}"],
    }


def records_url(cfg: dict[str, Any]) -> str:
    return f"{cfg['url']}/buckets/{cfg['bucket']}/collections/{cfg['collection']}/records"


# -- the floor: raw requests, the minimum equivalent calls ----------------------------


def _floor_session() -> Any:
    import requests

    http = requests.Session()
    http.auth = AUTH
    return http


def floor_get_record(cfg: dict[str, Any], _: Any) -> int:
    http = _floor_session()
    base = records_url(cfg)
    for i in range(cfg["size"]):
        response = http.get(f"{base}/{record_id(i)}")
        response.raise_for_status()
        response.json()
    return int(cfg["size"])


def floor_gather_get_record(cfg: dict[str, Any], records: Any) -> int:
    """The floor of the concurrent reads: the same reads, one after the other."""
    return floor_get_record(cfg, records)


def floor_batch(cfg: dict[str, Any], records: list[dict[str, Any]]) -> int:
    http = _floor_session()
    prefix = f"/buckets/{cfg['bucket']}/collections/{cfg['collection']}/records/"
    chunk = cfg["chunk"]
    results: list[Any] = []  # one response body per record, as batch.results() gives
    for start in range(0, len(records), chunk):
        subs = [
            {
                "method": "PUT",
                "path": prefix + r["id"],
                "body": {"data": r},
                "headers": {"If-None-Match": "*"},
            }
            for r in records[start : start + chunk]
        ]
        response = http.post(cfg["url"] + "/batch", json={"requests": subs})
        response.raise_for_status()
        for sub in response.json()["responses"]:
            if sub["status"] >= 400:
                raise RuntimeError(f"batch sub-request failed: {sub}")
            results.append(sub["body"])
    return len(results)


def _floor_pages(cfg: dict[str, Any], on_page: Callable[[list[Any]], None]) -> None:
    http = _floor_session()
    url: str | None = records_url(cfg)
    while url:
        response = http.get(url)
        response.raise_for_status()
        on_page(response.json()["data"])
        url = response.headers.get("Next-Page")


def floor_get_records(cfg: dict[str, Any], _: Any) -> int:
    records: list[Any] = []
    _floor_pages(cfg, records.extend)
    return len(records)


def floor_iter_records(cfg: dict[str, Any], _: Any) -> int:
    seen = 0

    def count(page: list[Any]) -> None:
        nonlocal seen
        for _record in page:
            seen += 1

    _floor_pages(cfg, count)
    return seen


# -- kinto_client (this project) ---------------------------------------------------------


def _client(cfg: dict[str, Any]) -> Any:
    from kinto_client import Client

    return Client(
        server_url=cfg["url"], auth=AUTH, bucket=cfg["bucket"], collection=cfg["collection"]
    )


def kinto_client_get_record(cfg: dict[str, Any], _: Any) -> int:
    client = _client(cfg)
    for i in range(cfg["size"]):
        client.get_record(record_id(i))
    return int(cfg["size"])


def kinto_client_gather_get_record(cfg: dict[str, Any], _: Any) -> int:
    import asyncio

    from kinto_client import AsyncClient

    async def main() -> int:
        async with AsyncClient(
            server_url=cfg["url"], auth=AUTH, bucket=cfg["bucket"], collection=cfg["collection"]
        ) as client:
            found = await asyncio.gather(
                *(client.get_record(record_id(i)) for i in range(cfg["size"]))
            )
        return len(found)

    return asyncio.run(main())


def kinto_client_batch(cfg: dict[str, Any], records: list[dict[str, Any]]) -> int:
    client = _client(cfg)
    with client.batch() as batch:
        for r in records:
            batch.create_record(data=r)
    return len(batch.results())


def kinto_client_get_records(cfg: dict[str, Any], _: Any) -> int:
    return len(_client(cfg).get_records())


def kinto_client_iter_records(cfg: dict[str, Any], _: Any) -> int:
    seen = 0
    for _record in _client(cfg).iter_records():
        seen += 1
    return seen


# -- kinto-http.py (the peer) ------------------------------------------------------------


def _peer(cfg: dict[str, Any]) -> Any:
    import kinto_http

    return kinto_http.Client(
        server_url=cfg["url"], auth=AUTH, bucket=cfg["bucket"], collection=cfg["collection"]
    )


def kinto_http_get_record(cfg: dict[str, Any], _: Any) -> int:
    client = _peer(cfg)
    for i in range(cfg["size"]):
        client.get_record(id=record_id(i))
    return int(cfg["size"])


def kinto_http_gather_get_record(cfg: dict[str, Any], _: Any) -> int:
    import asyncio

    import kinto_http

    async def main() -> int:
        client = kinto_http.AsyncClient(
            server_url=cfg["url"], auth=AUTH, bucket=cfg["bucket"], collection=cfg["collection"]
        )
        found = await asyncio.gather(
            *(client.get_record(id=record_id(i)) for i in range(cfg["size"]))
        )
        return len(found)

    return asyncio.run(main())


def kinto_http_batch(cfg: dict[str, Any], records: list[dict[str, Any]]) -> int:
    client = _peer(cfg)
    with client.batch() as batch:
        for r in records:
            batch.create_record(data=r, id=r["id"])
    return len(batch.results())


def kinto_http_get_records(cfg: dict[str, Any], _: Any) -> int:
    return len(_peer(cfg).get_records())


def kinto_http_iter_records(cfg: dict[str, Any], _: Any) -> int:
    seen = 0
    for page in _peer(cfg).get_paginated_records():
        for _record in page["data"]:
            seen += 1
    return seen


def page_worth(cfg: dict[str, Any]) -> int:
    """Peak bytes of reading one page: its response, its text and its decoded records."""
    http = _floor_session()
    tracemalloc.start()
    response = http.get(records_url(cfg))
    data = response.json()["data"]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del data, response
    return peak


def run(impl: str, kind: str, cfg: dict[str, Any]) -> dict[str, Any]:
    scenario = globals()[f"{impl}_{kind}"]
    if impl == "kinto_client":
        import kinto_client  # noqa: F401  (imports are not timed)
    elif impl == "kinto_http":
        import kinto_http  # noqa: F401
    import asyncio  # noqa: F401

    import requests  # noqa: F401

    records = [make_record(i) for i in range(cfg["size"])] if kind == "batch" else None
    # Every run starts from a collected heap. Otherwise the garbage collector's
    # counters are left wherever the imports put them, and whether a full
    # collection (about a third of the floor's CPU in a batch) lands inside
    # the timed scenario depends on how many objects each library's import
    # happened to make, not on what the scenario does. The collector stays
    # on: what the scenario's own objects cost it is counted.
    gc.collect()
    result: dict[str, Any] = {"error": None}
    rss_base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if cfg.get("trace"):
        tracemalloc.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        result["count"] = scenario(cfg, records)
    except Exception as exc:  # reported, e.g. kinto-http's RecursionError
        result["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        result["count"] = None
    result["wall"] = time.perf_counter() - wall0
    result["cpu"] = time.process_time() - cpu0
    if cfg.get("trace"):
        result["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["rss_peak"] = rss_peak * 1024
    result["rss_growth"] = (rss_peak - rss_base) * 1024
    return result


def main() -> int:
    impl, kind, config = sys.argv[1:4]
    sys.setrecursionlimit(1000)  # the interpreter default, whatever the environment
    if kind == "page_worth":
        print(json.dumps({"page_bytes": page_worth(json.loads(config))}))
    else:
        print(json.dumps(run(impl, kind, json.loads(config))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
