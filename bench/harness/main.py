"""bench/run: sets up what the bench needs, runs the figures of shared/BENCH.md against their
baselines in one run, and prints one table. A figure that cannot be measured gets a row that
says why; the run still exits 0 (CI runs `bench/run --quick` as a smoke, asserting nothing)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from . import (
    figures_capacity,
    figures_hooks,
    figures_latency,
    figures_start,
    figures_translation,
)
from .loadgen import Loadgen, ensure_loadgen
from .nginx import ensure_nginx, nginx_version
from .plan import FULL, QUICK, Context
from .procs import BenchError, Pinning, cpu_model, raise_fd_limit
from .stack import Stack
from .table import Row, fmt_us, median, render

ROOT = Path(__file__).resolve().parents[2]

FIGURES: dict[str, tuple[str, Callable[[Context], list[Row]]]] = {
    "1": ("added latency, unloaded", figures_latency.figure1),
    "2": ("added latency under load", figures_latency.figure2),
    "3": ("max sustained RPS, CPU per request", figures_capacity.figure3),
    "4": ("memory per 1k streams, idle RSS", figures_capacity.figure4),
    "5": ("SSE: first event, gaps, whole streams", figures_latency.figure5),
    "6": ("Python hook cost", figures_hooks.figure6),
    "7": ("cold start", figures_start.figure7),
    "10": ("translation: CPU and added latency", figures_translation.figure10),
}
# Cold start first (a quiet machine), figure 3 before 2 (2 runs at fractions of 3's maximum),
# figure 4 last among the loaded ones (it restarts the gateway).
ORDER = ["7", "1", "3", "2", "5", "10", "4", "6"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="short runs (< 3 minutes): the CI smoke"
    )
    parser.add_argument("--figures", default=",".join(FIGURES), help="comma-separated, e.g. 1,3")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--json", metavar="FILE", help="also write every measurement to FILE")
    parser.add_argument("--keep-temp", action="store_true", help="keep configs and logs of the run")
    args = parser.parse_args(argv)
    args.figures = [f.strip() for f in args.figures.split(",") if f.strip()]
    unknown = [f for f in args.figures if f not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)} (known: {', '.join(FIGURES)})")
    return args


def not_measured(fig: str, reason: str) -> Row:
    return Row(fig, FIGURES[fig][0], "not measured", notes=[f"not measured: {reason}"])


def ensure_aigw() -> None:
    if (ROOT / ".venv" / "bin" / "aigw").exists():
        return
    log("setup: .venv/bin/aigw missing, running scripts/setup (builds the package)")
    done = subprocess.run([str(ROOT / "scripts" / "setup")], stdout=sys.stderr)
    if done.returncode != 0 or not (ROOT / ".venv" / "bin" / "aigw").exists():
        raise BenchError(f"scripts/setup failed ({done.returncode})")


def version_of(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (done.stdout or done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def run_figure(fig: str, ctx: Context) -> list[Row]:
    title, fn = FIGURES[fig]
    log(f"figure {fig}: {title}")
    started = time.monotonic()
    try:
        rows = fn(ctx)
    except BenchError as err:
        rows = [not_measured(fig, str(err))]
    except Exception as err:  # a broken figure must not take the table down with it
        where = traceback.extract_tb(err.__traceback__)[-1]
        rows = [
            not_measured(
                fig, f"{type(err).__name__}: {err} ({Path(where.filename).name}:{where.lineno})"
            )
        ]
    log(f"figure {fig}: {time.monotonic() - started:.0f} s")
    # A process that died under load is a finding; start it again for the figures that follow.
    for name, proc in list(ctx.stack.procs.items()):
        if not proc.alive():
            rows[-1].notes.append(
                f"{name} DIED during figure {fig} (exit {proc.popen.returncode}); "
                f"its log: {proc.log_tail(4)}"
            )
            try:
                ctx.stack.revive(name)
            except BenchError as err:
                rows[-1].notes.append(f"{name} could not be restarted: {err}")
    return rows


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    began = time.monotonic()
    # SIGTERM (CI timeouts) unwinds like Ctrl-C, so every child is stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    fd_limit = raise_fd_limit()
    pin = Pinning(enabled=not args.no_pin)
    load1 = os.getloadavg()[0]
    rows: list[Row] = []
    setup_problem = ""
    nginx_bin: str | None = None
    loadgen_bin: Path | None = None
    try:
        ensure_aigw()
    except BenchError as err:
        setup_problem = str(err)
    if not setup_problem:
        try:
            loadgen_bin = ensure_loadgen(ROOT, log)
        except BenchError as err:
            setup_problem = str(err)
    try:
        nginx_bin = ensure_nginx(log)
    except BenchError as err:
        log(f"setup: {err}")
    tmp = Path(tempfile.mkdtemp(prefix="aigw-bench-"))
    stack = Stack(ROOT, tmp, pin, nginx_bin, log)
    raw: dict[str, object] = {}
    noise = ""
    try:
        if not setup_problem:
            try:
                log(f"setup: starting mock, nginx and gateway ({pin.describe()})")
                stack.start()
            except BenchError as err:
                setup_problem = f"could not start the stack: {err}"
        if setup_problem:
            rows = [not_measured(f, setup_problem) for f in FIGURES if f in args.figures]
        else:
            assert loadgen_bin is not None
            ctx = Context(plan, stack, Loadgen(loadgen_bin, pin.prefix("load")), pin)
            for fig in ORDER:
                if fig in args.figures:
                    rows.extend(run_figure(fig, ctx))
            raw = ctx.raw
            lags = ctx.loadgen.send_lag_p99_us
            if lags:
                noise = (
                    "noise: the load generator's own send lag p99 (actual − intended send "
                    "time) was "
                    f"{fmt_us(median(lags))} median, {fmt_us(max(lags))} worst over {len(lags)} "
                    "open-loop runs; latencies below it are machine noise"
                )
    except KeyboardInterrupt:
        log("interrupted: stopping every process")
        stack.stop()
        return 130
    finally:
        stack.stop()
        if not args.keep_temp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"configs and logs kept in {tmp}")
    rows.sort(key=lambda r: int(r.fig))  # stable: keeps each figure's own row order
    ngx = nginx_version(nginx_bin) if nginx_bin else "not available"
    aigw_version = version_of([str(ROOT / ".venv" / "bin" / "aigw"), "--version"])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"aigw bench ({plan.name}) — {now} — {aigw_version}, nginx {ngx}, "
        f"Python {platform.python_version()}",
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs, allowed "
        f"{sorted(os.sched_getaffinity(0))}, load average {load1:.1f} at start, "
        f"fd limit {fd_limit}",
        f"pinning: {pin.describe()}",
        f"method: median of {plan.runs} runs unless noted (± half the spread across runs); "
        "latencies from the intended send time; 'vs baseline' is gateway − baseline for times, "
        "gateway / baseline for rates",
    ]
    if noise:
        header.append(noise)
    if load1 > len(os.sched_getaffinity(0)) * 0.5:
        header.append(
            f"warning: the machine was busy (load average {load1:.1f} on "
            f"{len(os.sched_getaffinity(0))} CPUs): pinned processes wait behind other work, so "
            "tails are the machine's; compare with --no-pin"
        )
    print(render(rows, header), flush=True)
    log(f"bench finished in {time.monotonic() - began:.0f} s")
    if args.json:
        doc = {
            "plan": plan.__dict__,
            "header": header,
            "rows": [r.__dict__ for r in rows],
            "raw": raw,
        }
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str))
    return 0
