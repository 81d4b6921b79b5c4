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
        name = row["title"]
        if row["cpu_target"] is not None:
            ok = row["cpu_ratio"] <= row["cpu_target"]
            out.append(
                f"{'met' if ok else 'MISSED'}: client CPU {row['cpu_ratio']:.2f}x floor "
                f"(target {row['cpu_target']}x) on {name}"
            )
            ok = row["wall_ratio"] <= 1.05
            out.append(
                f"{'met' if ok else 'MISSED'}: wall {row['wall_ratio']:.2f}x floor "
                f"(target 1.05x) on {name}"
            )
        ok = row["connections"] <= 1
        out.append(
            f"{'met' if ok else 'MISSED'}: {int(row['connections'])} TCP connection(s) on {name}"
        )
        if not row["complete"] or row["error"]:
            out.append(f"MISSED: {name} did not complete ({row['error']})")
    stream, floor = by.get(("stream", "kinto_client")), by.get(("stream", "floor"))
    if stream and floor and "page_bytes" in floor:
        extra = stream["traced_peak"] - floor["traced_peak"]
        ok = stream["traced_peak"] <= floor["traced_peak"] + floor["page_bytes"]
        out.append(
            f"{'met' if ok else 'MISSED'}: streamed read peak {fmt_mb(stream['traced_peak'])} MB, "
            f"{fmt_mb(extra)} MB over the floor's streamed read; one page is "
            f"{fmt_mb(floor['page_bytes'])} MB"
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
PEER=1`` to add kinto-http.py from PyPI, installed in its own virtualenv) runs
``tests/bench/run.py``. It starts its own Kinto servers (memory backends,
explicit permissions off and read/write granted to ``system.Authenticated`` in
settings, so that the server's cost stays flat; ``tests/bench/kinto-bench.ini``),
loads the records through ``/batch``, and runs each scenario for each
implementation in a fresh subprocess, interleaved, {reps} times:

- wall time and client CPU (``time.process_time``) of the scenario alone
  (creating the client included, imports excluded);
- server CPU, from ``/proc/<pid>/stat`` of the Kinto process;
- TCP connections and HTTP requests, counted on the wire by a relay on
  127.0.0.1 in front of each server (the client is not patched);
- peak RSS growth during the scenario; for the two memory scenarios, the
  peak of Python allocations (``tracemalloc``, which slows them down: their
  times are not comparable to the others).

Each figure is the median of the runs; each ratio is the median of the
per-repetition ratios to the floor, so load from other jobs on the machine
weighs on both sides of a ratio alike.

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

Where the client's time goes
----------------------------

For the same HTTP calls, ``kinto_client`` adds: building each URL from its
pattern (slugified, percent-encoded segments), one ``dict`` of headers per
call, the retry loop's bookkeeping, and reading the ``Backoff``/``Alert``
headers of each reply. It does not re-encode JSON (a batch's sub-requests are
encoded once, when queued, and a chunk's body is joined from them), does not
format log messages whose level is off, reads the server settings
(``batch_max_requests``) once per session, keeps one pooled connection per
thread, follows pages in a loop (no recursion, so any number of pages), and
``iter_records`` holds one page at a time.
"""


def svg_chart(rows: list[dict[str, Any]]) -> str:
    """A horizontal bar chart of client CPU and wall time as multiples of the floor."""
    shown = [r for r in rows if r["impl"] != "floor" and r["scenario"] not in ("held",)]
    titles = list(dict.fromkeys(r["title"] for r in shown))
    impls = list(dict.fromkeys(r["impl"] for r in shown))
    colours = {
        ("kinto_client", "cpu"): "#1f6fb4",
        ("kinto_client", "wall"): "#8fbfe6",
        ("kinto_http", "cpu"): "#c2571a",
        ("kinto_http", "wall"): "#f0b48a",
    }
    left, bar, gap, width = 330, 11, 14, 380
    top = 40
    vmax = max([2.0] + [min(r[f"{k}_ratio"], 5.0) for r in shown for k in ("cpu", "wall")])
    scale = width / vmax
    per_group = len(impls) * 2 * bar + gap
    height = top + len(titles) * per_group + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" '
        f'height="{height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{left + width + 60}" height="{height}" fill="white"/>',
        '<text x="10" y="16" font-size="13" font-weight="bold">'
        "Client CPU and wall time, multiples of raw requests (lower is better)</text>",
    ]
    x = 10
    for impl in impls:
        for key, label in (("cpu", "client CPU"), ("wall", "wall")):
            out.append(
                f'<rect x="{x}" y="24" width="10" height="10" fill="{colours[(impl, key)]}"/>'
            )
            out.append(f'<text x="{x + 14}" y="33">{LABELS[impl]} {label}</text>')
            x += 14 + 7 * len(f"{LABELS[impl]} {label}") + 12
    y = top
    for title in titles:
        out.append(
            f'<text x="{left - 8}" y="{y + per_group / 2 - 4}" text-anchor="end">'
            f"{_xml(title[:52])}</text>"
        )
        for impl in impls:
            row = next((r for r in shown if r["title"] == title and r["impl"] == impl), None)
            for key in ("cpu", "wall"):
                if row is not None:
                    value = row[f"{key}_ratio"]
                    failed = bool(row["error"]) or not row["complete"]
                    w = min(value, vmax) * scale
                    out.append(
                        f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 1}" '
                        f'fill="{colours[(impl, key)]}"/>'
                    )
                    label = f"{value:.2f}x" + (" (failed)" if failed else "")
                    out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 2}">{label}</text>')
                y += bar
        y += gap
    for mark in (1.0, 1.15, 1.3):
        mx = left + mark * scale
        dash = "" if mark == 1.0 else ' stroke-dasharray="3,3"'
        out.append(
            f'<line x1="{mx:.1f}" y1="{top - 4}" x2="{mx:.1f}" y2="{y}" stroke="#444"{dash}/>'
        )
        out.append(f'<text x="{mx:.1f}" y="{y + 14}" text-anchor="middle">{mark}x</text>')
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
        loads = {(s.server, s.collection): s.size for s in plan if s.collection}
        sizes: dict[tuple[str, str], int] = {}
        for (server, collection), size in loads.items():
            sizes[(server, collection)] = max(size, sizes.get((server, collection), 0))
        for (server, collection), size in sizes.items():
            print(f"loading {size:,} records into {server}/{collection} ...", flush=True)
            servers[server].load(collection, size)
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
