"""Child processes of a bench run: start (pinned), wait for readiness, read /proc, stop."""

from __future__ import annotations

import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A figure could not be measured; the message says why (it goes into the table)."""


def raise_fd_limit() -> int:
    """Thousands of streams need thousands of descriptors in every process: take the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


class Pinning:
    """Gateway (and the nginx proxy it is compared with) on one CPU; load generator and
    upstreams on another, when taskset and two CPUs are available."""

    def __init__(self, enabled: bool) -> None:
        self.cpus = sorted(os.sched_getaffinity(0))
        self.taskset = shutil.which("taskset")
        self.active = False
        self.reason = ""
        if not enabled:
            self.reason = "pinning off (--no-pin)"
        elif self.taskset is None:
            self.reason = "taskset not found"
        elif len(self.cpus) < 2:
            self.reason = f"only {len(self.cpus)} CPU available"
        else:
            self.active = True
            self.proxy_cpu, self.load_cpu = self.cpus[0], self.cpus[1]

    def prefix(self, role: str) -> list[str]:
        if not self.active:
            return []
        assert self.taskset is not None
        cpu = self.proxy_cpu if role == "proxy" else self.load_cpu
        return [self.taskset, "-c", str(cpu)]

    def describe(self) -> str:
        if not self.active:
            return f"not pinned: {self.reason}"
        return (
            f"gateway and nginx proxy on CPU {self.proxy_cpu}; load generator, aigw mock and "
            f"nginx upstream on CPU {self.load_cpu}"
        )


class ManagedProcess:
    """A child with its output in a log file; stop() always leaves nothing running."""

    def __init__(
        self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None
    ):
        self.name = name
        self.argv = argv
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C reaches bench/run only; it stops the children
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stop(self, timeout: float = 5.0) -> None:
        if self.popen.poll() is not None:
            return
        try:
            self.popen.send_signal(signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        except ProcessLookupError:
            pass


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def http_post(port: int, path: str, body: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_ready(
    port: int, proc: ManagedProcess, path: str = "/health", timeout: float = 30.0
) -> float:
    """Polls `path` until it answers 200; returns the seconds waited. No fixed sleeps: the next
    attempt follows a refused connect after 1 ms."""
    start = time.perf_counter()
    while True:
        if not proc.alive():
            raise BenchError(f"{proc.name} exited with {proc.popen.returncode}: {proc.log_tail()}")
        try:
            status, _ = http_get(port, path, timeout=1.0)
            if status == 200:
                return time.perf_counter() - start
        except (OSError, http.client.HTTPException):
            pass
        if time.perf_counter() - start > timeout:
            raise BenchError(
                f"{proc.name} not ready on port {port} after {timeout:.0f}s: {proc.log_tail()}"
            )
        time.sleep(0.001)


def health(port: int) -> dict[str, Any]:
    status, body = http_get(port, "/health")
    if status != 200:
        raise BenchError(f"/health answered {status}")
    data: dict[str, Any] = json.loads(body)
    return data


# --- /proc -----------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # comm may hold spaces and parentheses: split after the last ')'
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of each process (all its threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            f = _stat_fields(pid)
        except (OSError, ValueError):
            continue
        total += int(f[11]) + int(f[12])  # fields 14 and 15 of stat(5)
    return total / CLK_TCK


def cpu_ns(pid: int) -> int:
    """Time on CPU of every thread of `pid`, in ns (schedstat's first field): the 10 ms ticks of
    utime + stime are too coarse to tell a few µs per request apart in a few thousand requests.
    A thread that exits between two reads takes its time with it; the gateway's threads live as
    long as it does. Falls back to utime + stime where schedstat is missing."""
    if not Path(f"/proc/{pid}/schedstat").exists():
        return int(cpu_seconds([pid]) * 1e9)
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended while we read
    return total


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry.name))[1]) == pid:
                out.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def thread_count(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0
