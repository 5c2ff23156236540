"""The ``server:`` section of the config: the listener, its limits and timeouts, the worker
count, logging, and HTTPS (``server.tls``, in :mod:`aigw._config.tls`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from aigw._config.tls import TlsConfig
from aigw._config.types import (
    Int,
    NonEmptyStr,
    NonNegSeconds,
    PosInt,
    PosSeconds,
    StrictModel,
    lower_str,
    to_ms,
)


class ServerConfig(StrictModel):
    host: NonEmptyStr = "127.0.0.1"
    port: Annotated[Int, Field(ge=0, le=65535)] | None = None
    # 0: one per core. The bound is this schema's alone: the core takes the count it is given.
    workers: Annotated[Int, Field(ge=0, le=256)] = 0
    max_connections: PosInt = 10000
    max_header_bytes: Annotated[Int, Field(ge=1024, le=1048576)] = 32768
    max_url_bytes: Annotated[Int, Field(ge=64, le=1048576)] = 8192
    max_body_bytes: PosInt = 16777216
    max_upload_bytes: PosInt = 536870912
    header_timeout: PosSeconds = 10.0
    body_timeout: PosSeconds = 30.0
    idle_timeout: PosSeconds = 60.0
    drain_timeout: NonNegSeconds = 10.0
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], BeforeValidator(lower_str)
    ] = "info"
    mode: Literal["gateway", "mock"] = "gateway"
    dns_ttl: PosSeconds = 30.0
    # Who gets the routing summary ("aigw_routing") in response bodies: clients that send
    # `x-aigw-routing-summary: true`, every client, or none.
    routing_summary: Literal["header", "always", "never"] = "header"
    # HTTPS for clients (aigw._config.tls); None: plain HTTP.
    tls: TlsConfig | None = None

    def to_core_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": 0 if self.port is None else self.port,
            "workers": self.workers,
            "max_connections": self.max_connections,
            "max_header_bytes": self.max_header_bytes,
            "max_url_bytes": self.max_url_bytes,
            "max_body_bytes": self.max_body_bytes,
            "max_upload_bytes": self.max_upload_bytes,
            "header_timeout_ms": to_ms(self.header_timeout, positive=True),
            "body_timeout_ms": to_ms(self.body_timeout, positive=True),
            "idle_timeout_ms": to_ms(self.idle_timeout, positive=True),
            "drain_timeout_ms": to_ms(self.drain_timeout, positive=False),
            "log_level": self.log_level,
            "mode": self.mode,
            "dns_ttl_ms": to_ms(self.dns_ttl, positive=True),
            "routing_summary": self.routing_summary,
            "tls": None if self.tls is None else self.tls.to_core_dict(),  # null: plain HTTP
        }
