"""Numbers to text: medians and spreads, units, and the one table bench/run prints."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Row:
    fig: str
    metric: str
    gateway: str = "—"
    baseline: str = "—"
    compare: str = "—"
    target: str = "—"
    result: str = "—"
    notes: list[str] = field(default_factory=list)


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def spread(values: list[float]) -> float:
    return max(values) - min(values) if values else 0.0


def fmt_us(us: float) -> str:
    if us != us:  # NaN
        return "—"
    if abs(us) >= 10000:
        return f"{us / 1000:.1f} ms"
    if abs(us) >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.1f} µs"


def fmt_added_us(us: float, sp: float | None = None) -> str:
    text = ("+" if us >= 0 else "−") + fmt_us(abs(us))
    if sp is not None:
        text += f" ±{fmt_us(sp / 2)}"
    return text


def fmt_rps(rps: float) -> str:
    if rps >= 10000:
        return f"{rps / 1000:.1f}k/s"
    if rps >= 1000:
        return f"{rps / 1000:.2f}k/s"
    return f"{rps:.0f}/s"


def fmt_mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "—"
    return "met" if ok else "MISSED"


def render(rows: list[Row], header: list[str]) -> str:
    cols = ["fig", "metric", "gateway", "baseline", "vs baseline", "target", "result"]
    data = [[r.fig, r.metric, r.gateway, r.baseline, r.compare, r.target, r.result] for r in rows]
    widths = [
        max(len(c), *(len(d[i]) for d in data)) if data else len(c) for i, c in enumerate(cols)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    out = list(header)
    out.append("")
    out.append(line(cols))
    out.append(line(["-" * w for w in widths]))
    notes: list[str] = []
    last_fig = None
    for r, d in zip(rows, data, strict=True):
        if last_fig is not None and r.fig != last_fig:
            out.append("")
        last_fig = r.fig
        out.append(line(d))
        for n in r.notes:
            if f"[{r.fig}] {n}" not in notes:
                notes.append(f"[{r.fig}] {n}")
    if notes:
        out.append("")
        out.append("notes:")
        out.extend("  " + n for n in notes)
    return "\n".join(out)
