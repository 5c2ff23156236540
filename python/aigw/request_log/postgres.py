"""The PostgreSQL sink (psycopg 3, ``pip install 'aigw[postgres]'``): batched inserts keyed by
request id (``ON CONFLICT DO NOTHING``) and the cursor in ``<table>_checkpoint``, both in one
transaction. A lost connection is reopened on the next batch; until then the records wait in
the journal.
"""

from __future__ import annotations

import os
from typing import Any

from aigw.request_log.journal import Batch, Cursor
from aigw.request_log.sinks import COLUMNS, Sink, row_values

_PG_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "TEXT": "TEXT", "BOOLEAN": "BOOLEAN"}


class PostgresSink(Sink):
    def __init__(self, dsn: str, table: str, batch_size: int, connect_timeout: float) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "the postgres log sink needs psycopg: pip install 'aigw[postgres]'"
            ) from err
        self._dsn = dsn
        self.table = table
        self.batch_size = batch_size
        self.connect_timeout = connect_timeout
        self.name = f"postgres:{table}"
        self._conn: Any = None
        self._dir = ""

    def _connect(self) -> Any:
        import psycopg

        if self._conn is not None and not self._conn.closed:
            return self._conn
        self._conn = None
        conn = psycopg.connect(self._dsn, connect_timeout=max(1, round(self.connect_timeout)))
        cols = ", ".join(f"{n} {_PG_TYPES[t]}" for n, t in COLUMNS)
        with conn.transaction():
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (id TEXT PRIMARY KEY, {cols}, "
                "record JSONB NOT NULL)"
            )
            conn.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_ts_end ON {self.table} (ts_end)")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table}_checkpoint (dir TEXT NOT NULL, "
                "journal TEXT NOT NULL, pos BIGINT NOT NULL, PRIMARY KEY (dir, journal))"
            )
        self._conn = conn
        return conn

    def open(self, log_dir: str) -> Cursor:
        self._dir = os.path.abspath(log_dir)
        conn = self._connect()
        with conn.transaction():
            rows = conn.execute(
                f"SELECT journal, pos FROM {self.table}_checkpoint WHERE dir = %s", (self._dir,)
            ).fetchall()
        return {str(j): int(p) for j, p in rows}

    def write(self, batch: Batch) -> None:
        try:
            conn = self._connect()
            names = ", ".join(n for n, _ in COLUMNS)
            marks = ", ".join("%s" for _ in range(len(COLUMNS) + 1)) + ", %s::jsonb"
            rows = [row_values(r, line) for r, line in zip(batch.records, batch.lines, strict=True)]
            with conn.transaction():
                with conn.cursor() as cur:
                    for i in range(0, len(rows), self.batch_size):
                        cur.executemany(
                            f"INSERT INTO {self.table} (id, {names}, record) VALUES ({marks}) "
                            "ON CONFLICT (id) DO NOTHING",
                            rows[i : i + self.batch_size],
                        )
                    cur.execute(f"DELETE FROM {self.table}_checkpoint WHERE dir = %s", (self._dir,))
                    cur.executemany(
                        f"INSERT INTO {self.table}_checkpoint (dir, journal, pos) "
                        "VALUES (%s, %s, %s)",
                        [(self._dir, j, p) for j, p in batch.cursor.items()],
                    )
        except Exception:
            self._drop()
            raise

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def close(self) -> None:
        self._drop()
