"""The benchmark: kinto_client against the floor (raw requests), and kinto-http.py.

``python tests/bench/run.py [--quick] [--peer PYTHON] [--reps N] [--write-docs]``

Starts its own Kinto servers (memory backends, ``kinto-bench.ini``), each
behind a counting relay (``relay.py``), loads the data through ``/batch``,
then runs every scenario for every implementation in a fresh subprocess
(``scenarios.py``), interleaved and repeated. It reports medians of wall
time, client CPU, server CPU, peak RSS growth, connections and requests, and
each ratio to the floor (median of the per-repetition ratios, so drifting
load on the machine hits both sides of a ratio alike). ``--write-docs``
writes ``docs/performance.rst`` and ``docs/_static/performance.svg``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from kinto_server import KintoServer  # noqa: E402
from relay import CountingRelay  # noqa: E402
from scenarios import AUTH, make_record  # noqa: E402

INI = HERE / "kinto-bench.ini"
SCENARIOS_PY = HERE / "scenarios.py"
RESULTS = ROOT / "build" / "bench"
DOC = ROOT / "docs" / "performance.rst"
CHART = ROOT / "docs" / "_static" / "performance.svg"
BUCKET = "bench"
LABELS = {
    "floor": "floor (requests)",
    "kinto_client": "kinto_client",
    "kinto_http": "kinto-http.py",
}


@dataclass
class Scenario:
    name: str
    title: str
    kind: str
    server: str  # a key of server_settings()
    size: int
    collection: str = ""
    cpu_target: float | None = None
    trace: bool = False
    #: kinto_client's wall time, as a multiple of the floor's.
    wall_target: float = 1.05
    #: The most TCP connections kinto_client may open.
    max_connections: int = 1


#: The thread pool of the gather scenario's AsyncClient (its default max_workers).
ASYNC_WORKERS = 10


def server_settings(scale: int) -> dict[str, tuple[int, int]]:
    """Each server's ``(paginate_by, batch_max_requests)``.

    The streamed read gets pages of 10,000 (a tenth of the collection): the
    memory backend scans the whole collection for every page, so pages of
    1,000 would make the server, not the client, take minutes.
    """
    return {"main": (1000, 1000), "small": (2, 25), "large": (10000 // scale, 1000)}


def scenarios(scale: int) -> list[Scenario]:
    n_get, n_batch, n_pages, n_small, n_stream = (
        500 // scale,
        5000 // scale,
        20000 // scale,
        3000 // scale,
        100000 // scale,
    )
    return [
        Scenario(
            "get_record", f"{n_get:,} sequential get_record", "get_record", "main", n_get,
            "pages", 1.15,
        ),
        Scenario(
            "gather", f"{n_get:,} get_record at once: AsyncClient and asyncio.gather "
            "(floor: sequential)", "gather_get_record", "main", n_get, "pages",
            wall_target=1.0, max_connections=ASYNC_WORKERS,
        ),
        Scenario(
            "batch25", f"{n_batch:,} records through batch(), 25 per request", "batch",
            "small", n_batch, cpu_target=1.3,
        ),
        Scenario(
            "batch1000", f"{n_batch:,} records through batch(), 1,000 per request", "batch",
            "main", n_batch, cpu_target=1.3,
        ),
        Scenario(
            "pages1000", f"get_records of {n_pages:,} records, pages of 1,000", "get_records",
            "main", n_pages, "pages", 1.3,
        ),
        Scenario(
            "pages2", f"get_records of {n_small:,} records, pages of 2 ({n_small // 2:,} pages)",
            "get_records", "small", n_small, "pages2", 1.3,
        ),
        Scenario(
            "stream", f"iter_records of {n_stream:,} records, pages of {n_stream // 10:,} "
            "(streamed)", "iter_records", "large", n_stream, "stream", trace=True,
        ),
        Scenario(
            "held", f"get_records of the same {n_stream:,} records (held in memory)",
            "get_records", "large", n_stream, "stream", trace=True,
        ),
    ]  # fmt: skip


# -- servers and data -------------------------------------------------------------------


class Server:
    """A Kinto server of ours, with a counting relay in front of it."""

    def __init__(self, paginate_by: int, batch_max_requests: int, workdir: Path) -> None:
        text = INI.read_text()
        text = re.sub(r"(?m)^kinto\.paginate_by = .*$", f"kinto.paginate_by = {paginate_by}", text)
        text = re.sub(
            r"(?m)^kinto\.batch_max_requests = .*$",
            f"kinto.batch_max_requests = {batch_max_requests}",
            text,
        )
        ini = workdir / f"kinto-bench-{paginate_by}-{batch_max_requests}.ini"
        ini.write_text(text)
        self.batch_max_requests = batch_max_requests
        self.kinto = KintoServer(ini).start(timeout=120)
        self.relay = CountingRelay(self.kinto.port).start()
        self.direct = self.kinto.url
        self.url = f"http://127.0.0.1:{self.relay.port}/v1"
        self.http = requests.Session()
        self.http.auth = AUTH
        self.http.put(f"{self.direct}/buckets/{BUCKET}").raise_for_status()

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (from /proc)."""
        assert self.kinto.process is not None
        fields = Path(f"/proc/{self.kinto.process.pid}/stat").read_text().rsplit(")", 1)[1]
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def create_collection(self, name: str) -> None:
        url = f"{self.direct}/buckets/{BUCKET}/collections/{name}"
        self.http.put(url).raise_for_status()

    def delete_collection(self, name: str) -> None:
        url = f"{self.direct}/buckets/{BUCKET}/collections/{name}"
        self.http.delete(url).raise_for_status()

    def load(self, collection: str, count: int) -> None:
        """Create ``collection`` with ``count`` records, through /batch."""
        self.create_collection(collection)
        prefix = f"/buckets/{BUCKET}/collections/{collection}/records/"
        chunk = self.batch_max_requests
        for start in range(0, count, chunk):
            subs = [
                {"method": "PUT", "path": prefix + record["id"], "body": {"data": record}}
                for record in map(make_record, range(start, min(start + chunk, count)))
            ]
            response = self.http.post(f"{self.direct}/batch", json={"requests": subs})
            response.raise_for_status()
            bad = [r["status"] for r in response.json()["responses"] if r["status"] >= 400]
            if bad:
                raise RuntimeError(f"loading {collection} failed: {bad[:5]}")

    def load_all(self, collections: dict[str, int]) -> None:
        for collection, count in collections.items():
            print(f"loading {count:,} records into {collection} ...", flush=True)
            self.load(collection, count)

    def stop(self) -> None:
        self.relay.close()
        self.kinto.stop()


# -- running ------------------------------------------------------------------------------


def run_once(
    scenario: Scenario, impl: str, server: Server, python: str, run_id: int
) -> dict[str, Any]:
    collection = scenario.collection
    if scenario.kind == "batch":
        collection = f"w{run_id}"
        server.create_collection(collection)
    config = {
        "url": server.url,
        "bucket": BUCKET,
        "collection": collection,
        "size": scenario.size,
        "chunk": server.batch_max_requests,
        "trace": scenario.trace,
    }
    server.relay.reset()
    cpu_before = server.cpu_seconds()
    done = subprocess.run(
        [python, str(SCENARIOS_PY), impl, scenario.kind, json.dumps(config)],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # import kinto_client as installed, not from the tree
    )
    server_cpu = server.cpu_seconds() - cpu_before
    time.sleep(0.05)  # let the relay see the connections close
    connections, requests_sent = server.relay.reset()
    if scenario.kind == "batch":
        server.delete_collection(collection)
    if done.returncode != 0:
        raise RuntimeError(f"{impl} {scenario.name} crashed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(server_cpu=server_cpu, connections=connections, requests=requests_sent)
    return result


def page_worth(scenario: Scenario, server: Server) -> int:
    """What one page of the scenario's collection holds in memory (response and records)."""
    config = {"url": server.direct, "bucket": BUCKET, "collection": scenario.collection}
    done = subprocess.run(
        [sys.executable, str(SCENARIOS_PY), "floor", "page_worth", json.dumps(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(json.loads(done.stdout)["page_bytes"])


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def summarize(
    plan: list[Scenario],
    runs: dict[tuple[str, str], list[dict[str, Any]]],
    impls: list[str],
    page_bytes: dict[str, int],
) -> list[dict[str, Any]]:
    rows = []
    for scenario in plan:
        floor = runs[(scenario.name, "floor")]
        for impl in impls:
            mine = runs[(scenario.name, impl)]
            row: dict[str, Any] = {"scenario": scenario.name, "title": scenario.title}
            row["impl"] = impl
            for key in ("wall", "cpu", "server_cpu", "rss_growth", "connections", "requests"):
                row[key] = median([r[key] for r in mine])
            if scenario.trace:
                row["traced_peak"] = median([r["traced_peak"] for r in mine])
            if scenario.trace and impl == "floor":
                row["page_bytes"] = page_bytes[scenario.name]
            for key in ("wall", "cpu"):
                row[f"{key}_ratio"] = median(
                    [m[key] / f[key] for m, f in zip(mine, floor) if f[key] > 0]
                )
            errors = sorted({r["error"] for r in mine if r["error"]})
            row["error"] = "; ".join(errors) or None
            row["complete"] = all(r["count"] == scenario.size for r in mine)
            row["cpu_target"] = scenario.cpu_target
            row["wall_target"] = scenario.wall_target
            row["max_connections"] = scenario.max_connections
            rows.append(row)
    return rows


# -- reporting -----------------------------------------------------------------------------


def fmt_mb(value: float) -> str:
    return f"{value / 1e6:.1f}"


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for row in rows:
        if row["error"]:
            outcome = row["error"] + f" (after {int(row['requests'])} requests)"
        elif not row["complete"]:
            outcome = "incomplete"
        else:
            outcome = "complete"
        floor = row["impl"] == "floor"
        memory = row.get("traced_peak")
        out.append(
            [
                row["title"],
                LABELS[row["impl"]],
                f"{row['wall']:.2f}" + ("" if floor else f" ({row['wall_ratio']:.2f}x)"),
                f"{row['cpu']:.2f}" + ("" if floor else f" ({row['cpu_ratio']:.2f}x)"),
                f"{row['server_cpu']:.2f}",
                str(int(row["connections"])),
                str(int(row["requests"])),
                fmt_mb(row["rss_growth"]),
                fmt_mb(memory) if memory is not None else "",
                outcome,
            ]
        )
    return out


HEADER = [
    "scenario",
    "implementation",
    "wall s (x floor)",
    "client CPU s (x floor)",
    "server CPU s",
    "TCP connections",
    "requests",
    "peak RSS growth MB",
    "peak traced MB",
    "outcome",
]


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(rows)]
    return "\n".join(lines)


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    """Each target of issue 5, met or missed, for kinto_client."""
    out = []
    by = {(r["scenario"], r["impl"]): r for r in rows}
    for row in rows:
        if row["impl"] != "kinto_client":
            continue
        checks = []
        if row["cpu_target"] is not None:
            target = row["cpu_target"]
            checks.append((row["cpu_ratio"] <= target, f"client CPU {row['cpu_ratio']:.3f}x"
                           f" (target {target}x)"))  # fmt: skip
        wall_target = row.get("wall_target", 1.05)
        checks.append(
            (
                row["wall_ratio"] <= wall_target,
                f"wall {row['wall_ratio']:.3f}x (target {wall_target}x)",
            )
        )
        connections, most = int(row["connections"]), row.get("max_connections", 1)
        bound = "" if most == 1 else f" (at most {most})"
        checks.append((connections <= most, f"{connections} TCP connection(s){bound}"))
        done = row["complete"] and not row["error"]
        checks.append((done, "complete" if done else f"did not complete ({row['error']})"))
        verdict = "met" if all(ok for ok, _ in checks) else "MISSED"
        details = ", ".join(text if ok else f"**{text}**" for ok, text in checks)
        out.append(f"{verdict}: {row['title']}: {details}")
    stream, floor = by.get(("stream", "kinto_client")), by.get(("stream", "floor"))
    held = by.get(("held", "kinto_client"))
    if stream and floor and "page_bytes" in floor:
        page = floor["page_bytes"]
        ratio = stream["traced_peak"] / page
        out.append(
            f"{'met' if ratio <= 1.1 else 'MISSED'}: iter_records' peak memory grows by "
            f"{fmt_mb(stream['traced_peak'])} MB, {ratio:.2f}x the peak of reading one page "
            f"({fmt_mb(page)} MB); the floor's streamed read: {fmt_mb(floor['traced_peak'])} MB"
            + (
                f"; get_records of the same records: {fmt_mb(held['traced_peak'])} MB"
                if held
                else ""
            )
        )
    return out


def environment(peer_python: str | None, servers: dict[str, Server]) -> dict[str, str]:
    import kinto_client

    info = requests.get(next(iter(servers.values())).direct + "/", timeout=10).json()
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()} "
        "(shared with other jobs: compare ratios, not absolute times)",
        "python": platform.python_version(),
        "kinto_client": kinto_client.__version__,
        "requests": requests.__version__,
        "kinto": f"Kinto {info.get('project_version')} (memory backends)",
    }
    if peer_python:
        env["kinto_http"] = subprocess.run(
            [peer_python, "-c", "import importlib.metadata as m; print(m.version('kinto-http'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return env


def write_docs(rows: list[dict[str, Any]], env: dict[str, str], reps: int) -> None:
    CHART.parent.mkdir(parents=True, exist_ok=True)
    CHART.write_text(svg_chart(rows))
    table = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - " + "\n     - ".join(HEADER),
    ]
    for cells in table_rows(rows):
        table.append("   * - " + "\n     - ".join(_rst_cell(c) for c in cells))
    versions = ", ".join(
        f"{name} {env[key]}"
        for key, name in (
            ("kinto_client", "kinto_client"),
            ("kinto_http", "kinto-http.py"),
            ("requests", "requests"),
            ("python", "Python"),
        )
        if key in env
    )
    text = DOC_TEMPLATE.format(
        date=env["date"],
        machine=env["machine"],
        versions=versions,
        server=env["kinto"],
        reps=reps,
        table="\n".join(table),
        verdicts="\n".join(f"- {v}" for v in verdicts(rows)),
    )
    DOC.write_text(text)


def _rst_cell(text: str) -> str:
    return text.replace("*", "\\*") or "\\-"


DOC_TEMPLATE = """\
Performance
===========

A client library's own cost is what it adds on top of the HTTP calls it must
make. Against a local Kinto server the server dominates wall time, so the
benchmark measures the client's own CPU time, its TCP connections, its memory
and whether it finishes at all, side by side with the *floor*: a raw
``requests.Session`` making the minimum equivalent calls, in the same run.

How it is measured
------------------

``make bench`` (``make bench-quick`` for sizes ten times smaller, ``make bench
PEER=1`` to add kinto-http.py from PyPI, installed in its own virtualenv
``.venv-peer``) runs ``tests/bench/run.py``. It starts its own Kinto servers
(memory backends; explicit permissions off and read/write granted to
``system.Authenticated`` in settings, so that the server's cost stays flat:
``tests/bench/kinto-bench.ini``), one per page size and ``batch_max_requests``
the scenarios need, loads the records through ``/batch``, then runs each
scenario for each implementation in a fresh subprocess
(``tests/bench/scenarios.py``), interleaved, {reps} times, and measures:

- wall time and client CPU (``time.process_time``) of the scenario alone
  (creating the client included, imports excluded);
- server CPU, from ``/proc/<pid>/stat`` of the Kinto process;
- TCP connections and HTTP requests, counted on the wire by a relay on
  127.0.0.1 in front of each server (nothing in the client is patched; both
  sides of every ratio go through the same relay);
- peak RSS growth during the scenario; for the two memory scenarios, the
  peak of Python allocations (``tracemalloc``, which slows both sides alike).

Each figure is the median of the runs; each ratio is the median of the
per-repetition ratios to the floor, so load from other jobs on the machine
weighs on both sides of a ratio alike. Every run starts from a collected
heap (``gc.collect()`` before timing, the collector on during it): otherwise
whether a full collection, about a third of the floor's CPU in a batch,
lands inside the run depends on the objects each library's import left, not
on the scenario. The floor of a batch keeps each
record's response body, as ``batch.results()`` does; the floor of a streamed
read holds one page at a time.

The ``gather`` scenario is the async client's: ``AsyncClient`` issues the
same ``get_record`` calls all at once (``asyncio.gather``, its default pool
of 10 threads), against the floor making them one after the other. Its wall
ratio is the time it takes relative to sequential reads (below 1: faster), and
its connections are bounded by the pool's threads (each keeps one).

Results
-------

:Date: {date}
:Machine: {machine}
:Versions: {versions}
:Server: {server}

.. image:: _static/performance.svg
   :alt: client CPU and wall time as multiples of the floor, per scenario

{table}

Against the targets (kinto_client, ratios to the floor):

{verdicts}

Wall time is mostly the server's: on this shared machine the server's CPU
time for the very same requests varies by several percent from run to run
(see the server CPU column), which moves a wall ratio by more than the
client's own cost does. The client CPU ratios are the client's.

For comparison, the figures measured on this kind of machine before this
client existed (Kinto 26.5, medians of 3):

.. list-table::
   :header-rows: 1

   * - scenario
     - kinto-client 4.0.0
     - kinto-http.py 11.11
   * - 500 sequential ``get_record``
     - client CPU 1.17x floor, 500 TCP connections
     - 0.95x, 1 connection
   * - 5,000 records through ``batch()`` (25 per request)
     - fails on Kinto 26 (400); patched: CPU 1.39x, 201 connections
     - CPU 2.10x
   * - same, 1,000 per request
     - patched: CPU 1.78x
     - CPU 4.50x
   * - ``get_records`` of 20,000 records, pages of 1,000
     - CPU 1.36x
     - CPU 1.33x
   * - ``get_records`` of 3,000 records, pages of 2 (1,500 pages)
     - ``RecursionError`` after 973 pages
     - ``RecursionError`` after 487 pages

Where the client's time goes
----------------------------

Profiled with ``cProfile`` (client CPU clock) and pyinstrument, a
``get_record`` spends almost all of its CPU time in ``requests``: about 3,600
Python calls per request, the largest single item being ``requests`` reading
the proxy settings from the environment twice per request. ``kinto_client``
adds about 50 calls per request (building the URL, the headers, the retry
loop's bookkeeping, reading ``Backoff``/``Alert``), under 2% of the floor.

What was removed or avoided:

- A request body is checked and copied once, when the call is made
  (``utils.json_ready``: one walk of the value, with the common scalar types
  handled inline), and encoded once with the standard library's encoder;
  retries resend the same bytes.
- A batch keeps each operation's method, sub-request and headers, and
  encodes each ``/batch`` chunk with one call of the encoder when it is sent;
  a method or headers shared by the whole chunk go once, in ``defaults``
  (most batches repeat one method and ``If-None-Match: *``), which halves
  the bytes to encode. A ``/batch`` answer whose operations all succeeded is
  accepted in one pass that also checks each answer, and keeps only each
  answer's status and body: the bodies sent and the answers' headers are
  let go as soon as their chunk is committed. Reports (``failures()``,
  ``KintoBatchException``) are built only when needed. Queueing answers with
  one shared "queued" response.
- There is no process-wide cache and no private CPython API: ids are checked
  with one compiled regular expression; paths are assembled from pieces
  prepared once per ``Endpoints``, not with ``str.format``.
- No log message is formatted unless its level is enabled.
- The server's settings (``batch_max_requests``) are read once per client
  and shared with its clones and batch clients.
- One pooled connection per thread, for any sequence of calls.
- Pages are followed in a loop, never by recursion, so any number of pages is
  read; ``iter_records`` lets each page go before fetching the next one, so a
  streamed read holds one page whatever the collection's size.
- Records read by a client with a default collection are returned as the
  server's dicts; only a client without one wraps them (``KintoObject``) to
  remember where they came from.

What remains in the batch path is each operation going through the public
call path (``create_record``, the endpoint, the payload check and copy, the
request value, the batch's queue), about 3 microseconds per operation here,
where the floor builds 1,000 plain dicts at once; the client's own
``GET /`` (the server's ``batch_max_requests``) adds about a millisecond.

What was kept on purpose: ``requests``' environment lookups (``trust_env``):
proxies (``HTTPS_PROXY``, ``NO_PROXY``), CA bundles (``REQUESTS_CA_BUNDLE``)
and ``.netrc`` are features users rely on, and the floor pays the same cost.
A batch checks and copies each operation when it is queued, so that a bad
argument raises at the call that passed it, before anything is sent, and a
dict changed after it was queued changes nothing sent.
"""


CHART_LABELS = {
    "get_record": "sequential get_record",
    "batch25": "batch(), 25 per request",
    "batch1000": "batch(), 1,000 per request",
    "pages1000": "get_records, pages of 1,000",
    "pages2": "get_records, pages of 2",
    "stream": "iter_records (streamed)",
}
COLOURS = {
    ("kinto_client", "cpu"): "#1f6fb4",
    ("kinto_client", "wall"): "#8fbfe6",
    ("kinto_http", "cpu"): "#c2571a",
    ("kinto_http", "wall"): "#f0b48a",
}


def svg_chart(rows: list[dict[str, Any]]) -> str:
    """A horizontal bar chart of client CPU and wall time as multiples of the floor."""
    shown = [r for r in rows if r["impl"] != "floor" and r["scenario"] in CHART_LABELS]
    names = list(dict.fromkeys(r["scenario"] for r in shown))
    impls = list(dict.fromkeys(r["impl"] for r in shown))
    left, bar, gap, width, top = 190, 11, 12, 420, 58
    vmax = 2.5
    scale = width / vmax
    per_group = len(impls) * 2 * bar + gap
    plot_bottom = top + len(names) * per_group
    total_width, height = left + width + 90, plot_bottom + 34
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{total_width}" height="{height}" fill="white"/>',
        '<text x="10" y="16" font-size="13" font-weight="bold">Cost over raw requests: '
        "client CPU and wall time as multiples of the floor (lower is better)</text>",
    ]
    x = 10
    for impl in impls:
        for key, label in (("cpu", "client CPU"), ("wall", "wall time")):
            text = f"{LABELS[impl]} {label}"
            out.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{COLOURS[impl, key]}"/>')
            out.append(f'<text x="{x + 14}" y="35">{text}</text>')
            x += 14 + 6 * len(text) + 14
    out.append(
        '<text x="10" y="50" fill="#555">dashed: the targets (1.15x sequential reads, '
        "1.3x batches and pages); bars past 2.5x are cut</text>"
    )
    for tick in (0.5, 1.0, 1.5, 2.0, 2.5):
        tx = left + tick * scale
        out.append(
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{plot_bottom}" '
            f'stroke="{"#777" if tick == 1.0 else "#ddd"}"/>'
        )
        out.append(f'<text x="{tx:.1f}" y="{plot_bottom + 14}" text-anchor="middle">{tick}x</text>')
    y = top
    for name in names:
        out.append(
            f'<text x="{left - 8}" y="{y + per_group / 2 - 2:.1f}" text-anchor="end">'
            f"{_xml(CHART_LABELS[name])}</text>"
        )
        target = next((r["cpu_target"] for r in shown if r["scenario"] == name), None)
        if target:  # drawn first, under the bars' labels
            tx = left + target * scale
            out.append(
                f'<line x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" y2="{y + len(impls) * 2 * bar}" '
                'stroke="#222" stroke-dasharray="3,2"/>'
            )
        for impl in impls:
            row = next((r for r in shown if r["scenario"] == name and r["impl"] == impl), None)
            for key in ("cpu", "wall"):
                if row is not None:
                    value = row[f"{key}_ratio"]
                    failed = bool(row["error"]) or not row["complete"]
                    w = min(value, vmax) * scale
                    out.append(
                        f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 1}" '
                        f'fill="{COLOURS[impl, key]}"/>'
                    )
                    label = f"{value:.2f}x" + (" (failed)" if failed else "")
                    out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 2}">{label}</text>')
                y += bar
        y += gap
    out.append(f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{plot_bottom}" stroke="#222"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10x smaller")
    parser.add_argument("--peer", metavar="PYTHON", help="a python with kinto-http installed")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop our servers on the way out
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    scale = 10 if args.quick else 1
    plan = scenarios(scale)
    if args.only:
        wanted = set(args.only.split(","))
        plan = [s for s in plan if s.name in wanted]
    impls = ["floor", "kinto_client"] + (["kinto_http"] if args.peer else [])
    peer = str(Path(args.peer).absolute()) if args.peer else None  # absolute: not resolved
    python = {"floor": sys.executable, "kinto_client": sys.executable, "kinto_http": peer}

    workdir = Path(tempfile.mkdtemp(prefix="kinto-bench-"))
    servers: dict[str, Server] = {}
    started = time.monotonic()
    try:
        settings = server_settings(scale)
        for name in dict.fromkeys(s.server for s in plan):
            servers[name] = Server(*settings[name], workdir)
        loads: dict[str, dict[str, int]] = {}
        for s in plan:
            if s.collection:
                wanted = loads.setdefault(s.server, {})
                wanted[s.collection] = max(s.size, wanted.get(s.collection, 0))
        with ThreadPoolExecutor() as pool:  # one thread per server: they load in parallel
            for future in [pool.submit(servers[name].load_all, w) for name, w in loads.items()]:
                future.result()
        print(f"loaded in {time.monotonic() - started:.0f}s", flush=True)

        runs: dict[tuple[str, str], list[dict[str, Any]]] = {
            (s.name, i): [] for s in plan for i in impls
        }
        run_id = 0
        for rep in range(args.reps):
            for scenario in plan:
                order = impls[rep % len(impls) :] + impls[: rep % len(impls)]
                for impl in order:
                    run_id += 1
                    server = servers[scenario.server]
                    result = run_once(scenario, impl, server, python[impl], run_id)
                    runs[(scenario.name, impl)].append(result)
                    print(
                        f"rep {rep + 1}/{args.reps} {scenario.name:<10} {impl:<12} "
                        f"wall {result['wall']:.2f}s cpu {result['cpu']:.2f}s "
                        f"server {result['server_cpu']:.2f}s conns {result['connections']} "
                        f"reqs {result['requests']} "
                        f"{'ERROR ' + result['error'] if result['error'] else ''}",
                        flush=True,
                    )
        page_bytes = {s.name: page_worth(s, servers[s.server]) for s in plan if s.trace}
        env = environment(peer, servers)
    finally:
        for server in servers.values():
            server.stop()

    rows = summarize(plan, runs, impls, page_bytes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("results-quick.json" if args.quick else "results.json")
    out.write_text(json.dumps({"env": env, "rows": rows, "runs": _jsonable(runs)}, indent=1))
    print()
    print(" · ".join(f"{k}: {v}" for k, v in env.items()))
    print(markdown(rows))
    print()
    print("\n".join(verdicts(rows)))
    print(f"\n(total {time.monotonic() - started:.0f}s; raw results in {out})")
    if args.write_docs:
        write_docs(rows, env, args.reps)
        print(f"wrote {DOC.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")
    return 0


def _jsonable(runs: dict[tuple[str, str], list[dict[str, Any]]]) -> dict[str, Any]:
    return {f"{scenario}/{impl}": values for (scenario, impl), values in runs.items()}


if __name__ == "__main__":
    sys.exit(main())
