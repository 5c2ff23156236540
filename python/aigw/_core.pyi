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
    @property
    def running(self) -> bool: ...
    @property
    def port(self) -> int: ...
    @property
    def workers(self) -> int: ...
    def stats_json(self) -> str: ...
