"""The request log's settings without a ``log:`` section: records in memory only, the
schema's defaults for the rest (``aigw._config.log.LogConfig`` takes its defaults from here).
Built without the validator, so a gateway without a config never imports it; what it gives
the log thread and the core is checked equal to ``LogConfig(sinks=[])`` in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

MAX_PENDING_BYTES = 256 * 1024**2
OVERFLOW: Literal["spill"] = "spill"
ROTATE_BYTES = 16 * 1024**2
MAX_BODY_BYTES = 4096
MEMORY_RECORDS = 1000
BATCH_SIZE = 1000
FLUSH_INTERVAL = 0.05
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class MemoryOnlyLog:
    """What the log thread reads of a ``LogConfig``, for a log with no sink but memory."""

    dir: str = ""  # unused: a private directory is made for each run
    sinks: tuple[()] = ()
    memory_records: int = MEMORY_RECORDS
    batch_size: int = BATCH_SIZE
    flush_interval: float = FLUSH_INTERVAL
    stop_timeout: float = STOP_TIMEOUT

    def to_core_dict(self) -> dict[str, Any]:
        """As ``LogConfig.to_core_dict`` with the defaults."""
        return core_log_section(
            max_pending_bytes=MAX_PENDING_BYTES,
            overflow=OVERFLOW,
            rotate_bytes=ROTATE_BYTES,
            bodies=False,
            max_body_bytes=MAX_BODY_BYTES,
        )


def core_log_section(
    *, max_pending_bytes: int, overflow: str, rotate_bytes: int, bodies: bool, max_body_bytes: int
) -> dict[str, Any]:
    """The core document's ``log`` as a config gives it: records off, no journal yet. The
    Gateway opens the journal at start and turns them on (``RequestLog.prepare``)."""
    return {
        "enabled": False,
        "dir": "",
        "run": "",
        "handoff": "journal",
        "max_pending_bytes": max_pending_bytes,
        "overflow": overflow,
        "rotate_bytes": rotate_bytes,
        "bodies": bodies,
        "max_body_bytes": max_body_bytes,
    }
