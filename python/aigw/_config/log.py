"""The ``log:`` section of the config: where request records go (sinks), how the journal is
bounded, and whether bodies are kept; ``Config.log`` in aigw.config. See docs/logging.md.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from aigw._config import log_defaults as defaults
from aigw._config.types import MAX_INT, Float, ImportPath, Int, StrictModel

__all__ = [
    "JsonlSinkConfig",
    "LogConfig",
    "PostgresSinkConfig",
    "PythonSinkConfig",
    "SinkConfig",
    "SqliteSinkConfig",
]

DEFAULT_SQLITE_PATH = "aigw-logs.db"
DEFAULT_JOURNAL_DIR = "aigw-journal"


SIZE_RE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size_in_bytes(value: Any) -> Any:
    """``4096``, ``"64KB"``, ``"256MiB"``, ``"1g"`` → bytes."""
    if isinstance(value, bool):
        raise ValueError("input should be a size, not a boolean")
    if isinstance(value, str):
        m = SIZE_RE.match(value)
        if not m:
            raise ValueError(f"{value!r} is not a size (e.g. 4096, 64KB, 256MB, 1GB)")
        unit = (m.group(2) or "").lower()[:1]
        return int(m.group(1)) * UNITS[unit]
    return value


Size = Annotated[int, BeforeValidator(size_in_bytes), Field(ge=0, le=MAX_INT)]


class SqliteSinkConfig(StrictModel):
    """The default sink: one SQLite database in WAL mode, table ``aigw_requests``."""

    kind: Literal["sqlite"]
    path: Annotated[str, Field(min_length=1)] = DEFAULT_SQLITE_PATH


class JsonlSinkConfig(StrictModel):
    """Records appended to a file, one JSON object per line."""

    kind: Literal["jsonl"]
    path: Annotated[str, Field(min_length=1)]


class PostgresSinkConfig(StrictModel):
    """PostgreSQL through psycopg (``pip install 'aigw[postgres]'``), batched inserts."""

    kind: Literal["postgres"]
    dsn: SecretStr
    table: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,50}$")] = "aigw_requests"
    batch_size: Annotated[Int, Field(ge=1, le=100000)] = 500
    connect_timeout: Annotated[Float, Field(gt=0, le=600)] = 5.0


class PythonSinkConfig(StrictModel):
    """A class of yours, built with ``options`` as keyword arguments; receives
    ``write(batch: list[dict])`` and, if it has one, ``close()``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["python"]
    class_: Annotated[ImportPath, Field(alias="class")]
    options: dict[str, Any] = Field(default_factory=dict)


SINK_KINDS: dict[str, type[StrictModel]] = {
    "sqlite": SqliteSinkConfig,
    "jsonl": JsonlSinkConfig,
    "postgres": PostgresSinkConfig,
    "python": PythonSinkConfig,
}

SinkConfig = Annotated[
    Union[SqliteSinkConfig, JsonlSinkConfig, PostgresSinkConfig, PythonSinkConfig],  # noqa: UP007
    Field(discriminator="kind"),
]


def default_sinks() -> list[Any]:
    return [SqliteSinkConfig(kind="sqlite")]


class LogConfig(StrictModel):
    """The request log. With no ``log:`` section records are kept in memory only
    (``gw.logs()``) and nothing is written to the working directory."""

    # The journal: per-worker append-only files, the hand-off from the data plane to the sinks.
    dir: Annotated[str, Field(min_length=1)] = DEFAULT_JOURNAL_DIR
    sinks: list[SinkConfig] = Field(default_factory=default_sinks)
    # Journal bytes not yet in every sink before the bound is reached; then `spill` keeps
    # writing (and counts records_spilled) and `backpressure` answers new requests 503.
    max_pending: Size = defaults.MAX_PENDING_BYTES
    overflow: Literal["spill", "backpressure"] = defaults.OVERFLOW
    rotate_bytes: Annotated[Size, Field(ge=4096)] = defaults.ROTATE_BYTES
    bodies: bool = False
    max_body_bytes: Annotated[Size, Field(le=16 * 1024**2)] = defaults.MAX_BODY_BYTES
    # Records kept in memory for gw.logs().
    memory_records: Annotated[Int, Field(ge=0, le=1_000_000)] = defaults.MEMORY_RECORDS
    batch_size: Annotated[Int, Field(ge=1, le=100000)] = defaults.BATCH_SIZE
    flush_interval: Annotated[Float, Field(gt=0, le=60)] = defaults.FLUSH_INTERVAL
    # How long stop() keeps retrying a failing sink before leaving the rest in the journal
    # (replayed on the next start).
    stop_timeout: Annotated[Float, Field(ge=0, le=3600)] = defaults.STOP_TIMEOUT

    @field_validator("sinks", mode="before")
    @classmethod
    def _sinks_none(cls, value: Any) -> Any:
        return default_sinks() if value is None else value

    def to_core_dict(self) -> dict[str, Any]:
        """The part the C++ core reads (the log thread opens the journal at start)."""
        return defaults.core_log_section(
            max_pending_bytes=self.max_pending,
            overflow=self.overflow,
            rotate_bytes=self.rotate_bytes,
            bodies=self.bodies,
            max_body_bytes=self.max_body_bytes,
        )
