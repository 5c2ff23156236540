"""The ``server.tls`` section: HTTPS for the gateway's clients (certificate, key, protocol
floor, TLS 1.2 ciphers, ALPN, client certificates, reload period): ``ServerConfig.tls``; see
docs/http.md ("HTTPS") and docs/configuration.md.

The schema checks types and that the files can be read; :func:`check_tls` then builds the very
TLS context the server would (through the native module), so a key that does not match its
certificate, an encrypted key or an unknown cipher is reported by ``aigw check-config`` and at
``Gateway(...)``, not at the first handshake.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from aigw._config.sources import problem
from aigw._config.types import NonEmptyStr, NonNegSeconds, StrictModel, to_ms

__all__ = ["TlsConfig", "check_tls"]

TLS_LOC = ("server", "tls")
# HTTP/1.x only: the server has no HTTP/2 (a client offering h2 and http/1.1 gets http/1.1).
ALPN_PROTOCOLS = ("http/1.1", "http/1.0")


def version_text(value: Any) -> Any:
    """YAML reads ``min_version: 1.2`` as a number; TLS versions are names."""
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:g}"
    return value


def tls_error(message: str) -> PydanticCustomError:
    # A custom error keeps pydantic's "Value error, " prefix out of the message.
    return PydanticCustomError("tls_config", message)


def readable(path: str) -> str:
    """The path if it is a file this process can read, else an error saying why."""
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise tls_error(f"file not found: {path}") from None
    except IsADirectoryError:
        raise tls_error(f"is a directory, not a PEM file: {path}") from None
    except OSError as exc:
        raise tls_error(f"cannot read {path}: {exc.strerror or exc}") from None
    return path


class TlsConfig(StrictModel):
    """HTTPS for clients. ``cert``: PEM, the server certificate first, then intermediates;
    ``key``: its PEM private key (not passphrase-protected); ``ca``: PEM CAs that client
    certificates must chain to (with ``client_auth``)."""

    cert: NonEmptyStr
    key: NonEmptyStr
    ca: NonEmptyStr | None = None
    # Client certificates: None means "require" when `ca` is given, "none" otherwise.
    client_auth: Literal["none", "optional", "require"] | None = None
    min_version: Annotated[Literal["1.2", "1.3"], BeforeValidator(version_text)] = "1.2"
    # OpenSSL cipher list for TLS 1.2; None: forward-secret AEAD suites only (ECDHE + GCM or
    # ChaCha20-Poly1305). TLS 1.3 suites are all AEAD and are not configurable.
    ciphers: NonEmptyStr | None = None
    alpn: list[str] = Field(default_factory=lambda: ["http/1.1"])
    # Seconds between checks of the files for a new certificate; 0: reload only when asked
    # (gw.reload_tls(), SIGHUP to `aigw serve`).
    reload_interval: NonNegSeconds = 5.0

    @field_validator("cert", "key", "ca")
    @classmethod
    def _check_file(cls, value: str | None) -> str | None:
        return None if value is None else readable(value)

    @field_validator("alpn")
    @classmethod
    def _check_alpn(cls, value: list[str]) -> list[str]:
        for proto in value:
            if proto == "h2":
                raise tls_error(
                    "h2 is not supported: the server speaks HTTP/1.1 "
                    "(clients that offer h2 and http/1.1 get http/1.1)"
                )
            if proto not in ALPN_PROTOCOLS:
                known = ", ".join(ALPN_PROTOCOLS)
                raise tls_error(f"unknown protocol {proto!r} (known: {known})")
        if len(set(value)) != len(value):
            raise tls_error("lists a protocol twice")
        return value

    @property
    def effective_client_auth(self) -> str:
        if self.client_auth is not None:
            return self.client_auth
        return "require" if self.ca is not None else "none"

    def to_core_dict(self) -> dict[str, Any]:
        # Absolute paths: reloads read the files again later, whatever the working directory.
        return {
            "cert": os.path.abspath(self.cert),
            "key": os.path.abspath(self.key),
            "ca": os.path.abspath(self.ca) if self.ca is not None else None,
            "client_auth": self.effective_client_auth,
            "min_version": self.min_version,
            "ciphers": self.ciphers,
            "alpn": list(self.alpn),
            "reload_interval_ms": (
                to_ms(self.reload_interval, positive=True) if self.reload_interval > 0 else 0
            ),
        }


def native_check(core: dict[str, Any]) -> tuple[str, str]:
    """(field, problem) from building the context natively; ("", "") when it builds."""
    import json

    try:
        from aigw import _core
    except ImportError:  # pragma: no cover - the package is always built with its module
        return "", ""
    field, message = _core.tls_check(json.dumps(core))
    return field, message


def check_tls(doc: Mapping[Any, Any]) -> list[str]:
    """Checks of ``server.tls`` that span fields or read the files' contents (raw data). Field
    errors (types, missing files) are the schema's; this runs only when there are none."""
    server = doc.get("server")
    tls = server.get("tls") if isinstance(server, Mapping) else None
    if not isinstance(tls, Mapping):
        return []
    try:
        config = TlsConfig.model_validate(tls)
    except ValidationError:
        return []
    problems: list[str] = []
    if config.client_auth in ("optional", "require") and config.ca is None:
        problems.append(
            problem(
                (*TLS_LOC, "client_auth"),
                f"{config.client_auth} needs `ca`: the CA file client certificates must chain to",
            )
        )
    if config.ca is not None and config.client_auth == "none":
        problems.append(
            problem(
                (*TLS_LOC, "ca"),
                "has no effect with client_auth: none (set client_auth to require or optional)",
            )
        )
    if config.ciphers is not None and config.min_version == "1.3":
        problems.append(
            problem(
                (*TLS_LOC, "ciphers"),
                "applies to TLS 1.2 only, which min_version 1.3 refuses",
            )
        )
    if problems:
        return problems
    field, message = native_check(config.to_core_dict())
    if message:
        problems.append(problem((*TLS_LOC, field) if field else TLS_LOC, message))
    return problems
