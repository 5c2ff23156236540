"""Type stub for the native module aigw._core (hand-written; checked with mypy stubtest)."""

from collections.abc import Callable

__version__: str

def default_workers() -> int:
    """Worker threads used when the config says 0 (the CPUs this process may run on)."""

def re2_errors(patterns: list[str]) -> list[str]:
    """RE2's syntax error for each pattern ("" when it compiles)."""

def sign_rs256(private_key_pem: str, data: bytes) -> bytes:
    """RS256 (RSASSA-PKCS1-v1_5, SHA-256) signature of data with a PEM private key."""

def tls_check(tls_json: str) -> tuple[str, str]:
    """Builds the server TLS context of a core `server.tls` object: (field, problem), or
    ("", "") when it builds."""

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
    def reload_tls(self) -> tuple[str, str]:
        """Rebuild the HTTPS certificate from its files for new connections: (field, problem), or
        ("", "")."""
    def serve_hooks(
        self,
        start: Callable[[int, str, str], str | None],
        cancel: Callable[[int], bool],
        loop_fd: int,
        timeout_ms: int,
    ) -> bool:
        """The hook thread's wait: runs hook jobs with start(id, kind, payload) -> verdict or
        None and cancellations with cancel(id) -> bool until loop_fd is readable (True), a task
        was made or cancelled, or timeout_ms passed (-1: no limit)."""
    def complete_hook(self, id: int, ok: bool, result: str) -> None:
        """Deliver a hook's result (JSON) to the request waiting for it."""
    def close_hooks(self) -> None:
        """Fail every waiting hook job and wake the hook thread's serve_hooks()."""
    def usage_json(self, day: str = "", provider: str = "", model: str = "") -> str:
        """Usage and cost totals (JSON); empty filters match everything."""
    def set_log_consumed(self, bytes: int) -> None:
        """The log thread: journal bytes of this run that every sink has consumed."""
    def take_log_lines(self) -> bytes:
        """The log thread: record lines handed off in memory since the last call."""
    def set_provider_credentials(self, provider: str, credentials_json: str) -> None:
        """New credentials (a JSON object of the provider's kind) for the next attempts of the
        named provider."""
