"""Type stub for the native module aigw._core (hand-written; checked with mypy stubtest)."""

__version__: str

def default_workers() -> int:
    """Worker threads used when the config says 0 (the CPUs this process may run on)."""

def re2_errors(patterns: list[str]) -> list[str]:
    """RE2's syntax error for each pattern ("" when it compiles)."""

class Server:
    """The C++ gateway: N worker threads with their own loops and SO_REUSEPORT listeners."""

    def __init__(self, config_json: str) -> None: ...
    def start(self) -> int:
        """Bind and start the workers; returns the port once every worker listens."""
    def stop(self, drain_timeout: float = -1.0) -> None:
        """Drain for up to drain_timeout seconds (< 0: configured default), close, join."""
    def end_drain_now(self) -> None:
        """A stop() in progress closes the remaining requests now instead of waiting."""
    @property
    def running(self) -> bool: ...
    @property
    def port(self) -> int: ...
    @property
    def workers(self) -> int: ...
    def stats_json(self) -> str: ...
    def drain_hook_jobs(self) -> list[tuple[int, str, str]]:
        """Every waiting hook job, without blocking; resets hook_fd."""
    def drain_hook_cancels(self) -> list[int]:
        """Ids of taken hook jobs cancelled since the last call (their requests no longer wait)."""
    @property
    def hook_fd(self) -> int:
        """An eventfd that becomes readable when hook jobs are waiting."""
    def complete_hook(self, id: int, ok: bool, result: str) -> None:
        """Deliver a hook's result (JSON) to the request waiting for it."""
    def complete_hooks(self, results: list[tuple[int, bool, str]]) -> None:
        """Deliver several hook results at once: (id, ok, result) each."""
    def close_hooks(self) -> None:
        """Fail every waiting hook job and wake the hook_fd reader."""
    def usage_json(self, day: str = "", provider: str = "", model: str = "") -> str:
        """Usage and cost totals (JSON); empty filters match everything."""
    def set_log_consumed(self, bytes: int) -> None:
        """The log thread: journal bytes of this run that every sink has consumed."""
    def take_log_lines(self) -> bytes:
        """The log thread: record lines handed off in memory since the last call."""
