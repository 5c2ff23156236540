"""Reading aigw-loadgen's JSON: one target's numbers, its errors in words."""

from __future__ import annotations

from typing import Any


def error_summary(target: dict[str, Any]) -> str:
    """'' when clean, else e.g. 'status=12 (last 503), timeout=1, unfinished=3'."""
    parts = [f"{kind}={n}" for kind, n in target["errors"].items() if n]
    if target["errors"].get("status") and target.get("last_bad_status"):
        parts = [
            p + f" (last {target['last_bad_status']})" if p.startswith("status=") else p
            for p in parts
        ]
    if target.get("unfinished"):
        parts.append(f"unfinished={target['unfinished']}")
    sse = target.get("sse")
    if sse and (sse["lost"] or sse["malformed"]):
        parts.append(f"streams lost={sse['lost']} malformed={sse['malformed']}")
    return ", ".join(parts)


def clean(target: dict[str, Any]) -> bool:
    return not error_summary(target) and target["ok"] == target["measured"]


def pct(target: dict[str, Any], name: str, key: str = "latency_us") -> float:
    hist = target["sse"][key] if key in ("ttfe_us", "gap_us") else target[key]
    return float(hist[name])
