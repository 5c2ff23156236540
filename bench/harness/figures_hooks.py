"""Figure 6: what a Python guardrail costs. Figures 1 and 3 again, the plain gateway against
the same gateway with one guardrail: first a no-op async one, then a realistic one (a regex
and a phrase list over every text of the request)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .figures_capacity import Contender, _closed
from .plan import Context
from .procs import ManagedProcess, cpu_seconds, free_port, wait_ready
from .results import pct
from .stack import chat_body
from .table import Row, fmt_added_us, fmt_rps, fmt_us, median, spread, verdict

FIG6_ADDED_P50_US = 40.0
FIG6_THROUGHPUT_SHARE = 0.5
SCRIPT = Path(__file__).with_name("hooked_gateway.py")


def _start_hooked(ctx: Context, kind: str) -> tuple[ManagedProcess, int]:
    port = free_port()
    python = str(ctx.stack.root / ".venv" / "bin" / "python")
    conf = ctx.stack.tmp / "gateway.json"  # the running stack's config, on another port
    argv = [*ctx.pin.prefix("proxy"), python, str(SCRIPT), str(conf), str(port), kind]
    proc = ManagedProcess(f"gateway-hooked-{kind}", argv, ctx.stack.tmp)
    wait_ready(port, proc, timeout=30)
    return proc, port


def _unloaded(ctx: Context, plain: str, hooked: str) -> list[dict[str, Any]]:
    p = ctx.plan
    base = ["--warmup", f"{p.warmup_s}s", "--timeout", "5s", "--body", chat_body()]
    ctx.loadgen.run(["--requests", "1000", *base, plain, hooked])  # warm-up, discarded
    return [
        ctx.loadgen.run(["--requests", str(2 * p.fig1_requests), *base, plain, hooked])
        for _ in range(p.runs)
    ]


def _one(ctx: Context, kind: str) -> list[Row]:
    proc, port = _start_hooked(ctx, kind)
    try:
        plain_url = ctx.stack.url("gateway")
        hooked_url = f"http://127.0.0.1:{port}/v1/chat/completions"
        runs = _unloaded(ctx, plain_url, hooked_url)
        added = [pct(r["targets"][1], "p50") - pct(r["targets"][0], "p50") for r in runs]
        added99 = [pct(r["targets"][1], "p99") - pct(r["targets"][0], "p99") for r in runs]
        plain = Contender("gateway", plain_url, chat_body(), lambda: [ctx.stack.gateway_pid()])
        hooked = Contender(f"hooked-{kind}", hooked_url, chat_body(), lambda: [proc.pid])
        for c in (plain, hooked):
            _closed(ctx, c, 0.5)  # warm-up
        rps: dict[str, list[float]] = {"plain": [], "hooked": []}
        cpu: list[float] = []
        for _ in range(ctx.plan.runs):
            t, _ = _closed(ctx, plain, ctx.plan.fig3_closed_s)
            rps["plain"].append(t["rps"])
            before = cpu_seconds([proc.pid])
            t, _ = _closed(ctx, hooked, ctx.plan.fig3_closed_s)
            rps["hooked"].append(t["rps"])
            cpu.append((cpu_seconds([proc.pid]) - before) * 1e6 / max(t["sent"], 1))
    finally:
        proc.stop()
    share = median(rps["hooked"]) / median(rps["plain"]) if median(rps["plain"]) else float("nan")
    ctx.raw[f"fig6_{kind}"] = {"unloaded": runs, "closed_rps": rps, "cpu_us": cpu}
    ctx.log(
        f"fig 6 {kind}: added p50 {median(added):.1f} µs, closed loop "
        f"{median(rps['hooked']):.0f}/s vs {median(rps['plain']):.0f}/s ({share:.2f}×)"
    )
    label = "no-op async guardrail" if kind == "noop" else "realistic guardrail (regex + phrases)"
    target_p50 = f"≤ +{FIG6_ADDED_P50_US:.0f} µs" if kind == "noop" else "—"
    target_share = f"≥ {FIG6_THROUGHPUT_SHARE:.0%} of plain" if kind == "noop" else "—"
    notes = [
        "same gateway config with and without one Python guardrail (aigw.Gateway in a Python "
        "process, pinned like the gateway); unloaded A/B interleaved as figure 1, "
        f"throughput = closed loop {ctx.plan.fig3_closed_s:g} s × {ctx.plan.runs} like figure 3, "
        "against the mock upstream; CPU of the hooked process includes the interpreter"
    ]
    return [
        Row(
            "6",
            f"{label}: added p50 / p99",
            f"{fmt_us(median([pct(r['targets'][1], 'p50') for r in runs]))}",
            f"{fmt_us(median([pct(r['targets'][0], 'p50') for r in runs]))} (no hook)",
            f"{fmt_added_us(median(added), spread(added) if len(added) > 1 else None)} / "
            f"{fmt_added_us(median(added99), None)}",
            target_p50,
            verdict(median(added) <= FIG6_ADDED_P50_US) if kind == "noop" else "—",
            notes,
        ),
        Row(
            "6",
            f"{label}: closed-loop max, CPU/req",
            f"{fmt_rps(median(rps['hooked']))}, {median(cpu):.1f} µs",
            f"{fmt_rps(median(rps['plain']))} (no hook)",
            f"{share:.2f}×",
            target_share,
            verdict(share >= FIG6_THROUGHPUT_SHARE) if kind == "noop" else "—",
            notes,
        ),
    ]


def figure6(ctx: Context) -> list[Row]:
    rows: list[Row] = []
    for kind in ("noop", "realistic"):
        try:
            rows.extend(_one(ctx, kind))
        except Exception as exc:  # one row that says why; the run goes on
            print(f"fig 6 {kind} failed: {exc}", file=sys.stderr)
            rows.append(
                Row("6", f"Python hook cost ({kind})", f"n/a ({exc})", "—", "—", "—", "n/a", [])
            )
    return rows
