"""``make bench``: seed, serve under granian, load with wrk, compare with a bare baseline.

For each of ``--sizes`` (10k and 1m customers by default) and each engine (SQLite always;
PostgreSQL when PIVOTAL_BENCH_POSTGRES_URL is set, and that database is WIPED) the run
seeds the database (bench/seed.py), then serves, one granian process each, on 127.0.0.1:

  * the real server (``pivotal.app:create_app``, configured from the environment),
  * the bare baseline (bench/baseline.py: same SQL, same driver, no framework),
  * the textbook FastAPI + SQLAlchemy ORM endpoint (bench/textbook.py, GET customer only),

drives every endpoint with wrk (``--threads`` threads, ``--connections`` connections,
``--duration`` seconds, ``--latency``; ``--rounds`` rounds of the server and the
baseline back to back, in turns, for each endpoint, keeping each app's median round), prints
requests/s, p50 and p99 and the ratio to the baseline, measures the server's resident
size after ``--memory-requests`` requests, and writes it all, with the machine and the
exact commands, to bench/RESULTS.md.

    .venv/bin/python bench/run.py [--sizes 10k,1m] [--duration 10] [--engines sqlite,postgres]
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from seed import SECRET, SIZES, Seeded, seed  # noqa: E402

HOST = "127.0.0.1"
GRANIAN = str(Path(sys.executable).with_name("granian"))
PHASES = (
    "before_getting_started",
    "program_design",
    "review",
    "program_buildout",
    "internal_qa",
    "launch",
    "completed",
)


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    method: str = "GET"
    in_baseline: bool = True


ENDPOINTS = (
    Endpoint("customer_display_id", "GET /customers/{display_id}"),
    Endpoint("customer_id", "GET /customers/{id}"),
    Endpoint("list_first", "GET /customers?limit=100 (first page)"),
    Endpoint("list_deepest", "GET /customers?limit=100 (deepest page)"),
    Endpoint("create_customer", "POST /customers (Idempotency-Key)", "POST"),
    Endpoint("patch_phase", "PATCH /onboardings/{display_id} phase", "PATCH"),
    Endpoint("me", "GET /me"),
)


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    command: str

    @property
    def ok(self) -> bool:
        return self.non_2xx == 0 and self.socket_errors == 0


@dataclass
class EngineRun:
    engine: str
    version: str
    seeded: Seeded
    server: dict[str, WrkResult] = field(default_factory=dict)
    baseline: dict[str, WrkResult] = field(default_factory=dict)
    textbook: WrkResult | None = None
    round_ratios: dict[str, list[float]] = field(default_factory=dict)  # server / baseline
    notes: list[str] = field(default_factory=list)

    def ratio(self, key: str) -> float | None:
        """The server's requests/s over the baseline's for endpoint ``key``: the median of
        the rounds' ratios (each measured back to back, so a drift cancels out)."""
        ratios = sorted(self.round_ratios.get(key, []))
        return ratios[(len(ratios) - 1) // 2] if ratios else None

    memory: list[tuple[int, int]] = field(default_factory=list)  # (requests, VmRSS kB)
    commands: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- wrk and its scripts


def lua_script(
    endpoint: str, seeded: Seeded, token: str, round_: int, stop_after: int | None = None
) -> str:
    """A wrk script: request() builds each request from a counter, so bodies,
    idempotency keys and target rows differ from one request to the next."""
    ids = ", ".join(f'"{i}"' for i in seeded.customer_ids)
    lines = [
        "local counter = 0",
        f"local n = {seeded.customers}",
        f'local token = "{token}"',
        f"local round = {round_}",
        f"local ids = {{{ids}}}",
        "local phases = {" + ", ".join(f'"{p}"' for p in PHASES) + "}",
        f'local auth = "Bearer {seeded.key}"',
        f'local deepest = "/api/v1/customers?limit=100&cursor={quote(seeded.deepest_cursor)}"',
        "local get_headers = {Authorization = auth}",
        "local kinds = {" + ", ".join(f'"{e.key}"' for e in ENDPOINTS) + "}",
        f'local only = "{endpoint}"',
        "",
        "local function build(kind, c)",
        '  if kind == "customer_display_id" then',
        '    return wrk.format("GET", "/api/v1/customers/" .. ((c * 7919) % n + 1), get_headers)',
        '  elseif kind == "customer_id" then',
        '    return wrk.format("GET", "/api/v1/customers/" .. ids[(c % #ids) + 1], get_headers)',
        '  elseif kind == "list_first" then',
        '    return wrk.format("GET", "/api/v1/customers?limit=100", get_headers)',
        '  elseif kind == "list_deepest" then',
        '    return wrk.format("GET", deepest, get_headers)',
        '  elseif kind == "create_customer" then',
        "    local headers = {Authorization = auth,",
        '      ["Content-Type"] = "application/json",',
        '      ["Idempotency-Key"] = token .. "-" .. c}',
        '    local body = \'{"name": "Bench \' .. token .. " " .. c .. \'", "plan": "starter"}\'',
        '    return wrk.format("POST", "/api/v1/customers", headers, body)',
        '  elseif kind == "patch_phase" then',
        '    local headers = {Authorization = auth, ["Content-Type"] = "application/json"}',
        "    local target = (c % n) + 1",
        # Never the seeded phase, and a different phase for each pass and each round.
        "    local phase = phases[((round + math.floor(c / n)) % 6) + 2]",
        '    return wrk.format("PATCH", "/api/v1/onboardings/" .. target, headers,',
        "      '{\"phase\": \"' .. phase .. '\"}')",
        "  else",
        '    return wrk.format("GET", "/api/v1/me", get_headers)',
        "  end",
        "end",
        "",
        "request = function()",
        "  counter = counter + 1",
        '  if only == "mix" then',
        "    return build(kinds[(counter % #kinds) + 1], counter)",
        "  end",
        "  return build(only, counter)",
        "end",
    ]
    if stop_after is not None:
        lines += [
            "",
            "local done = 0",
            "response = function(status, headers, body)",
            "  done = done + 1",
            f"  if done >= {stop_after} then wrk.thread:stop() end",
            "end",
        ]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str, command: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        command=command,
    )


def run_wrk(
    args: argparse.Namespace, port: int, script: Path, duration: int | None = None
) -> WrkResult:
    seconds = duration or args.duration
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={seconds}s",
        "--timeout=5s",
        "--latency",
        f"--script={script}",
        f"http://{HOST}:{port}",
    ]
    shown = shlex.join(command).replace(str(script.parent), "$WORK")
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return parse_wrk(done.stdout, shown)


# ---------------------------------------------------------------- the apps under granian


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class App:
    """One granian process (one worker) serving one app on a free loopback port."""

    def __init__(self, name: str, target: list[str], env: dict[str, str], work: Path) -> None:
        self.name = name
        self.port = free_port()
        self.command = [
            GRANIAN,
            "--interface",
            "asgi",
            "--workers",
            "1",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--no-ws",
            *target,
        ]
        self.env = env
        self.log_path = work / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def shown(self) -> str:
        settings = " ".join(
            f"{k}={v}" for k, v in sorted(self.env.items()) if k.startswith("PIVOTAL_")
        )
        command = shlex.join(self.command).replace(GRANIAN, ".venv/bin/granian")
        return f"{settings} {command}".replace(str(ROOT) + "/", "")

    def __enter__(self) -> App:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_healthy()
        return self

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def worker_rss_kb(self) -> int:
        """VmRSS of the granian worker process(es) serving the app (children of the main)."""
        assert self.process is not None
        total = 0
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)", text, re.M)
            rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
            if ppid and rss and int(ppid.group(1)) == self.process.pid:
                total += int(rss.group(1))
        if total == 0:  # no separate worker: the main process serves
            text = Path(f"/proc/{self.process.pid}/status").read_text()
            rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
            total = int(rss.group(1)) if rss else 0
        return total

    def __exit__(self, *_: Any) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # the group this run started
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def app_env(seeded: Seeded, args: argparse.Namespace) -> dict[str, str]:
    env = {
        "PIVOTAL_DATABASE_URL": seeded.url,
        "PIVOTAL_SECRET_KEY": SECRET,
        "PIVOTAL_BENCH_WORKSPACE_ID": seeded.workspace_id,
    }
    if args.rate_limit_storage:
        env["PIVOTAL_RATE_LIMIT_STORAGE"] = args.rate_limit_storage
    return env


SERVER_TARGET = ["--factory", "pivotal.app:create_app"]
BASELINE_TARGET = ["--working-dir", str(BENCH_DIR), "--factory", "baseline:create_app"]
TEXTBOOK_TARGET = ["--working-dir", str(BENCH_DIR), "textbook:app"]


# ---------------------------------------------------------------- one engine


class Runner:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.round = 0
        self.token = f"r{int(time.time())}"

    def script(self, endpoint: str, seeded: Seeded, stop_after: int | None = None) -> Path:
        self.round += 1
        path = self.work / f"{endpoint}-{self.round}.lua"
        token = f"{self.token}-{self.round}"
        path.write_text(lua_script(endpoint, seeded, token, self.round, stop_after))
        return path

    def drive_all(
        self, apps: list[App], seeded: Seeded, endpoints: tuple[Endpoint, ...]
    ) -> list[dict[str, list[WrkResult]]]:
        """Each endpoint on every app in turn, back to back, ``--rounds`` times, the order
        reversed each round: this machine's speed drifts (it shares its cores), and a
        drift then moves both sides of a ratio alike, as does what one app's round
        leaves for the next (a checkpoint, a vacuum)."""
        results: list[dict[str, list[WrkResult]]] = [{} for _ in apps]
        pairs = list(zip(apps, results, strict=True))
        for endpoint in endpoints:
            for round_ in range(self.args.rounds):
                for app, found in pairs if round_ % 2 == 0 else reversed(pairs):
                    result = self.drive(app, seeded, endpoint, warm_up=round_ == 0)
                    found.setdefault(endpoint.key, []).append(result)
        return results

    def textbook(self, run: EngineRun, seeded: Seeded, env: dict[str, str]) -> WrkResult:
        """The textbook app's GET; again in a fresh process if the first answered nothing
        at all (now and then here on SQLite: its sync endpoints and their Session
        dependency share one thread pool). The results say so when it happens."""
        with App("textbook", TEXTBOOK_TARGET, env, self.work) as app:
            run.commands.append(app.shown)
            result = self.drive(app, seeded, ENDPOINTS[0])
            if result.requests:
                return result
            print(f"    textbook answered nothing; its log:\n{app.log_tail(10)}", flush=True)
        run.notes.append(
            "The textbook app answered no request in its first process; its figure is from"
            " a second one."
        )
        with App("textbook", TEXTBOOK_TARGET, env, self.work) as app:
            return self.drive(app, seeded, ENDPOINTS[0])

    def drive(
        self, app: App, seeded: Seeded, endpoint: Endpoint, warm_up: bool = True
    ) -> WrkResult:
        if warm_up:  # so first-request work (imports, caches, plans) is not timed
            run_wrk(self.args, app.port, self.script(endpoint.key, seeded), duration=1)
        result = run_wrk(self.args, app.port, self.script(endpoint.key, seeded))
        flag = (
            ""
            if result.ok
            else f"  !! {result.non_2xx} non-2xx, {result.socket_errors} socket errors"
        )
        print(
            f"    {app.name:9} {endpoint.label:42} {result.requests_per_s:10,.0f} req/s"
            f"  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms{flag}",
            flush=True,
        )
        return result

    def memory(self, run: EngineRun, seeded: Seeded) -> None:
        """A fresh server, a mix of every endpoint; VmRSS after each milestone."""
        milestones = self.args.memory_requests
        with App("server", SERVER_TARGET, app_env(seeded, self.args), self.work) as app:
            run.commands.append(f"# memory check\n{app.shown}")
            done = 0
            rate = 500.0  # requests/s, refined after each leg
            for target in milestones:
                deadline = time.monotonic() + self.args.memory_seconds
                # wrk cannot stop at a count (its main thread sleeps for --duration), so
                # legs sized from the measured rate, the last one cut by response() count.
                while done < target and time.monotonic() < deadline:
                    needed = target - done
                    seconds = max(1, min(30, int(needed / rate) + 1))
                    script = self.script("mix", seeded, stop_after=needed)
                    result = run_wrk(self.args, app.port, script, duration=seconds)
                    done += result.requests
                    rate = max(1.0, result.requests / seconds)
                rss = app.worker_rss_kb()
                run.memory.append((done, rss))
                print(
                    f"    memory: VmRSS {rss / 1024:7.1f} MiB after {done:,} requests", flush=True
                )
                if done < target:
                    print(f"    (stopped by --memory-seconds at {done:,} requests)")
            run.commands.append(result.command + "   # the mix, stopped by response() count")

    def engine(self, name: str, url: str, size: str) -> EngineRun:
        print(f"== {name}: seeding {size} customers", flush=True)
        seeded = seed(url, SIZES[size])
        print(f"   seeded in {seeded.seconds:.1f} s", flush=True)
        run = EngineRun(name, engine_version(seeded.url), seeded)
        endpoints = tuple(e for e in ENDPOINTS if e.key in self.args.only) or ENDPOINTS
        env = app_env(seeded, self.args)
        with (
            App("server", SERVER_TARGET, env, self.work) as server,
            App("baseline", BASELINE_TARGET, env, self.work) as baseline,
        ):
            run.commands += [server.shown, baseline.shown]
            server_rounds, baseline_rounds = self.drive_all([server, baseline], seeded, endpoints)
        for key, rounds in server_rounds.items():
            run.server[key] = median_round(rounds)
            run.baseline[key] = median_round(baseline_rounds[key])
            run.round_ratios[key] = [
                mine.requests_per_s / theirs.requests_per_s
                for mine, theirs in zip(rounds, baseline_rounds[key], strict=True)
                if theirs.requests_per_s
            ]
        if not self.args.skip_textbook:
            run.textbook = self.textbook(run, seeded, env)
        run.commands.append(next(iter(run.server.values())).command + "   # one per endpoint")
        if not self.args.skip_memory and size in self.args.memory_sizes:
            self.memory(run, seeded)
        return run


def engine_version(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one())
    engine.dispose()
    return f"PostgreSQL {version}"


# ---------------------------------------------------------------- report


def machine() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M)
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    wrk_lines = (wrk.stdout or wrk.stderr).splitlines()
    wrk_version = wrk_lines[0] if wrk_lines else "unknown"
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("granian", "fastapi", "starlette", "pydantic", "sqlalchemy", "psycopg")
    )
    return [
        f"- CPUs (nproc): {os.cpu_count()}; model: {model.group(1) if model else 'unknown'}",
        f"- Memory: {int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "- Memory: unknown",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- wrk: {wrk_version}",
    ]


def median_round(rounds: list[WrkResult]) -> WrkResult:
    """The round with the median requests/s (the lower middle of an even count),
    carrying the errors of every round."""
    ordered = sorted(rounds, key=lambda result: result.requests_per_s)
    return replace(
        ordered[(len(ordered) - 1) // 2],
        non_2xx=sum(result.non_2xx for result in rounds),
        socket_errors=sum(result.socket_errors for result in rounds),
    )


def ratio(a: float, b: float) -> str:
    return _two(a / b if b else None)


def _two(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def table(run: EngineRun) -> list[str]:
    rows = [
        "| endpoint | server req/s | p50 ms | p99 ms | baseline req/s | baseline p50 ms"
        " | ratio | ratio by round | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for endpoint in ENDPOINTS:
        server = run.server.get(endpoint.key)
        if server is None:
            continue
        base = run.baseline.get(endpoint.key)
        errors = []
        for who, result in (("server", server), ("baseline", base)):
            if result is not None and not result.ok:
                errors.append(f"{who}: {result.non_2xx} non-2xx, {result.socket_errors} socket")
        rows.append(
            f"| {endpoint.label} | {server.requests_per_s:,.0f} | {server.p50_ms:.2f}"
            f" | {server.p99_ms:.2f} | {base.requests_per_s if base else 0:,.0f}"
            f" | {base.p50_ms if base else 0:.2f}"
            f" | {_two(run.ratio(endpoint.key))}"
            f" | {' '.join(f'{r:.2f}' for r in run.round_ratios.get(endpoint.key, []))}"
            f" | {'; '.join(errors) or '-'} |"
        )
    if run.textbook is not None:
        server = run.server.get(ENDPOINTS[0].key)
        rows.append("")
        rows.append(
            f"Textbook FastAPI + SQLAlchemy ORM, GET /customers/{{display_id}}:"
            f" {run.textbook.requests_per_s:,.0f} req/s, p50 {run.textbook.p50_ms:.2f} ms,"
            f" p99 {run.textbook.p99_ms:.2f} ms"
            + (
                f"; server / textbook = {ratio(server.requests_per_s, run.textbook.requests_per_s)}"
                if server
                else ""
            )
        )
    rows += [line for note in run.notes for line in ("", note)]
    if run.memory:
        rows.append("")
        rows.append(
            "Server worker VmRSS: "
            + ", ".join(f"{rss / 1024:.1f} MiB after {n:,} requests" for n, rss in run.memory)
            + (
                f" (last / first = {run.memory[-1][1] / run.memory[0][1]:.3f})"
                if len(run.memory) > 1
                else ""
            )
        )
    return rows


def acceptance(run: EngineRun) -> list[str]:
    """The issue's targets, checked against this run's figures."""
    lines = []
    postgres = run.engine == "PostgreSQL"

    def check(name: str, ok: bool, detail: str) -> None:
        lines.append(f"- [{'x' if ok else ' '}] {name}: {detail}")

    def check_ratio(name: str, key: str, floor: float) -> None:
        """A ratio target: fast errors are no pass (non-2xx answers count in wrk's rate)."""
        r = run.ratio(key)
        if r is None:
            return
        results = (run.server.get(key), run.baseline.get(key))
        clean = all(result.ok for result in results if result is not None)
        detail = f"{r:.2f}" + ("" if clean else " (with errors: see the table)")
        check(f"{name} >= {floor} of baseline", r >= floor and clean, detail)

    get = run.server.get("customer_display_id")
    check_ratio("GET customer", "customer_display_id", 0.5 if postgres else 0.3)
    if get:
        check("GET customer p99 < 4x p50", get.p99_ms < 4 * get.p50_ms,
              f"{get.p99_ms / get.p50_ms:.1f}x")  # fmt: skip
    if get and run.textbook:
        if run.textbook.requests_per_s:
            r = get.requests_per_s / run.textbook.requests_per_s
            check("GET customer >= 5x textbook", r >= 5, f"{r:.2f}x")
        else:
            check("GET customer >= 5x textbook", False, "the textbook app answered nothing")
    for key in ("list_first", "list_deepest"):
        check_ratio(key, key, 0.4)
    first, deepest = run.server.get("list_first"), run.server.get("list_deepest")
    if first and deepest:
        r = deepest.p50_ms / first.p50_ms
        check(
            f"deepest page p50 within 1.5x of first page ({run.seeded.customers:,} customers;"
            " the issue asks it at 1,000,000)",
            r <= 1.5,
            f"{r:.2f}x",
        )
    check_ratio("POST customer (insert)", "create_customer", 0.4)
    if len(run.memory) > 1:
        r = run.memory[-1][1] / run.memory[0][1]
        check(
            f"RSS after {run.memory[-1][0]:,} within 10% of after {run.memory[0][0]:,}",
            r <= 1.10,
            f"{r:.3f}",
        )
    return lines


def write_results(args: argparse.Namespace, runs: list[EngineRun], path: Path) -> None:
    out = [
        "# Benchmark results (issue 7)",
        "",
        f"Written by `bench/run.py` on {time.strftime('%Y-%m-%d %H:%M:%S %Z')}. Every figure"
        " below comes from this one run; ratios compare apps measured in the same run.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Command",
        "",
        "```sh",
        " ".join(
            [f"PIVOTAL_BENCH_POSTGRES_URL={os.environ['PIVOTAL_BENCH_POSTGRES_URL']}"]
            if os.environ.get("PIVOTAL_BENCH_POSTGRES_URL")
            else []
        )
        + " make bench BENCH_ARGS="
        + shlex.quote(shlex.join(sys.argv[1:])),
        "```",
        "",
        f"Sizes: {', '.join(args.sizes)} customers (one contact and one onboarding each); wrk"
        f" {args.threads} thread(s), {args.connections} connections, {args.duration} s per"
        f" endpoint and round (a 1 s warm-up before the first); one granian process (one"
        f" worker) per app. Each endpoint runs {args.rounds} rounds of the server and the"
        " baseline back to back, in turns (server first in odd rounds, baseline first in even"
        " ones), as the machine's speed drifts within a run; the figures are each app's median"
        " round, and the ratio is the median of the rounds' ratios (each shown).",
        "",
        "- server: the real app (auth, rate limit, validation, events, activity, logs);",
        "- baseline: bench/baseline.py, a bare ASGI app doing the endpoint's SQL through the"
        " same driver (no auth, no events);",
        "- textbook: bench/textbook.py, FastAPI + SQLAlchemy ORM (sync Session per request,"
        " API-key dependency, response_model from_attributes).",
        "",
    ]
    for run in runs:
        out += [f"## {run.engine} ({run.version}), {run.seeded.customers:,} customers", ""]
        out += [f"Seeded {run.seeded.customers:,} customers in {run.seeded.seconds:.1f} s.", ""]
        out += table(run)
        out += ["", "Acceptance targets (issue 7) against this run:", ""]
        out += acceptance(run)
        out += ["", "Commands:", "", "```sh", *run.commands, "```", ""]
    path.write_text("\n".join(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10k,1m", help=f"comma list of {', '.join(SIZES)} (customers)"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds per endpoint (server and baseline back to back, in turns); the median is kept",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--engines", default="sqlite,postgres", help="comma list; postgres needs the URL"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma list of endpoint keys: " + ",".join(e.key for e in ENDPOINTS),
    )
    parser.add_argument(
        "--memory-requests",
        default="20000,200000",
        help="cumulative request counts at which to read the server's VmRSS",
    )
    parser.add_argument(
        "--memory-seconds", type=int, default=900, help="time bound per memory milestone"
    )
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--memory-sizes", default="10k", help="sizes at which to run the memory check"
    )
    parser.add_argument("--skip-textbook", action="store_true")
    parser.add_argument(
        "--rate-limit-storage",
        default="",
        help="PIVOTAL_RATE_LIMIT_STORAGE for the server (default: its own auto choice)",
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / ".data")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    # A SIGTERM unwinds like Ctrl-C, so every granian this run started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.only = [k for k in args.only.split(",") if k]
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    args.memory_sizes = [s.strip() for s in args.memory_sizes.split(",") if s.strip()]
    if unknown := set(args.sizes) - set(SIZES):
        parser.error(f"unknown size(s): {', '.join(sorted(unknown))}")
    args.memory_requests = sorted(int(n) for n in args.memory_requests.split(",") if n)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    runs: list[EngineRun] = []
    with tempfile.TemporaryDirectory(prefix="pivotal-bench-") as tmp:
        work = Path(tmp)
        runner = Runner(args, work)
        postgres = os.environ.get("PIVOTAL_BENCH_POSTGRES_URL")
        if "postgres" in engines and not postgres:
            print("(set PIVOTAL_BENCH_POSTGRES_URL to measure PostgreSQL too)")
        for size in args.sizes:
            if "sqlite" in engines:
                path = (args.data_dir / f"bench-{size}.db").resolve()
                runs.append(runner.engine("SQLite", f"sqlite:///{path}", size))
            if "postgres" in engines and postgres:
                runs.append(runner.engine("PostgreSQL", postgres, size))
    for run in runs:
        print(f"\n== {run.engine} ({run.version}), {run.seeded.customers:,} customers")
        print("\n".join(table(run)))
        print("\n".join(acceptance(run)))
    write_results(args, runs, args.output)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
