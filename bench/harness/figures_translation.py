"""Figure 10: what translation costs. One gateway, one `aigw mock`, two routes that differ only in
their provider's kind: `openai` (request and answer relayed) and `anthropic` (the request encoded
OpenAI → Anthropic, the answer decoded back, whole or event by event). Added latency A/B request by
request, and the gateway's CPU per request at a fixed rate far below its capacity."""

from __future__ import annotations

import json
from typing import Any

from .loadgen import open_loop_args
from .plan import Context
from .procs import BenchError, cpu_ns, http_post
from .results import clean, error_summary, pct
from .stack import CHAT_PATH, MESSAGES_PATH, TRANSLATED_MODEL, UNTRANSLATED_MODEL, chat_body
from .table import Row, fmt_added_us, fmt_us, median, spread, verdict

FIG10_TARGET_CPU_US = 5.0  # per non-streamed request
FIG10_TARGET_EVENT_CPU_US = 1.0  # per streamed event
FIG10_CHUNKS = 64
# What the client gets on either route: role chunk, 64 content chunks, finish chunk, [DONE].
FIG10_EVENTS = FIG10_CHUNKS + 3
FIG10_RATE = 1000.0  # requests/s of the CPU runs: a few % of figure 3's maximum
FIG10_STREAM_RATE = 100.0  # streams/s of the CPU runs (~6.7k events/s)
FIG10_CONNECTIONS = 32
# The whole stream at once: what is left of time to last event is the gateway's work per event.
STREAM_ARGS = [
    "--sse-events",
    str(FIG10_EVENTS),
    "--header",
    f"x-mock-chunks: {FIG10_CHUNKS}",
    "--header",
    "x-mock-chunk-delay-ms: 0",
]


def messages_body() -> str:
    """The Anthropic request the gateway's encoder makes of chat_body(): for the mock direct."""
    doc = {
        "model": TRANSLATED_MODEL,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Say hello."}],
    }
    return json.dumps(doc, separators=(",", ":"))


def _probe(ctx: Context) -> bool:
    """Fails the figure when the translated route does not answer; returns whether the mock
    answers Anthropic's Messages direct (its own share is measured only then)."""
    port = ctx.stack.ports["gateway"]
    status, body = http_post(port, CHAT_PATH, chat_body(TRANSLATED_MODEL))
    if status != 200 or b'"chat.completion"' not in body:
        raise BenchError(f"the translated route answered {status}: {body[:200]!r}")
    status, body = http_post(ctx.stack.ports["mock"], MESSAGES_PATH, messages_body())
    return status == 200 and b'"type":"message"' in body


def _ab(ctx: Context, count: int, pairs: list[tuple[str, str]], extra: list[str]) -> list[Any]:
    """Runs the (url, body) targets in turn, one request at a time: a discarded warm-up run,
    then `runs` runs; returns each run's targets."""
    args = ["--warmup", f"{ctx.plan.warmup_s}s", "--timeout", "5s", *extra]
    for _url, body in pairs:
        args += ["--body", body]
    urls = [url for url, _body in pairs]
    ctx.loadgen.run(["--requests", str(min(count, 200) * len(pairs)), *args, *urls])
    return [
        ctx.loadgen.run(["--requests", str(count * len(pairs)), *args, *urls])["targets"]
        for _ in range(ctx.plan.runs)
    ]


def _added(runs: list[Any], a: int, b: int, name: str) -> tuple[float, float, float, float | None]:
    """Median of target a, of target b, of a − b per run, and the spread of a − b."""
    xs = [pct(r[a], name) for r in runs]
    ys = [pct(r[b], name) for r in runs]
    diffs = [x - y for x, y in zip(xs, ys, strict=True)]
    return median(xs), median(ys), median(diffs), spread(diffs) if len(diffs) > 1 else None


def _latency_row(runs: list[Any], a: int, b: int, metric: str, notes: list[str]) -> Row:
    p50, p99 = _added(runs, a, b, "p50"), _added(runs, a, b, "p99")
    return Row(
        "10",
        metric,
        f"{fmt_us(p50[0])} / {fmt_us(p99[0])}",
        f"{fmt_us(p50[1])} / {fmt_us(p99[1])}",
        f"{fmt_added_us(p50[2], p50[3])} / {fmt_added_us(p99[2], p99[3])}",
        "—",
        "—",
        notes,
    )


def _errors(label: str, targets: list[dict[str, Any]]) -> list[str]:
    found = [error_summary(t) for t in targets if not clean(t)]
    return [f"{label}: {'; '.join(s or 'not all answered' for s in found)}"] if found else []


def _latency(ctx: Context, direct_messages: bool) -> list[Row]:
    p = ctx.plan
    gw = ctx.stack.url("gateway")
    pairs = [(gw, chat_body(TRANSLATED_MODEL)), (gw, chat_body(UNTRANSLATED_MODEL))]
    if direct_messages:
        pairs += [
            (ctx.stack.url("mock", MESSAGES_PATH), messages_body()),
            (ctx.stack.url("mock"), chat_body(UNTRANSLATED_MODEL)),
        ]
    runs = _ab(ctx, p.fig10_requests, pairs, [])
    streams = _ab(
        ctx,
        p.fig10_streams,
        [(gw, chat_body(TRANSLATED_MODEL, True)), (gw, chat_body(UNTRANSLATED_MODEL, True))],
        STREAM_ARGS,
    )
    ctx.raw["fig10"] = {"latency": runs, "stream_latency": streams}
    for i, r in enumerate(runs):
        ctx.log(
            f"fig 10 run {i + 1}: translated p50 {pct(r[0], 'p50'):.1f} p99 "
            f"{pct(r[0], 'p99'):.1f} µs; untranslated p50 {pct(r[1], 'p50'):.1f} p99 "
            f"{pct(r[1], 'p99'):.1f} µs"
        )
    notes = [
        f"{p.fig10_requests} requests per target per run, one at a time, A/B interleaved "
        f"(routes {TRANSLATED_MODEL}: kind anthropic, {UNTRANSLATED_MODEL}: kind openai, "
        "same aigw mock)",
        *_errors("translated route errors", [r[0] for r in runs]),
        *_errors("untranslated route errors", [r[1] for r in runs]),
    ]
    rows = [_latency_row(runs, 0, 1, "translation: added latency p50 / p99", notes)]
    if direct_messages:
        notes.append(
            "the upstream's share: the mock answering Messages (it encodes its answer into "
            "Anthropic's shape) vs chat, direct, interleaved in the same runs — the gateway's "
            "own added latency is the difference of the two rows"
        )
        rows.append(_latency_row(runs, 2, 3, "  upstream's share (mock direct)", notes))
    else:
        notes.append("the mock did not answer /v1/messages direct: its own share not measured")
    stream_notes = [
        f"{p.fig10_streams} streams per route per run, one at a time, A/B interleaved; "
        f"{FIG10_CHUNKS} chunks with no delay (the whole stream at once), time to the last "
        f"event; includes the mock encoding its stream into Anthropic's events",
        *_errors("translated streams", [r[0] for r in streams]),
        *_errors("untranslated streams", [r[1] for r in streams]),
    ]
    row = _latency_row(
        streams,
        0,
        1,
        f"translation: added time to last event p50 / p99 ({FIG10_CHUNKS} chunks)",
        stream_notes,
    )
    per_event = _added(streams, 0, 1, "p50")[2] / FIG10_CHUNKS
    stream_notes.append(
        f"added time to last event p50 per content event: {fmt_added_us(per_event)}"
    )
    return [*rows, row]


def _cpu_run(
    ctx: Context, body: str, rate: float, extra: list[str], seconds: float
) -> tuple[float, Any]:
    """One open-loop run on one route; the gateway's CPU µs per request sent (warm-up included:
    it is on CPU too) and the loadgen target."""
    pid = ctx.stack.gateway_pid()
    args = [
        *open_loop_args(rate, FIG10_CONNECTIONS, seconds, ctx.plan.warmup_s, 5.0),
        *extra,
        "--body",
        body,
        ctx.stack.url("gateway"),
    ]
    before = cpu_ns(pid)
    target = ctx.loadgen.run(args)["targets"][0]
    used_us = (cpu_ns(pid) - before) / 1000
    return (used_us / target["sent"] if target["sent"] else float("nan")), target


def _cpu_pairs(
    ctx: Context, stream: bool, rate: float, extra: list[str]
) -> tuple[list[float], list[float], list[str]]:
    """Translated and untranslated runs alternated (ABBA, so a drift hits both alike); returns
    CPU µs per request of each, paired by round, and error notes."""
    bodies = {
        "translated": chat_body(TRANSLATED_MODEL, stream),
        "untranslated": chat_body(UNTRANSLATED_MODEL, stream),
    }
    for body in bodies.values():  # warm-up, discarded
        _cpu_run(ctx, body, rate, extra, 1.0)
    cpu: dict[str, list[float]] = {name: [] for name in bodies}
    targets: dict[str, list[Any]] = {name: [] for name in bodies}
    for i in range(max(ctx.plan.runs, 3)):
        order = list(bodies) if i % 2 == 0 else list(reversed(bodies))
        for name in order:
            us, target = _cpu_run(ctx, bodies[name], rate, extra, ctx.plan.fig10_cpu_s)
            cpu[name].append(us)
            targets[name].append(target)
        ctx.log(
            f"fig 10 CPU {'streamed' if stream else 'whole'} round {i + 1}: translated "
            f"{cpu['translated'][-1]:.1f} µs, untranslated {cpu['untranslated'][-1]:.1f} µs "
            "per request"
        )
    ctx.raw.setdefault("fig10", {})[f"cpu_{'stream' if stream else 'whole'}"] = {
        "cpu_us": cpu,
        "targets": targets,
    }
    kind = "streams" if stream else "requests"
    errors = _errors(f"translated {kind}", targets["translated"]) + _errors(
        f"untranslated {kind}", targets["untranslated"]
    )
    return cpu["translated"], cpu["untranslated"], errors


def _cpu(ctx: Context) -> list[Row]:
    p = ctx.plan
    t, u, errors = _cpu_pairs(ctx, False, FIG10_RATE, [])
    diffs = [a - b for a, b in zip(t, u, strict=True)]
    notes = [
        f"gateway CPU (all threads, schedstat ns) per request sent, open loop at "
        f"{FIG10_RATE:.0f} requests/s ({FIG10_STREAM_RATE:.0f} streams/s) × "
        f"{p.fig10_cpu_s:g} s per run, routes alternated ABBA over {len(diffs)} rounds",
        *errors,
    ]
    rows = [
        Row(
            "10",
            "translation: CPU per request",
            f"{fmt_us(median(t))} ±{fmt_us(spread(t) / 2)}",
            f"{fmt_us(median(u))} ±{fmt_us(spread(u) / 2)}",
            fmt_added_us(median(diffs), spread(diffs)),
            f"≤ +{FIG10_TARGET_CPU_US:.0f} µs",
            verdict(None if errors else median(diffs) <= FIG10_TARGET_CPU_US),
            notes,
        )
    ]
    ts, us, errors = _cpu_pairs(ctx, True, FIG10_STREAM_RATE, STREAM_ARGS)
    per_event = [(a - b) / FIG10_CHUNKS for a, b in zip(ts, us, strict=True)]
    notes.extend(errors)
    notes.append(
        f"per streamed event = (translated − untranslated CPU per stream) / {FIG10_CHUNKS} "
        "content events (the request's own translation and the stream's first and last events "
        "are counted in it too)"
    )
    rows.append(
        Row(
            "10",
            "translation: CPU per streamed event",
            f"{fmt_us(median(ts))} / stream",
            f"{fmt_us(median(us))} / stream",
            f"{fmt_added_us(median(per_event), spread(per_event))} / event",
            f"≤ +{FIG10_TARGET_EVENT_CPU_US:.0f} µs / event",
            verdict(None if errors else median(per_event) <= FIG10_TARGET_EVENT_CPU_US),
            notes,
        )
    )
    if any(r.result == "—" for r in rows):
        notes.append("not judged where a route had errors: their requests cost less CPU")
    return rows


def figure10(ctx: Context) -> list[Row]:
    direct_messages = _probe(ctx)
    return [*_latency(ctx, direct_messages), *_cpu(ctx)]
