"""Builds aigw-loadgen (bench/loadgen*) with CMake when needed, and runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .procs import BenchError

BUILD_DIR = "build/bench"


def _newest_source(root: Path) -> float:
    bench = root / "bench"
    files = [bench / "CMakeLists.txt", bench / "loadgen.cc", *(bench / "loadgen").glob("*")]
    return max(f.stat().st_mtime for f in files if f.exists())


def ensure_loadgen(root: Path, log: Callable[[str], None]) -> Path:
    """A Release build of the load generator only (no C++ core, no Python module)."""
    build = root / BUILD_DIR
    binary = build / "bench" / "aigw-loadgen"
    if binary.exists() and binary.stat().st_mtime >= _newest_source(root):
        return binary
    if shutil.which("cmake") is None:
        raise BenchError("cmake not found (scripts/setup installs it)")
    log("setup: building aigw-loadgen")
    if not (build / "CMakeCache.txt").exists():
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        cmd = [
            "cmake",
            "-S",
            str(root),
            "-B",
            str(build),
            *gen,
            "-DCMAKE_BUILD_TYPE=Release",
            "-DAIGW_BUILD_PYTHON=OFF",
            "-DAIGW_BUILD_TESTS=OFF",
            "-DAIGW_BUILD_BENCH=ON",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"cmake configure failed: {done.stdout[-400:]}{done.stderr[-400:]}")
    done = subprocess.run(
        ["cmake", "--build", str(build), "--target", "aigw_loadgen"], capture_output=True, text=True
    )
    if done.returncode != 0 or not binary.exists():
        raise BenchError(f"building aigw-loadgen failed: {done.stdout[-800:]}{done.stderr[-400:]}")
    return binary


def open_loop_args(
    rate: float, connections: int, seconds: float, warmup_s: float, timeout_s: float
) -> list[str]:
    """Open loop at `rate` requests/s over `connections`, measured for `seconds` after a warm-up;
    answers are waited for as long as the per-request timeout after the window."""
    return [
        "--rate",
        f"{rate:.1f}",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--warmup",
        f"{warmup_s}s",
        "--timeout",
        f"{timeout_s:g}s",
        "--drain",
        f"{timeout_s:g}s",
    ]


class Loadgen:
    def __init__(self, binary: Path, prefix: list[str]) -> None:
        self.binary = binary
        self.prefix = prefix  # taskset
        # The generator's own lateness (actual − intended send) in open-loop runs: when the
        # machine is busy this is the floor under every latency percentile.
        self.send_lag_p99_us: list[float] = []

    def argv(self, args: list[str]) -> list[str]:
        return [*self.prefix, str(self.binary), "--json", *args]

    def run(self, args: list[str], timeout: float = 300.0) -> dict[str, Any]:
        try:
            done = subprocess.run(self.argv(args), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as err:
            raise BenchError(f"aigw-loadgen did not finish in {timeout:.0f}s") from err
        result = self._parse(done.returncode, done.stdout, done.stderr)
        if result.get("mode") == "open":
            self.send_lag_p99_us.append(float(result["send_lag_us"]["p99"]))
        return result

    def start(self, args: list[str]) -> subprocess.Popen[str]:
        """For runs watched while they go (--progress lines on stderr)."""
        return subprocess.Popen(
            self.argv(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )

    @staticmethod
    def _parse(code: int, stdout: str, stderr: str) -> dict[str, Any]:
        problem = " ".join(
            line for line in stderr.splitlines() if not line.startswith('{"progress"')
        )
        if code != 0:
            raise BenchError(f"aigw-loadgen failed ({code}): {problem.strip()[-300:]}")
        try:
            result: dict[str, Any] = json.loads(stdout)
        except json.JSONDecodeError as err:
            raise BenchError(
                f"aigw-loadgen printed no JSON: {stdout[-200:]} {problem[-200:]}"
            ) from err
        return result

    @staticmethod
    def finish(proc: subprocess.Popen[str], timeout: float = 120.0) -> dict[str, Any]:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as err:
            proc.kill()
            proc.communicate()
            raise BenchError("aigw-loadgen did not finish") from err
        return Loadgen._parse(proc.returncode, stdout, stderr)
