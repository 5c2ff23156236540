"""How long and how often each figure runs (full and --quick), and what figures share."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from .loadgen import Loadgen
from .procs import Pinning
from .stack import Stack


@dataclass(frozen=True)
class Plan:
    name: str
    runs: int  # measured runs per point (median and spread); a warm-up run is discarded
    warmup_s: float  # inside each loadgen run: sent, not recorded
    fig1_requests: int  # per target (gateway and direct interleaved)
    fig2_duration_s: float
    fig2_runs: int
    fig3_closed_s: float  # closed-loop maximum runs
    fig3_probe_s: float  # open-loop probes of the sustained-rate search
    fig3_probe_steps: int
    fig3_confirm_s: float
    fig4_levels: tuple[int, ...]
    fig4_hold_s: float  # streams held after all are open
    fig5_rate: float  # streams started per second
    fig5_duration_s: float
    fig5_runs: int
    fig7_import_runs: int
    fig7_serve_runs: int
    fig10_requests: int  # per target, one at a time (both routes and the mock direct, A/B)
    fig10_streams: int  # per route, one at a time
    fig10_cpu_s: float  # each fixed-rate CPU run


FULL = Plan(
    name="full",
    runs=3,
    warmup_s=1.0,
    fig1_requests=20000,
    fig2_duration_s=5.0,
    fig2_runs=3,
    fig3_closed_s=5.0,
    fig3_probe_s=3.0,
    fig3_probe_steps=6,
    fig3_confirm_s=5.0,
    fig4_levels=(1000, 2000, 4000),
    fig4_hold_s=3.0,
    fig5_rate=50.0,
    fig5_duration_s=10.0,
    fig5_runs=3,
    fig7_import_runs=9,
    fig7_serve_runs=5,
    fig10_requests=5000,
    fig10_streams=500,
    fig10_cpu_s=5.0,
)

QUICK = Plan(
    name="quick",
    runs=3,
    warmup_s=0.3,
    fig1_requests=1500,
    fig2_duration_s=1.5,
    fig2_runs=1,
    fig3_closed_s=1.5,
    fig3_probe_s=1.0,
    fig3_probe_steps=4,
    fig3_confirm_s=1.5,
    fig4_levels=(1000,),
    fig4_hold_s=1.0,
    fig5_rate=20.0,
    fig5_duration_s=3.0,
    fig5_runs=1,
    fig7_import_runs=3,
    fig7_serve_runs=3,
    fig10_requests=800,
    fig10_streams=100,
    fig10_cpu_s=1.0,
)

P99_BUDGET_US = 5000.0  # figure 3: the highest rate whose p99 stays under this, with no errors


@dataclass
class Context:
    plan: Plan
    stack: Stack
    loadgen: Loadgen
    pin: Pinning
    raw: dict[str, Any] = field(default_factory=dict)  # everything measured, for --json
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. figure 3's max for figure 2

    def log(self, message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)
