"""HTTP API throughput and latency: a real `rampart serve` driven by wrk, against a no-op baseline.

Starts `rampart serve --demo` on a free loopback port with a fresh data folder, an ``ingest`` and
an ``admin`` key, and drives it with wrk (``make bench-tools`` installs it) through
``api_wrk.lua``, which posts pre-made bodies of a simulated stream (``rampart simulate``, preset
``--preset``), one line each. Every event is sent once: the stream is repeated in laps, each lap
with its event ids suffixed ``~<lap>`` and its times moved on by the stream's span in whole days,
so the events stay unique and in time order. The intake rejects an event more than its allowed
lateness (an hour) behind the latest time it took: wrk thread k of T sends lines k, k+T, ...,
each thread in time order and all at the same pace, but requests in flight at once (connections x
batch events) overtake one another. The ``demo`` world has ~3,000 events an hour (fewer at
night), and the batch scenario uses ``--batch-connections`` (4): 4 x 50 in flight span minutes.
At 16 x 50 late rejects appear (seen: 68 of 164k events in a soak, 154 of 53k with the ``small``
world). Rejected events are counted from the server's ``/metrics`` and shown.

Scenarios, each run ``--repeat`` times in turn (so the machine's noise spreads over all of them),
all against the same server:

- ``noop``: ``POST /v1/events:noop`` (auth and body checks, no scoring): the baseline. When main
  does not have that endpoint yet, ``GET /healthz`` (no auth, no body) stands in, and says so;
- ``event``: ``POST /v1/events``, one event a request;
- ``batch``: ``POST /v1/events:batch``, ``--batch`` events a request (events/s = req/s x batch).

For each: requests/s, events/s, wrk's p50/p99 latency, non-2xx answers and socket errors, events
the server rejected or saw twice (its own ``/metrics``, before and after), the server's CPU time
(``/proc``), wrk's CPU time and the load average. Medians over the repeats; ratios against the
baseline of the same run.

``--soak S`` then runs ``--soak-endpoint`` for S seconds at ``--soak-fraction`` (0.8) of the
capacity this run measured for it (or ``--soak-rate`` requests/s), paced by wrk's ``delay()``
(open loop per thread), sampling the server's RSS every ``--sample`` seconds: errors, first / last
/ max RSS and the slope of a least-squares line through the samples.

``--warmup-events N`` first feeds N events of the stream (batches of ``--warmup-batch``, one
connection per server, in order; not measured), before the scenarios, so that the soak starts with
the server's caps already reached (the 500,000 answers held for re-sent ids fill after 500,000).

``--server-args "..."`` adds flags to `rampart serve` (e.g. ``--redis redis://127.0.0.1:6379/0
--namespace bench-x``: a replica sharing Redis). When `rampart serve` has ``--rate-limit``,
``--rate-limit 0`` is added unless ``--server-args`` gives one.

``--replicas N`` (needs ``--redis`` in ``--server-args``) starts N servers with the same flags,
each with its own data folder and port and the same ``keys.jsonl``, and runs one wrk per replica
at once, each on its own share of the bodies (line i goes to replica i mod N) and, in a soak, at
1/N of the rate. Requests, events and server CPU are summed over the replicas; p50 / p99 / max are
the worst replica's (wrk's histograms are not merged), and each replica's p99 is kept in the JSON.
The wrks are not paced against one another: their streams drift apart in event time, and once one
is an hour behind the other in the shared log its events are rejected as late (seen: 5-32% of a
15 s batch run with 2 replicas); compare scored events (``scored`` in the JSON), not events sent.

The server's CPU time is its own plus its waited-for children's (the forked snapshot writer).

    make bench-tools   # wrk, from Debian's packages
    uv run python benchmarks/api.py [--duration 15] [--connections 16] [--batch 50] [--repeat 3]
        [--soak 60] [--json out.json] [--server-args "..."]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

LUA = Path(__file__).with_name("api_wrk.lua")
TICKS = os.sysconf("SC_CLK_TCK")
_METRIC = re.compile(rb'^rampart_(decisions|rejects)_total\{(?:action|kind)="([^"]+)"\} (\S+)$')


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def create_key(data_dir: Path, role: str) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "rampart.cli", "keys", "create", "--role", role,
         "--data-dir", str(data_dir)],
        check=True, capture_output=True,
    )  # fmt: skip
    return created.stdout.decode().strip()


def serve_flags(extra: list[str]) -> list[str]:
    """``extra``, with ``--rate-limit 0`` when `rampart serve` has that option and none is given."""
    shown = subprocess.run(
        [sys.executable, "-m", "rampart.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    if "--rate-limit" in shown and not any(a.startswith("--rate-limit") for a in extra):
        return [*extra, "--rate-limit", "0"]
    return extra


class Server:
    """`rampart serve --demo` on a free loopback port over ``data_dir``, with its log file."""

    def __init__(self, data_dir: Path, extra: list[str], keys_from: Server | None = None) -> None:
        self.data_dir = data_dir
        if keys_from is None:
            self.ingest_key = create_key(data_dir, "ingest")
            self.admin_key = create_key(data_dir, "admin")
        else:  # another replica: the same keys (kept hashed per data folder)
            data_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(keys_from.data_dir / "keys.jsonl", data_dir / "keys.jsonl")
            self.ingest_key, self.admin_key = keys_from.ingest_key, keys_from.admin_key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "server.log"
        self.command = [
            sys.executable, "-m", "rampart.cli", "serve", "--demo", "--host", "127.0.0.1",
            "--port", str(self.port), "--data-dir", str(data_dir), *extra,
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=out)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not get ready:\n{self.log.read_text()}")

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server process and its waited-for children so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def counts(self) -> dict[str, float]:
        """Decisions by action and rejects by kind so far, from the server's ``/metrics``."""
        reply = httpx.get(
            f"{self.url}/metrics", headers={"Authorization": f"Bearer {self.admin_key}"}
        )
        reply.raise_for_status()
        counts: dict[str, float] = {}
        for line in reply.content.splitlines():
            if (m := _METRIC.match(line)) is not None:
                counts[f"{m[1].decode()}:{m[2].decode()}"] = float(m[3])
        return counts

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the events --------------------------------------------------------------------------------


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Feed:
    """Unique events in time order, without end: the stream, then laps of it moved on in time."""

    def __init__(self, lines: list[bytes]) -> None:
        self.lines = lines
        first, last = (_ts(orjson.loads(line)["ts"]) for line in (lines[0], lines[-1]))
        self.span = timedelta(days=(last.date() - first.date()).days + 1)
        self.cursor = 0

    def event(self, index: int) -> bytes:
        lap, at = divmod(index, len(self.lines))
        if lap == 0:
            return self.lines[at]
        event = orjson.loads(self.lines[at])
        event["event_id"] = f"{event['event_id']}~{lap}"
        event["ts"] = _iso(_ts(event["ts"]) + lap * self.span)
        return orjson.dumps(event)

    def take(self, count: int) -> list[bytes]:
        """The next ``count`` events (never given again)."""
        taken = [self.event(i) for i in range(self.cursor, self.cursor + count)]
        self.cursor += count
        return taken


# --- one wrk run -----------------------------------------------------------------------------


@dataclass
class Run:
    scenario: str
    path: str
    batch: int
    seconds: float
    requests: int
    requests_s: float
    events_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    timeouts: int
    wrapped: int
    scored: int
    rejected: dict[str, int]
    server_cpu_s: float
    client_cpu_s: float
    load_before: float
    load_after: float
    rss_mib: list[float] = field(default_factory=list)
    replicas: int = 1
    p99_by_replica_ms: list[float] = field(default_factory=list)

    @property
    def server_cpu_share(self) -> float:
        return self.server_cpu_s / self.seconds


@dataclass
class Scenario:
    name: str
    path: str
    method: str
    batch: int  # events per request; 0: no event is scored (the baseline)
    connections: int
    guess_rps: float  # how many requests a second to make bodies for, until measured


def write_bodies(bodies: list[bytes], folder: Path, replicas: int = 1) -> list[Path]:
    """One file per replica: line i of ``bodies`` goes to replica i mod ``replicas``."""
    paths = []
    for k in range(replicas):
        path = folder / f"bodies{k}.jsonl"
        path.write_bytes(b"\n".join(bodies[k::replicas]) + b"\n")
        paths.append(path)
    return paths


def run_wrk(
    servers: list[Server],
    scenario: Scenario,
    bodies: list[Path],
    *,
    seconds: float,
    connections: int,
    threads: int,
    rate: float = 0.0,
    sample_s: float = 0.0,
) -> Run:
    """One wrk per server, all at once (``bodies[k]`` and ``rate / len(servers)`` each)."""
    commands = []
    for server, path in zip(servers, bodies, strict=True):
        command = [
            "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
            "--timeout", "10s", "-s", str(LUA), server.url, "--", str(path), scenario.path,
            scenario.method, server.ingest_key, str(threads),
        ]  # fmt: skip
        commands.append(command)
    env = {**os.environ, "RAMPART_WRK_RATE": f"{rate / len(servers):.3f}"}
    counts_before = [server.counts() for server in servers]
    cpu_before = sum(server.cpu_s() for server in servers)
    load_before = os.getloadavg()[0]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrks = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for command in commands
    ]
    rss: list[float] = []
    if sample_s > 0:
        while (running := next((w for w in wrks if w.poll() is None), None)) is not None:
            rss.append(sum(server.rss_bytes() for server in servers) / 2**20)
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.wait(timeout=sample_s)
        rss.append(sum(server.rss_bytes() for server in servers) / 2**20)
    outputs = [wrk.communicate() for wrk in wrks]
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after, load_after = sum(server.cpu_s() for server in servers), os.getloadavg()[0]
    results = []
    for wrk, (out, err) in zip(wrks, outputs, strict=True):
        found = [line for line in out.decode().splitlines() if line.startswith("RESULT ")]
        if wrk.returncode != 0 or not found:
            raise SystemExit(f"wrk failed ({wrk.returncode}):\n{out.decode()}\n{err.decode()}")
        results.append(json.loads(found[-1].removeprefix("RESULT ")))
    delta: dict[str, float] = {}
    for server, before in zip(servers, counts_before, strict=True):
        for k, v in server.counts().items():
            delta[k] = delta.get(k, 0.0) + v - before.get(k, 0.0)
    scored = int(sum(v for k, v in delta.items() if k.startswith("decisions:")))
    rejected = {
        k.split(":", 1)[1]: int(v) for k, v in delta.items() if k.startswith("rejects:") and v
    }

    def total(key: str) -> int:
        return int(sum(r[key] for r in results))

    def worst_ms(key: str) -> float:
        return float(max(r[key] for r in results)) / 1000

    duration = max(r["duration_us"] for r in results) / 1e6
    requests = total("requests")
    return Run(
        scenario=scenario.name,
        path=scenario.path,
        batch=scenario.batch,
        seconds=duration,
        requests=requests,
        requests_s=requests / duration,
        events_s=requests * scenario.batch / duration,
        p50_ms=worst_ms("p50_us"),
        p90_ms=worst_ms("p90_us"),
        p99_ms=worst_ms("p99_us"),
        p999_ms=worst_ms("p999_us"),
        max_ms=worst_ms("max_us"),
        non_2xx=total("status_errors"),
        socket_errors=total("connect_errors") + total("read_errors") + total("write_errors"),
        timeouts=total("timeouts"),
        wrapped=total("wraps"),
        scored=scored,
        rejected=rejected,
        server_cpu_s=cpu_after - cpu_before,
        client_cpu_s=(children_after.ru_utime + children_after.ru_stime)
        - (children_before.ru_utime + children_before.ru_stime),
        load_before=load_before,
        load_after=load_after,
        rss_mib=rss,
        replicas=len(servers),
        p99_by_replica_ms=[r["p99_us"] / 1000 for r in results],
    )


def bodies_for(
    feed: Feed, scenario: Scenario, requests: int, noop_events: list[bytes]
) -> list[bytes]:
    if scenario.batch == 0:
        return noop_events
    events = feed.take(requests * scenario.batch)
    if scenario.batch == 1:
        return events
    size = scenario.batch
    return [b"[" + b",".join(events[i : i + size]) + b"]" for i in range(0, len(events), size)]


def probe_noop(server: Server, event: bytes, connections: int) -> Scenario:
    reply = httpx.post(
        f"{server.url}/v1/events:noop",
        content=event,
        headers={"Authorization": f"Bearer {server.ingest_key}"},
    )
    if reply.status_code in (404, 405):
        return Scenario("noop=healthz", "/healthz", "GET", 0, connections, 20_000)
    if reply.status_code >= 300:
        raise SystemExit(f"POST /v1/events:noop answered {reply.status_code}: {reply.text}")
    return Scenario("noop", "/v1/events:noop", "POST", 0, connections, 20_000)


def warm_up(servers: list[Server], feed: Feed, events: int, batch: int) -> None:
    """Feed ``events`` of the stream in batches, in order, one connection per server, unmeasured."""
    started, cpu_before, sent = time.monotonic(), sum(s.cpu_s() for s in servers), 0
    clients = [
        httpx.Client(
            base_url=s.url, headers={"Authorization": f"Bearer {s.ingest_key}"}, timeout=60
        )
        for s in servers
    ]
    try:
        while sent < events:
            count = min(batch, events - sent)
            body = b"[" + b",".join(feed.take(count)) + b"]"
            reply = clients[(sent // batch) % len(clients)].post("/v1/events:batch", content=body)
            if reply.status_code >= 300:
                raise SystemExit(f"warm-up: {reply.status_code} {reply.text[:500]}")
            sent += count
            if sent % 100_000 < count:
                print(
                    f"  warm-up {sent:,} events, {time.monotonic() - started:.0f}s, server RSS "
                    f"{sum(s.rss_bytes() for s in servers) / 2**20:.0f} MiB",
                    flush=True,
                )
    finally:
        for client in clients:
            client.close()
    print(
        f"warm-up: {sent:,} events in {time.monotonic() - started:.0f}s, server CPU "
        f"{sum(s.cpu_s() for s in servers) - cpu_before:.1f}s, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


# --- reporting -----------------------------------------------------------------------------------


def median_of(runs: list[Run], name: str) -> float:
    return float(statistics.median(getattr(run, name) for run in runs))


def table(by_scenario: dict[str, list[Run]], baseline: str) -> list[dict[str, Any]]:
    base = by_scenario[baseline]
    base_rps, base_p99 = median_of(base, "requests_s"), median_of(base, "p99_ms")
    rows = []
    for name, runs in by_scenario.items():
        rps = median_of(runs, "requests_s")
        rows.append(
            {
                "scenario": name,
                "runs": len(runs),
                "requests_s": rps,
                "events_s": median_of(runs, "events_s"),
                # fresh decisions a second (events sent less rejected and re-sent ones)
                "scored_s": statistics.median(r.scored / r.seconds for r in runs),
                "p50_ms": median_of(runs, "p50_ms"),
                "p99_ms": median_of(runs, "p99_ms"),
                "p999_ms": median_of(runs, "p999_ms"),
                "rps_vs_baseline": rps / base_rps,
                "p99_vs_baseline": median_of(runs, "p99_ms") / base_p99,
                "non_2xx": sum(r.non_2xx for r in runs),
                "socket_errors": sum(r.socket_errors + r.timeouts for r in runs),
                "rejected": sum(sum(r.rejected.values()) for r in runs),
                # A thread that ran out of bodies started its slice again: re-sent events.
                "wraps": sum(r.wrapped for r in runs) if runs[0].batch else 0,
                "server_cpu_share": median_of(runs, "server_cpu_share"),
                "server_cpu_us_per_request": statistics.median(
                    r.server_cpu_s / max(r.requests, 1) * 1e6 for r in runs
                ),
                "client_cpu_s": median_of(runs, "client_cpu_s"),
                "load": statistics.median(r.load_after for r in runs),
            }
        )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'scenario':<14}{'req/s':>9}{'events/s':>10}{'scored/s':>10}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'p99.9':>8}{'x rps':>7}{'x p99':>7}{'non2xx':>7}{'sockerr':>8}{'reject':>7}"
        f"{'wraps':>7}{'srv CPU':>8}{'µs/req':>8}{'wrk CPU s':>10}{'load':>6}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['scenario']:<14}{r['requests_s']:>9,.0f}{r['events_s']:>10,.0f}"
            f"{r['scored_s']:>10,.0f}"
            f"{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['p999_ms']:>8.2f}"
            f"{r['rps_vs_baseline']:>7.2f}{r['p99_vs_baseline']:>7.1f}{r['non_2xx']:>7}"
            f"{r['socket_errors']:>8}{r['rejected']:>7}{r['wraps']:>7}"
            f"{r['server_cpu_share']:>7.0%} {r['server_cpu_us_per_request']:>7,.0f}"
            f"{r['client_cpu_s']:>10.1f}{r['load']:>6.2f}"
        )


def slope_per_min(samples: list[float], every_s: float) -> float:
    if len(samples) < 2:
        return 0.0
    xs = [i * every_s / 60 for i in range(len(samples))]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(samples)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, samples, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--batch",
        default="50",
        help="events per batch request; a comma list (20,50) sweeps sizes (one batch scenario "
        "per size and --batch-connections)",
    )
    parser.add_argument(
        "--batch-connections",
        default="4",
        help="connections for the batch scenario (in flight at once: connections x batch events, "
        "which overtake one another: keep it well under an hour of event time); a comma list "
        "sweeps them",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="servers sharing one Redis namespace (needs --redis in --server-args); one wrk each",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenarios", default="noop,event,batch")
    parser.add_argument(
        "--preset",
        default="demo",
        help="simulated world (demo: ~3,000 events an hour of event time, so the events in "
        "flight at once, connections x batch, span minutes, well within the hour of lateness)",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--soak", type=float, default=0, help="soak seconds (0: no soak)")
    parser.add_argument("--soak-endpoint", choices=["event", "batch"], default="batch")
    parser.add_argument("--soak-fraction", type=float, default=0.8)
    parser.add_argument("--soak-rate", type=float, default=0, help="requests/s (0: measured)")
    parser.add_argument("--sample", type=float, default=2.0, help="RSS sample period, seconds")
    parser.add_argument(
        "--warmup-events",
        type=int,
        default=0,
        help="events to feed before the scenarios, unmeasured (e.g. 550000: past the held answers)",
    )
    parser.add_argument("--warmup-batch", type=int, default=1000, help="events a warm-up request")
    parser.add_argument("--server-args", default="", help="extra flags for `rampart serve`")
    parser.add_argument("--json", type=Path, default=None, help="write every run here")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench-tools` (Debian package wrk)")

    from rampart.simulate import world_config, write_world

    folder = Path(tempfile.mkdtemp(prefix="rampart-api-bench-"))
    write_world(world_config(preset=args.preset, seed=args.seed), folder / "world")
    feed = Feed((folder / "world" / "events.jsonl").read_bytes().splitlines())
    noop_events = feed.lines[:1000]
    extra = serve_flags(shlex.split(args.server_args))
    if args.replicas > 1 and not any(a.startswith("--redis") for a in extra):
        raise SystemExit("--replicas needs --server-args with --redis (replicas share its log)")
    server = Server(folder / "data", extra)
    servers = [server]
    try:
        for k in range(1, args.replicas):
            servers.append(Server(folder / f"data{k}", extra, keys_from=server))
    except BaseException:
        for started in servers:
            started.stop()
        raise
    batches = [int(b) for b in args.batch.split(",")]
    batch_connections = [int(c) for c in args.batch_connections.split(",")]
    sweep = len(batches) * len(batch_connections) > 1
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"rampart serve {' '.join(extra)} x{len(servers)} (commit {commit}) on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"wrk -t{args.threads} -c{args.connections} (batch {args.batch}: "
        f"-c{args.batch_connections}) -d{args.duration:g}s, one wrk per server; "
        f"{args.preset} world seed {args.seed} "
        f"({len(feed.lines):,} events, laps of {feed.span.days} days); load "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    if args.warmup_events > 0:
        warm_up(servers, feed, args.warmup_events, args.warmup_batch)
    scenarios = {
        "noop": probe_noop(server, noop_events[0], args.connections),
        "event": Scenario("event", "/v1/events", "POST", 1, args.connections, 3_000),
    }
    batch_scenarios = [
        Scenario(
            f"batch{b}x{c}" if sweep else f"batch{b}", "/v1/events:batch", "POST", b, c, 10_000 / b
        )
        for b in batches
        for c in batch_connections
    ]
    scenarios["batch"] = batch_scenarios[0]  # the soak's
    chosen: list[Scenario] = []
    for name in args.scenarios.split(","):
        chosen += batch_scenarios if name == "batch" else [scenarios[name]]
    by_scenario: dict[str, list[Run]] = {s.name: [] for s in chosen}
    try:
        for repeat in range(args.repeat):
            for scenario in chosen:
                need = math.ceil(scenario.guess_rps * args.duration * 1.5) + scenario.connections
                bodies = write_bodies(
                    bodies_for(feed, scenario, need, noop_events), folder, len(servers)
                )
                run = run_wrk(
                    servers,
                    scenario,
                    bodies,
                    seconds=args.duration,
                    connections=scenario.connections,
                    threads=args.threads,
                )
                scenario.guess_rps = max(scenario.guess_rps, run.requests_s)
                answered = run.requests * run.batch - sum(run.rejected.values())
                if run.scored < answered:
                    # Decisions count fresh events only: fewer than answered means re-sends.
                    print(f"  warning: {answered - run.scored} answered events were not fresh")
                by_scenario[scenario.name].append(run)
                print(
                    f"  run {repeat + 1} {scenario.name:<13} {run.requests_s:>9,.0f} req/s "
                    f"{run.events_s:>9,.0f} ev/s p50 {run.p50_ms:6.2f} p99 {run.p99_ms:6.2f} ms "
                    f"non-2xx {run.non_2xx} rejected {run.rejected} wraps {run.wrapped} "
                    f"server CPU {run.server_cpu_s:.1f}s wrk CPU {run.client_cpu_s:.1f}s "
                    f"load {run.load_after:.2f}",
                    flush=True,
                )
                for each in servers:
                    if not each.alive():
                        raise SystemExit(f"a server died:\n{each.log.read_text()[-4000:]}")
        rows = table(by_scenario, chosen[0].name) if chosen else []
        print()
        print_table(rows)
        soak: dict[str, Any] | None = None
        if args.soak > 0:
            soak = run_soak(servers, feed, scenarios, by_scenario, args, noop_events, folder)
        if args.json is not None:
            args.json.write_text(
                json.dumps(
                    {
                        "command": sys.argv,
                        "server": server.command,
                        "replicas": len(servers),
                        "commit": commit,
                        "cores": os.cpu_count(),
                        "table": rows,
                        "runs": {k: [asdict(r) for r in v] for k, v in by_scenario.items()},
                        "soak": soak,
                    },
                    indent=1,
                )
            )
    finally:
        for each in servers:
            each.stop()
        if args.keep:
            print(f"data kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run_soak(
    servers: list[Server],
    feed: Feed,
    scenarios: dict[str, Scenario],
    by_scenario: dict[str, list[Run]],
    args: argparse.Namespace,
    noop_events: list[bytes],
    folder: Path,
) -> dict[str, Any]:
    scenario = scenarios["event" if args.soak_endpoint == "event" else "batch"]
    measured = by_scenario.get(scenario.name, [])
    if args.soak_rate > 0:
        rate = args.soak_rate
    elif measured:
        rate = args.soak_fraction * median_of(measured, "requests_s")
    else:
        raise SystemExit("--soak needs --soak-rate or the soak endpoint among --scenarios")
    need = math.ceil(rate * args.soak * 1.2) + scenario.connections
    bodies = write_bodies(bodies_for(feed, scenario, need, noop_events), folder, len(servers))
    print(
        f"\nsoak: {scenario.name} for {args.soak:g}s at {rate:,.0f} req/s "
        f"({rate * scenario.batch:,.0f} events/s), RSS every {args.sample:g}s",
        flush=True,
    )
    run = run_wrk(
        servers,
        scenario,
        bodies,
        seconds=args.soak,
        connections=scenario.connections,
        threads=args.threads,
        rate=rate,
        sample_s=args.sample,
    )
    rss = run.rss_mib
    result = {
        "scenario": scenario.name,
        "target_requests_s": rate,
        **asdict(run),
        "rss_first_mib": rss[0],
        "rss_last_mib": rss[-1],
        "rss_max_mib": max(rss),
        "rss_slope_mib_per_min": slope_per_min(rss, args.sample),
        "rss_slope_second_half_mib_per_min": slope_per_min(rss[len(rss) // 2 :], args.sample),
    }
    print(
        f"  {run.requests_s:,.0f} req/s ({run.events_s:,.0f} events/s) of {rate:,.0f} asked; "
        f"p50 {run.p50_ms:.2f} p99 {run.p99_ms:.2f} p99.9 {run.p999_ms:.2f} "
        f"max {run.max_ms:.1f} ms; "
        f"non-2xx {run.non_2xx}, socket errors {run.socket_errors}, timeouts {run.timeouts}, "
        f"rejected {run.rejected}, wraps {run.wrapped}\n"
        f"  server RSS first {rss[0]:.0f} last {rss[-1]:.0f} max {max(rss):.0f} MiB, slope "
        f"{result['rss_slope_mib_per_min']:.1f} MiB/min (second half "
        f"{result['rss_slope_second_half_mib_per_min']:.1f}); server CPU {run.server_cpu_s:.1f}s "
        f"({run.server_cpu_share:.0%}), wrk CPU {run.client_cpu_s:.1f}s, load "
        f"{run.load_before:.2f} -> {run.load_after:.2f}",
        flush=True,
    )
    return result


if __name__ == "__main__":
    main()
