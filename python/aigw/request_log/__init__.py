"""The request log: one record per admitted request, from the data plane's journals to the
configured sinks (SQLite, JSON lines, PostgreSQL, Python classes). See docs/logging.md."""

from __future__ import annotations

from aigw.request_log.request_log import RequestLog

__all__ = ["RequestLog"]
