"""Figures 1, 2 and 5: latency the gateway adds over going direct to the mock, unloaded, under
open-loop load, and for SSE streams (time to first event, gaps, lost chunks)."""

from __future__ import annotations

from typing import Any

from .plan import Context
from .procs import BenchError
from .results import clean, error_summary, pct
from .stack import chat_body
from .table import Row, fmt_added_us, fmt_rps, fmt_us, median, spread, verdict

FIG1_TARGET_P99_US = 100.0
FIG5_TARGET_TTFT_P99_US = 150.0
FIG2_MOCK_DELAY_MS = 20
FIG5_CHUNKS = 64
FIG5_CHUNK_DELAY_MS = 20
FIG5_EVENTS = FIG5_CHUNKS + 3  # role chunk, 64 content chunks, finish chunk, [DONE]


def _errors_note(label: str, targets: list[dict[str, Any]]) -> list[str]:
    found = [error_summary(t) for t in targets if error_summary(t)]
    return [f"{label}: {'; '.join(found)}"] if found else []


def figure1(ctx: Context) -> list[Row]:
    """One request at a time, gateway and direct interleaved request by request."""
    p = ctx.plan
    urls = [ctx.stack.url("gateway"), ctx.stack.url("mock")]
    base = ["--warmup", f"{p.warmup_s}s", "--timeout", "5s", "--body", chat_body()]
    ctx.loadgen.run(["--requests", "1000", *base, *urls])  # warm-up run, discarded
    runs = []
    for i in range(p.runs):
        runs.append(ctx.loadgen.run(["--requests", str(2 * p.fig1_requests), *base, *urls]))
        gw, direct = runs[-1]["targets"]
        ctx.log(
            f"fig 1 run {i + 1}: gateway p50 {pct(gw, 'p50'):.1f} p99 {pct(gw, 'p99'):.1f} µs; "
            f"direct p50 {pct(direct, 'p50'):.1f} p99 {pct(direct, 'p99'):.1f} µs"
        )
    ctx.raw["fig1"] = runs
    gws = [r["targets"][0] for r in runs]
    directs = [r["targets"][1] for r in runs]
    errors = _errors_note("gateway errors", gws) + _errors_note("direct errors", directs)
    notes = [
        *errors,
        f"{p.fig1_requests} requests per target per run, one at a time, A/B interleaved",
    ]
    rows = []
    for name in ("p50", "p99"):
        g = [pct(t, name) for t in gws]
        d = [pct(t, name) for t in directs]
        added = [a - b for a, b in zip(g, d, strict=True)]
        is_p99 = name == "p99"
        ok = median(added) <= FIG1_TARGET_P99_US and not errors if is_p99 else None
        rows.append(
            Row(
                "1",
                f"added latency {name}, unloaded",
                fmt_us(median(g)),
                fmt_us(median(d)),
                fmt_added_us(median(added), spread(added) if len(added) > 1 else None),
                f"≤ +{FIG1_TARGET_P99_US:.0f} µs" if is_p99 else "—",
                verdict(ok),
                notes,
            )
        )
    return rows


def _fig2_rates(ctx: Context) -> list[tuple[str, float]]:
    rates = [("1k RPS", 1000.0), ("5k RPS", 5000.0), ("10k RPS", 10000.0)]
    top = ctx.shared.get("fig3_sustained_rps") or ctx.shared.get("fig3_closed_rps")
    if top:
        ctx.shared["fig2_max_source"] = (
            "figure 3's max sustained rate"
            if ctx.shared.get("fig3_sustained_rps")
            else "figure 3's closed-loop max (no sustained rate was found)"
        )
        for share in (0.5, 0.8, 0.95):
            rates.append((f"{share:.0%} max ({fmt_rps(share * top)})", share * top))
    return rates


def figure2(ctx: Context) -> list[Row]:
    p = ctx.plan
    header = f"x-mock-latency-ms: {FIG2_MOCK_DELAY_MS}"
    rows = []
    raw: dict[str, Any] = {}
    rates = _fig2_rates(ctx)
    for label, rate in rates:
        # In flight ≈ rate × 20 ms; leave room for bursts so connections are not the limit.
        conns = max(64, min(2000, int(rate * FIG2_MOCK_DELAY_MS / 1000 * 3) + 32))
        args = [
            "--rate",
            f"{rate:.1f}",
            "--connections",
            str(conns),
            "--duration",
            f"{p.fig2_duration_s}s",
            "--warmup",
            f"{p.warmup_s}s",
            "--timeout",
            "5s",
            "--drain",
            "5s",
            "--body",
            chat_body(),
            "--header",
            header,
        ]
        gws, directs = [], []
        for _ in range(p.fig2_runs):
            gws.append(ctx.loadgen.run([*args, ctx.stack.url("gateway")])["targets"][0])
            directs.append(ctx.loadgen.run([*args, ctx.stack.url("mock")])["targets"][0])
        raw[label] = {"rate": rate, "gateway": gws, "direct": directs}
        names = ("p50", "p99", "p99.9")
        g = {n: median([pct(t, n) for t in gws]) for n in names}
        d = {n: median([pct(t, n) for t in directs]) for n in names}
        added = {
            n: median([pct(a, n) - pct(b, n) for a, b in zip(gws, directs, strict=True)])
            for n in names
        }
        ctx.log(
            f"fig 2 {label}: added p50 {added['p50']:.0f} p99 {added['p99']:.0f} "
            f"p99.9 {added['p99.9']:.0f} µs; gateway {median([t['rps'] for t in gws]):.0f}/s ok"
        )
        notes = _errors_note(f"{label} gateway errors", gws) + _errors_note(
            f"{label} direct errors", directs
        )
        achieved = median([t["rps"] for t in gws])
        if achieved < 0.98 * rate:
            notes.append(
                f"{label}: gateway answered only {fmt_rps(achieved)} of {fmt_rps(rate)} "
                "in the window"
            )
        rows.append(
            Row(
                "2",
                f"added p50/p99/p99.9 @ {label}",
                " / ".join(fmt_us(g[n]) for n in names),
                " / ".join(fmt_us(d[n]) for n in names),
                " / ".join(fmt_added_us(added[n]) for n in names),
                "—",
                "—",
                notes,
            )
        )
    ctx.raw["fig2"] = raw
    if len(rates) == 3:
        rows[-1].notes.append("50/80/95 % of max skipped: figure 3 did not run or found no maximum")
    else:
        rows[-1].notes.append(f"max = {ctx.shared['fig2_max_source']}")
    rows[0].notes.append(
        f"open loop, {FIG2_MOCK_DELAY_MS} ms mock delay, {p.fig2_duration_s:g} s × "
        f"{p.fig2_runs} run(s) per point; latency from the intended send time"
    )
    return rows


def figure5(ctx: Context) -> list[Row]:
    p = ctx.plan
    conns = int(p.fig5_rate * (FIG5_CHUNKS * FIG5_CHUNK_DELAY_MS / 1000 + 0.5) * 2) + 16
    args = [
        "--rate",
        f"{p.fig5_rate}",
        "--connections",
        str(conns),
        "--duration",
        f"{p.fig5_duration_s}s",
        "--warmup",
        f"{max(p.warmup_s, 1.0)}s",
        "--timeout",
        "10s",
        "--drain",
        "5s",
        "--sse-events",
        str(FIG5_EVENTS),
        "--body",
        chat_body(stream=True),
        "--header",
        f"x-mock-chunks: {FIG5_CHUNKS}",
        "--header",
        f"x-mock-chunk-delay-ms: {FIG5_CHUNK_DELAY_MS}",
    ]
    gws, directs = [], []
    for _ in range(p.fig5_runs):
        gws.append(ctx.loadgen.run([*args, ctx.stack.url("gateway")])["targets"][0])
        directs.append(ctx.loadgen.run([*args, ctx.stack.url("mock")])["targets"][0])
    ctx.raw["fig5"] = {"gateway": gws, "direct": directs}
    if not any(t["sse"]["ttfe_us"]["count"] for t in gws):
        raise BenchError(f"no stream through the gateway got an event ({error_summary(gws[0])})")

    def added(name: str, key: str) -> tuple[float, float, float, float | None]:
        g = [pct(t, name, key) for t in gws]
        d = [pct(t, name, key) for t in directs]
        diffs = [a - b for a, b in zip(g, d, strict=True)]
        return median(g), median(d), median(diffs), spread(diffs) if len(diffs) > 1 else None

    notes = _errors_note("gateway", gws) + _errors_note("direct", directs)
    notes.append(
        f"{FIG5_CHUNKS} chunks {FIG5_CHUNK_DELAY_MS} ms apart, {p.fig5_rate:g} streams/s "
        f"open loop, {p.fig5_duration_s:g} s × {p.fig5_runs} run(s); "
        "first event = the role chunk"
    )
    rows = []
    for name in ("p50", "p99"):
        g, d, a, s = added(name, "ttfe_us")
        ok = (a <= FIG5_TARGET_TTFT_P99_US) if name == "p99" else None
        rows.append(
            Row(
                "5",
                f"added time to first event {name}",
                fmt_us(g),
                fmt_us(d),
                fmt_added_us(a, s),
                f"≤ +{FIG5_TARGET_TTFT_P99_US:.0f} µs" if name == "p99" else "—",
                verdict(ok),
                notes,
            )
        )
    g, d, a, s = added("p99", "gap_us")
    rows.append(
        Row(
            "5",
            "added inter-chunk gap p99",
            fmt_us(g),
            fmt_us(d),
            fmt_added_us(a, s),
            "—",
            "—",
            notes,
        )
    )
    g_ok = sum(t["sse"]["streams_ok"] for t in gws)
    g_all = sum(t["measured"] for t in gws)
    d_ok = sum(t["sse"]["streams_ok"] for t in directs)
    d_all = sum(t["measured"] for t in directs)
    intact = all(t["sse"]["lost"] == 0 and t["sse"]["malformed"] == 0 for t in gws) and all(
        clean(t) for t in gws
    )
    rows.append(
        Row(
            "5",
            "streams whole (no chunk lost/merged)",
            f"{g_ok}/{g_all}",
            f"{d_ok}/{d_all}",
            "—",
            "all whole",
            verdict(intact and g_all > 0),
            notes,
        )
    )
    return rows
