"""aigw configuration: load, substitute, validate, normalize.

Config is data. This module reads a YAML, JSON or TOML document (or a dict),
substitutes ``${VAR}`` / ``${VAR:-default}`` references from the environment,
validates it with pydantic, and hands the C++ core one normalized JSON document
(:meth:`Config.to_core_json`).

Every problem is reported at once, each prefixed with its path in the document
(``providers.mock.latency_ms``, ``routes[1].targets[0].provider``), in a single
:class:`ConfigError`.

The module is self-contained: it imports nothing from the rest of ``aigw``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from aigw._config_sources import (
    ConfigError,
    Loc,
    _fmt_path,
    _problem,
    _read_file,
    _substitute,
)
from aigw._guardrail_config import (
    GuardrailConfig,
    check_guardrails,
    guardrail_model_at,
    guardrails_core,
)
from aigw._log_config import SINK_KINDS, LogConfig
from aigw.cost import PriceConfig, PriceKey, merged_prices

__all__ = [
    "PROVIDER_KINDS",
    "Config",
    "ConfigError",
    "LogConfig",
    "GuardrailConfig",
    "MockProviderConfig",
    "ModelConfig",
    "ProviderConfig",
    "RouteConfig",
    "ServerConfig",
    "TargetConfig",
    "default_config",
    "load_config",
]

CORE_CONFIG_VERSION = 2

# Largest integer accepted where the schema sets no upper bound: exactly
# representable in a JSON double and far inside int64 on the C++ side.
_MAX_INT = 2**53 - 1
# Largest timeout in seconds (its millisecond value still fits easily in int64).
_MAX_SECONDS = 1e9

PROVIDER_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_PROVIDER_NAME_RE = re.compile(PROVIDER_NAME_PATTERN)


# --------------------------------------------------------------------------- field types


# Pydantic's lax mode turns True into 1; a bool where a number belongs is a mistake.
def _reject_bool_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "input should be a valid integer, not a boolean")
    return value


def _reject_bool_float(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "input should be a valid number, not a boolean")
    return value


def _lower_str(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


Int = Annotated[int, BeforeValidator(_reject_bool_int)]
Float = Annotated[float, BeforeValidator(_reject_bool_float)]

NonNegInt = Annotated[Int, Field(ge=0, le=_MAX_INT)]
PosInt = Annotated[Int, Field(ge=1, le=_MAX_INT)]
PosSeconds = Annotated[Float, Field(gt=0, le=_MAX_SECONDS, allow_inf_nan=False)]
NonNegSeconds = Annotated[Float, Field(ge=0, le=_MAX_SECONDS, allow_inf_nan=False)]
NonEmptyStr = Annotated[str, Field(min_length=1)]


def _ms(seconds: float, *, positive: bool) -> int:
    ms = round(seconds * 1000)
    return max(ms, 1) if positive else ms


def _opt_int(value: int | None) -> int:
    return -1 if value is None else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- server


class ServerConfig(_Model):
    host: NonEmptyStr = "127.0.0.1"
    port: Annotated[Int, Field(ge=0, le=65535)] | None = None
    # 0: one per core. The C++ core refuses more than 256 (GatewayConfig::fromJson).
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
        Literal["debug", "info", "warning", "error"], BeforeValidator(_lower_str)
    ] = "info"
    mode: Literal["gateway", "mock"] = "gateway"
    dns_ttl: PosSeconds = 30.0
    # Who gets the routing summary ("aigw_routing") in response bodies: clients that send
    # `x-aigw-routing-summary: true`, every client, or none.
    routing_summary: Literal["header", "always", "never"] = "header"

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
            "header_timeout_ms": _ms(self.header_timeout, positive=True),
            "body_timeout_ms": _ms(self.body_timeout, positive=True),
            "idle_timeout_ms": _ms(self.idle_timeout, positive=True),
            "drain_timeout_ms": _ms(self.drain_timeout, positive=False),
            "log_level": self.log_level,
            "mode": self.mode,
            "dns_ttl_ms": _ms(self.dns_ttl, positive=True),
            "routing_summary": self.routing_summary,
        }


# --------------------------------------------------------------------------- providers


class MockProviderConfig(_Model):
    """The built-in mock provider (answers like OpenAI, with fault-injection knobs)."""

    kind: Literal["mock"]
    latency_ms: NonNegInt = 0
    ttft_ms: NonNegInt = 0
    chunk_delay_ms: NonNegInt = 0
    chunks: Annotated[Int, Field(ge=1, le=100000)] = 8
    status: Annotated[Int, Field(ge=100, le=599)] = 200
    error_rate: Annotated[Float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0
    retry_after: NonNegInt | None = None
    stall_after: NonNegInt | None = None
    reset_after: NonNegInt | None = None
    response: str | None = None
    # The "code" of error answers (e.g. context_length_exceeded); None: derived from the status.
    error_code: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    embedding_dimensions: Annotated[Int, Field(ge=1, le=65536)] = 8
    header_knobs: bool = True

    def to_core_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "chunk_delay_ms": self.chunk_delay_ms,
            "chunks": self.chunks,
            "status": self.status,
            "error_rate": float(self.error_rate),
            "retry_after": _opt_int(self.retry_after),
            "stall_after": _opt_int(self.stall_after),
            "reset_after": _opt_int(self.reset_after),
            "response": self.response,
            "error_code": self.error_code,
            "embedding_dimensions": self.embedding_dimensions,
            "header_knobs": self.header_knobs,
        }


_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Headers the gateway owns on the upstream request: config may not set them.
_RESERVED_UPSTREAM_HEADERS = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "expect",
}


class OpenAIProviderConfig(_Model):
    """Any OpenAI-compatible upstream: OpenAI, vLLM, Ollama, Groq, Mistral, DeepSeek ..."""

    kind: Literal["openai"]
    base_url: NonEmptyStr
    api_key: SecretStr | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    verify: bool = True
    ca_file: str | None = None
    connect_timeout: PosSeconds = 10.0
    first_byte_timeout: PosSeconds = 300.0
    idle_timeout: PosSeconds = 120.0
    keepalive_timeout: PosSeconds = 60.0
    max_connections: Annotated[Int, Field(ge=1, le=100000)] = 256
    max_pending: Annotated[Int, Field(ge=0, le=1000000)] = 1024

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as err:
            raise ValueError(f"not a valid URL ({err})") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError("must start with http:// or https://")
        if not parts.hostname:
            raise ValueError("has no host")
        if parts.username or parts.password:
            raise ValueError("must not contain credentials (use api_key)")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        if port == 0:
            raise ValueError("has an invalid port")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, v in value.items():
            if not _HEADER_NAME_RE.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in _RESERVED_UPSTREAM_HEADERS:
                raise ValueError(f"{name!r} is set by the gateway and cannot be configured")
            if any(c in v for c in "\r\n\0"):
                raise ValueError(f"the value of {name!r} contains a line break or NUL")
        return value

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"file not found: {value}")
        return value

    def to_core_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "base_url": self.base_url,
            "api_key": self.api_key.get_secret_value() if self.api_key else "",
            "headers": dict(self.headers),
            "verify": self.verify,
            "ca_file": self.ca_file,
            "connect_timeout_ms": _ms(self.connect_timeout, positive=True),
            "first_byte_timeout_ms": _ms(self.first_byte_timeout, positive=True),
            "idle_timeout_ms": _ms(self.idle_timeout, positive=True),
            "keepalive_idle_ms": _ms(self.keepalive_timeout, positive=True),
            "max_connections": self.max_connections,
            "max_pending": self.max_pending,
        }


# Every provider model, by its `kind`. A new provider kind is one more class here
# (with `kind: Literal["..."]` and `to_core_dict`) and one more member of the union.
PROVIDER_KINDS: dict[str, type[_Model]] = {
    "mock": MockProviderConfig,
    "openai": OpenAIProviderConfig,
}

ProviderConfig = Annotated[
    Union[MockProviderConfig, OpenAIProviderConfig],  # noqa: UP007
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- routes

Strategy = Literal["single", "fallback", "weighted", "conditional", "least_latency", "least_busy"]
RetryOn = Literal["connect", "timeout", "5xx", "429"]
RETRY_ON: tuple[RetryOn, ...] = ("connect", "timeout", "5xx", "429")
FALLBACK_KINDS = ("context_window_exceeded", "content_policy_violation", "unavailable")
# Keys that belong to a target (a leaf); a nested group (with `targets`) may not have them.
_TARGET_ONLY_KEYS = (
    "model",
    "transforms",
    "connect_timeout",
    "first_byte_timeout",
    "stream_idle_timeout",
    "max_in_flight",
    "max_pending",
    "circuit_breaker",
)
_MAX_U32 = 2**32 - 1
_MAX_WEIGHT = 1_000_000


def _to_list(value: Any) -> Any:
    """A scalar where a list belongs becomes a one-element list."""
    return [value] if isinstance(value, (str, int, float)) else value


def _int_to_str(value: Any) -> Any:
    # YAML reads `429` and `x-version: 2` as integers; they are meant as text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_path(value: str) -> str:
    if not value or any(part == "" for part in value.split(".")):
        raise PydanticCustomError(
            "field_path",
            "invalid field path {path} (dotted keys, no empty parts)",
            {"path": repr(value)},
        )
    return value


def _check_json_value(value: Any) -> Any:
    def walk(v: Any) -> None:
        if v is None or isinstance(v, (str, bool, int)):
            return
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise PydanticCustomError("json_value", "not a JSON value (NaN or infinity)")
            return
        if isinstance(v, list):
            for item in v:
                walk(item)
            return
        if isinstance(v, dict):
            for k, item in v.items():
                if not isinstance(k, str):
                    raise PydanticCustomError("json_value", "object keys must be strings")
                walk(item)
            return
        raise PydanticCustomError(
            "json_value", "{kind} is not a JSON value (quote it)", {"kind": type(v).__name__}
        )

    walk(value)
    return value


FieldPath = Annotated[str, AfterValidator(_check_path)]
Glob = Annotated[str, BeforeValidator(_int_to_str), Field(min_length=1)]
GlobList = Annotated[list[Glob], BeforeValidator(_to_list), Field(min_length=1)]
JsonValue = Annotated[Any, AfterValidator(_check_json_value)]
Weight = Annotated[Int, Field(ge=1, le=_MAX_WEIGHT)]


class WhenConfig(_Model):
    """Conditions of a branch of a conditional group; all given conditions must match."""

    model: GlobList | None = None
    header: dict[str, GlobList] | None = None
    metadata: dict[Annotated[str, Field(min_length=1)], GlobList] | None = None

    @field_validator("header")
    @classmethod
    def _check_header(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is None:
            return None
        out: dict[str, list[str]] = {}
        for name, globs in value.items():
            if not _HEADER_NAME_RE.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            out.setdefault(name.lower(), []).extend(globs)
        return out

    @model_validator(mode="after")
    def _not_empty(self) -> WhenConfig:
        if self.model is None and not self.header and not self.metadata:
            raise PydanticCustomError(
                "when_empty", "names no condition (use model, header or metadata)"
            )
        return self

    def to_core_list(self) -> list[dict[str, Any]]:
        conds: list[dict[str, Any]] = []
        if self.model is not None:
            conds.append({"source": "model", "key": "", "values": list(self.model)})
        for key, values in (self.header or {}).items():
            conds.append({"source": "header", "key": key, "values": list(values)})
        for key, values in (self.metadata or {}).items():
            conds.append({"source": "metadata", "key": key, "values": list(values)})
        return conds


class TransformConfig(_Model):
    """One request transform: exactly one of set/drop/rename, optionally conditional."""

    set: dict[FieldPath, JsonValue] | None = None
    drop: Annotated[list[FieldPath], BeforeValidator(_to_list), Field(min_length=1)] | None = None
    rename: dict[FieldPath, FieldPath] | None = None
    if_present: FieldPath | None = None
    if_absent: FieldPath | None = None

    @field_validator("set", "rename")
    @classmethod
    def _not_empty(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not value:
            raise PydanticCustomError("too_short", "must name at least one field")
        return value

    def to_core_list(self) -> list[dict[str, Any]]:
        cond = {"if_present": self.if_present or "", "if_absent": self.if_absent or ""}
        ops: list[dict[str, Any]] = []
        for path, value in (self.set or {}).items():
            ops.append({"op": "set", "path": path, "to": "", "value": value, **cond})
        for path in self.drop or []:
            ops.append({"op": "drop", "path": path, "to": "", "value": None, **cond})
        for path, to in (self.rename or {}).items():
            ops.append({"op": "rename", "path": path, "to": to, "value": None, **cond})
        return ops


class BreakerConfig(_Model):
    """Circuit breaker settings; a target's block overrides its route's field by field."""

    enabled: bool = True
    consecutive_failures: Annotated[Int, Field(ge=0, le=_MAX_U32)] = 5
    failure_rate: Annotated[Float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    min_requests: Annotated[Int, Field(ge=1, le=_MAX_U32)] = 20
    window: PosSeconds = 30.0
    ejection_time: PosSeconds = 10.0
    max_ejection_time: PosSeconds = 300.0

    def merged(self, override: BreakerConfig | None) -> BreakerConfig:
        """These settings with the fields ``override`` sets explicitly taken from it."""
        if override is None:
            return self
        update = {name: getattr(override, name) for name in override.model_fields_set}
        return self.model_copy(update=update)

    def to_core_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "consecutive_failures": self.consecutive_failures,
            "failure_rate": 0.0 if self.failure_rate is None else float(self.failure_rate),
            "min_requests": self.min_requests,
            "window_ms": _ms(self.window, positive=True),
            "ejection_ms": _ms(self.ejection_time, positive=True),
            "max_ejection_ms": _ms(self.max_ejection_time, positive=True),
        }


def _retry_on_key(value: Any) -> Any:
    # YAML 1.1 reads a bare `on:` key as the boolean true.
    if isinstance(value, Mapping) and True in value and "on" not in value:
        return {("on" if k is True else k): v for k, v in value.items()}
    return value


class RetryConfig(_Model):
    # None: 3, but never fewer than the route's number of targets.
    attempts: Annotated[Int, Field(ge=1, le=20)] | None = None
    on: Annotated[
        list[Annotated[RetryOn, BeforeValidator(_int_to_str)]],
        BeforeValidator(_to_list),
    ] = Field(default_factory=lambda: list(RETRY_ON))
    backoff: NonNegSeconds = 0.1
    max_backoff: NonNegSeconds = 5.0
    budget: Annotated[Float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.2
    min_retries: Annotated[Int, Field(ge=0, le=_MAX_U32)] = 3
    max_retry_after: NonNegSeconds = 60.0

    @model_validator(mode="before")
    @classmethod
    def _key_on(cls, value: Any) -> Any:
        return _retry_on_key(value)

    def to_core_dict(self, targets: int) -> dict[str, Any]:
        attempts = self.attempts if self.attempts is not None else max(3, targets)
        return {
            "attempts": attempts,
            "on_connect": "connect" in self.on,
            "on_timeout": "timeout" in self.on,
            "on_5xx": "5xx" in self.on,
            "on_429": "429" in self.on,
            "backoff_base_ms": _ms(self.backoff, positive=False),
            "backoff_max_ms": _ms(self.max_backoff, positive=False),
            "budget_ratio": float(self.budget),
            "budget_min": self.min_retries,
            "max_retry_after_ms": _ms(self.max_retry_after, positive=False),
        }


class FallbacksConfig(_Model):
    """Routes that take over a request by error class (route names)."""

    context_window_exceeded: NonEmptyStr | None = None
    content_policy_violation: NonEmptyStr | None = None
    unavailable: NonEmptyStr | None = None

    def to_core_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for kind in FALLBACK_KINDS:
            route = getattr(self, kind)
            if route is not None:
                out[kind] = route
        return out


class _TargetDefaults(_Model):
    """Per-target settings a route sets as defaults for its targets."""

    connect_timeout: PosSeconds | None = None
    first_byte_timeout: PosSeconds | None = None
    stream_idle_timeout: PosSeconds | None = None
    max_in_flight: PosInt | None = None
    max_pending: NonNegInt = 0
    circuit_breaker: BreakerConfig | None = None


class TargetConfig(_TargetDefaults):
    """A target (``provider``) or a nested group (``targets``) of a route's plan."""

    provider: NonEmptyStr | None = None
    model: NonEmptyStr | None = None
    strategy: Strategy | None = None
    targets: list[TargetConfig] | None = None
    weight: Weight = 1
    when: WhenConfig | None = None
    transforms: list[TransformConfig] = Field(default_factory=list)

    @field_validator("transforms", mode="before")
    @classmethod
    def _transforms_none(cls, value: Any) -> Any:
        return [] if value is None else value

    def to_core_node(self, route: RouteConfig) -> dict[str, Any]:
        when = self.when.to_core_list() if self.when is not None else None
        if self.targets is not None:
            return {
                "type": "group",
                "strategy": _strategy(self.strategy, len(self.targets)),
                "weight": self.weight,
                "when": when,
                "children": [t.to_core_node(route) for t in self.targets],
            }
        return _target_node(self, route, weight=self.weight, when=when)

    def leaves(self) -> int:
        if self.targets is None:
            return 1
        return sum(t.leaves() for t in self.targets)


def _strategy(given: str | None, children: int) -> str:
    if given is not None:
        return given
    return "single" if children == 1 else "fallback"


def _target_node(
    src: _TargetDefaults,
    route: RouteConfig,
    *,
    weight: int,
    when: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """A core target node for ``src`` (a target, or a shorthand route itself)."""
    provider = getattr(src, "provider", None)
    model = getattr(src, "model", None)
    transforms: list[TransformConfig] = getattr(src, "transforms", [])
    own = src.model_fields_set if src is not route else set()

    def seconds(name: str) -> int:
        value = getattr(src, name)
        if value is None:
            value = getattr(route, name)
        return 0 if value is None else _ms(value, positive=True)

    max_in_flight = src.max_in_flight if "max_in_flight" in own else route.max_in_flight
    max_pending = src.max_pending if "max_pending" in own else route.max_pending
    base = route.circuit_breaker if route.circuit_breaker is not None else BreakerConfig()
    breaker = base.merged(src.circuit_breaker if src is not route else None)
    return {
        "type": "target",
        "provider": provider,
        "model": model,
        "weight": weight,
        "when": when,
        "transforms": [op for t in transforms for op in t.to_core_list()],
        "connect_timeout_ms": seconds("connect_timeout"),
        "first_byte_timeout_ms": seconds("first_byte_timeout"),
        "idle_timeout_ms": seconds("stream_idle_timeout"),
        "max_in_flight": 0 if max_in_flight is None else max_in_flight,
        "max_pending": max_pending,
        "breaker": breaker.to_core_dict(),
    }


class RouteConfig(_TargetDefaults):
    """A name clients ask for (or a pattern), and the plan that serves it."""

    name: NonEmptyStr
    aliases: list[NonEmptyStr] = Field(default_factory=list)
    # Shorthand: one target.
    provider: NonEmptyStr | None = None
    model: NonEmptyStr | None = None
    transforms: list[TransformConfig] = Field(default_factory=list)
    # Or a group of targets.
    strategy: Strategy | None = None
    targets: list[TargetConfig] | None = None
    retry: RetryConfig = Field(default_factory=RetryConfig)
    timeout: PosSeconds | None = 600.0
    fallbacks: FallbacksConfig = Field(default_factory=FallbacksConfig)
    # Guardrails by name (see docs/guardrails.md); None: those marked `default: true`.
    guardrails: list[NonEmptyStr] | None = None

    @field_validator("aliases", "transforms", "retry", "fallbacks", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return [] if info.field_name in ("aliases", "transforms") else {}
        return value

    def leaves(self) -> int:
        """The number of targets (leaves) in the plan."""
        if self.targets is None:
            return 1
        return sum(t.leaves() for t in self.targets)

    def plan(self) -> dict[str, Any]:
        if self.targets is None:
            children = [_target_node(self, self, weight=1, when=None)]
            strategy = "single"
        else:
            children = [t.to_core_node(self) for t in self.targets]
            strategy = _strategy(self.strategy, len(self.targets))
        return {
            "type": "group",
            "strategy": strategy,
            "weight": 1,
            "when": None,
            "children": children,
        }

    def to_core_dict(self) -> dict[str, Any]:
        core = {
            "name": self.name,
            "aliases": list(self.aliases),
            "plan": self.plan(),
            "retry": self.retry.to_core_dict(self.leaves()),
            "timeout_ms": 0 if self.timeout is None else _ms(self.timeout, positive=True),
            "fallbacks": self.fallbacks.to_core_dict(),
        }
        if self.guardrails is not None:
            core["guardrails"] = list(self.guardrails)
        return core


# The entries of the older `models:` list are routes too.
ModelConfig = RouteConfig

TargetConfig.model_rebuild()


# --------------------------------------------------------------------------- config


class Config(_Model):
    server: ServerConfig = Field(default_factory=ServerConfig)
    providers: dict[str, ProviderConfig]
    routes: list[RouteConfig] = Field(default_factory=list)
    # The older name of `routes` (same entries); both may be given: models come first.
    models: list[RouteConfig] = Field(default_factory=list)
    default_provider: NonEmptyStr | None = None
    # Model prices (USD per million tokens) over the shipped table: see aigw.cost, docs/cost.md.
    pricing: dict[PriceKey, PriceConfig] = Field(default_factory=dict)
    # The request log (aigw/_log_config.py); None: records in memory only.
    log: LogConfig | None = None
    guardrails: list[GuardrailConfig] = Field(default_factory=list)
    source: str | None = None

    @field_validator("server", mode="before")
    @classmethod
    def _server_none(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("routes", "models", "guardrails", mode="before")
    @classmethod
    def _routes_none(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("pricing", mode="before")
    @classmethod
    def _pricing_none(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Config:
        # load_config runs these checks on the raw document (so they are reported
        # together with field errors); direct construction gets them here.
        if isinstance(info.context, dict) and info.context.get("aigw_checked"):
            return self
        problems = _cross_check(
            {
                "providers": {name: {} for name in self.providers},
                "models": [m.model_dump(exclude_unset=True) for m in self.models],
                "routes": [r.model_dump(exclude_unset=True) for r in self.routes],
                "default_provider": self.default_provider,
                "guardrails": [g.model_dump(exclude_unset=True) for g in self.guardrails],
            }
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def python_guardrail_selection(self) -> dict[str, list[str]]:
        """Route name -> the Python guardrails (``kind: python``) that apply to it, by name;
        routes without one are left out."""
        python = [g for g in self.guardrails if g.kind == "python"]
        if not python:
            return {}
        selection: dict[str, list[str]] = {}
        for route in self.all_routes:
            if route.guardrails is None:
                names = [g.name for g in python if g.default]
            else:
                names = [g.name for g in python if g.name in route.guardrails]
            if names:
                selection[route.name] = names
        return selection

    @property
    def all_routes(self) -> list[RouteConfig]:
        """Every route: the entries of ``models`` (the older name), then those of ``routes``."""
        return [*self.models, *self.routes]

    def to_core_dict(self) -> dict[str, Any]:
        """The normalized document the C++ core reads (``source`` is not part of it)."""
        core: dict[str, Any] = {
            "version": CORE_CONFIG_VERSION,
            "server": self.server.to_core_dict(),
            "providers": [
                {"name": name, **provider.to_core_dict()}
                for name, provider in self.providers.items()
            ],
            "routes": [r.to_core_dict() for r in self.all_routes],
            "default_provider": self.default_provider,
            "pricing": merged_prices(self.pricing),
            **guardrails_core(self.guardrails),
        }
        python = {g.name for g in self.guardrails if g.kind == "python"}
        if python:  # the core selects built-ins only; Python ones are the hook thread's
            for route in core["routes"]:
                if "guardrails" in route:
                    route["guardrails"] = [n for n in route["guardrails"] if n not in python]
        if self.log is not None:  # the Gateway adds the journal's place (request_log)
            core["log"] = self.log.to_core_dict()
        return core

    def to_core_json(self) -> str:
        return json.dumps(
            self.to_core_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )


# --------------------------------------------------------------------------- defaults


def default_config() -> dict[str, Any]:
    """The embedded default document: every model goes to an offline mock provider.

    The mock answers exactly what its knobs say, so its routes neither retry nor eject:
    a client testing its error handling sees the error as configured.
    """

    def mock_route(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "provider": "mock",
            "retry": {"attempts": 1},
            "circuit_breaker": {"enabled": False},
        }

    return {
        "server": {},
        "providers": {"mock": {"kind": "mock"}},
        "routes": [mock_route("mock-gpt"), mock_route("mock-embedding"), mock_route("*")],
    }


# --------------------------------------------------------------------------- checks


def _cross_check(doc: Mapping[Any, Any]) -> list[str]:
    """Checks that span fields; works on raw (possibly ill-typed) data."""
    problems: list[str] = []
    providers = doc.get("providers")
    known: list[str] | None = None
    if providers is None or (isinstance(providers, Mapping) and not providers):
        problems.append("providers: at least one provider is required")
        known = []
    elif isinstance(providers, Mapping):
        known = [k for k in providers if isinstance(k, str)]
        for key in providers:
            if not isinstance(key, str):
                problems.append(_problem(("providers", str(key)), "provider name must be a string"))
            elif not _PROVIDER_NAME_RE.match(key):
                problems.append(
                    _problem(
                        ("providers", key),
                        f"invalid provider name {key!r} (must match {PROVIDER_NAME_PATTERN})",
                    )
                )

    problems.extend(_check_routes(doc, known))
    problems.extend(check_guardrails(doc, _ROUTE_SECTIONS))
    default = doc.get("default_provider")
    if known is not None and isinstance(default, str) and default and default not in known:
        listing = ", ".join(sorted(known)) or "none"
        problems.append(
            _problem(
                ("default_provider",),
                f"unknown provider {default!r} (known: {listing}){_suggest(default, known)}",
            )
        )
    return problems


# The route lists of a document, in the order the core gets them.
_ROUTE_SECTIONS = ("models", "routes")


def _route_entries(doc: Mapping[Any, Any]) -> list[tuple[Loc, Mapping[Any, Any]]]:
    out: list[tuple[Loc, Mapping[Any, Any]]] = []
    for section in _ROUTE_SECTIONS:
        items = doc.get(section)
        if isinstance(items, list):
            out.extend(
                ((section, i), item) for i, item in enumerate(items) if isinstance(item, Mapping)
            )
    return out


def _given(node: Mapping[Any, Any], key: str) -> bool:
    return node.get(key) is not None


def _check_routes(doc: Mapping[Any, Any], known: list[str] | None) -> list[str]:
    """Names, plans, providers, transforms and fallbacks of every route (raw data)."""
    problems: list[str] = []
    entries = _route_entries(doc)
    seen: dict[str, Loc] = {}  # name or alias -> where it was first defined
    names: list[str] = []  # route names (fallbacks refer to these)

    def claim(name: Any, loc: Loc) -> None:
        if not isinstance(name, str) or not name:
            return
        if name in seen:
            first = _fmt_path(seen[name])
            problems.append(
                _problem(loc, f"duplicate route name {name!r} (first defined at {first})")
            )
        else:
            seen[name] = loc

    for loc, route in entries:
        name = route.get("name")
        if isinstance(name, str):
            names.append(name)
            if name.count("*") > 1:
                problems.append(_problem((*loc, "name"), f"{name!r} has more than one '*'"))
        claim(name, (*loc, "name"))
        aliases = route.get("aliases")
        if isinstance(aliases, list):
            for j, alias in enumerate(aliases):
                if isinstance(alias, str) and "*" in alias:
                    problems.append(
                        _problem(
                            (*loc, "aliases", j), f"an alias is an exact name; {alias!r} has a '*'"
                        )
                    )
                claim(alias, (*loc, "aliases", j))

        shorthand, group = _given(route, "provider"), _given(route, "targets")
        if shorthand and group:
            problems.append(
                _problem(loc, "give either `provider` (one target) or `targets`, not both")
            )
        elif not shorthand and not group:
            problems.append(_problem(loc, "needs `provider` (one target) or `targets`"))
        if group:
            for key in ("model", "transforms"):
                if _given(route, key):
                    problems.append(
                        _problem(
                            (*loc, key),
                            "belongs to the one-target form (`provider`); with `targets`, "
                            "set it on a target",
                        )
                    )
            _check_group(loc, route, known, problems)
        else:
            if _given(route, "strategy"):
                problems.append(_problem((*loc, "strategy"), "only with `targets`"))
            _check_target(loc, route, known, problems)

        retry = route.get("retry")
        if isinstance(retry, Mapping):
            base, cap = retry.get("backoff", 0.1), retry.get("max_backoff", 5.0)
            if _is_number(base) and _is_number(cap) and cap < base:
                problems.append(
                    _problem((*loc, "retry", "max_backoff"), f"is less than backoff ({base})")
                )

    for loc, route in entries:
        fallbacks = route.get("fallbacks")
        if not isinstance(fallbacks, Mapping):
            continue
        for kind, target in fallbacks.items():
            if kind not in FALLBACK_KINDS or not isinstance(target, str) or not target:
                continue  # field errors
            where = (*loc, "fallbacks", kind)
            if target == route.get("name"):
                problems.append(_problem(where, f"names the route itself ({target!r})"))
            elif target not in names:
                problems.append(
                    _problem(where, f"unknown route {target!r}{_suggest(target, names)}")
                )
    return problems


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_group(
    loc: Loc, node: Mapping[Any, Any], known: list[str] | None, problems: list[str]
) -> None:
    """A route with `targets`, or a nested group."""
    targets = node.get("targets")
    if not isinstance(targets, list):
        return  # field error
    strategy = node.get("strategy")
    if not targets:
        problems.append(_problem((*loc, "targets"), "must not be empty"))
    elif strategy == "single" and len(targets) > 1:
        problems.append(
            _problem(
                (*loc, "strategy"),
                f"'single' takes one target, this group has {len(targets)} "
                "(use fallback, weighted, conditional, least_latency or least_busy)",
            )
        )
    for j, child in enumerate(targets):
        if not isinstance(child, Mapping):
            continue
        cloc = (*loc, "targets", j)
        if _given(child, "when") and strategy != "conditional":
            problems.append(
                _problem((*cloc, "when"), "only on the targets of a `strategy: conditional` group")
            )
        is_target, is_group = _given(child, "provider"), _given(child, "targets")
        if is_target and is_group:
            problems.append(
                _problem(
                    cloc,
                    "give either `provider` (a target) or `targets` (a nested group), not both",
                )
            )
        elif not is_target and not is_group:
            problems.append(
                _problem(cloc, "needs `provider` (a target) or `targets` (a nested group)")
            )
        if is_group:
            for key in _TARGET_ONLY_KEYS:
                if _given(child, key) and not is_target:
                    problems.append(
                        _problem((*cloc, key), "not allowed on a group; set it on its targets")
                    )
            _check_group(cloc, child, known, problems)
        else:
            if _given(child, "strategy"):
                problems.append(_problem((*cloc, "strategy"), "only on a group (with `targets`)"))
            _check_target(cloc, child, known, problems)


def _check_target(
    loc: Loc, node: Mapping[Any, Any], known: list[str] | None, problems: list[str]
) -> None:
    """A target, or a route in the one-target form."""
    prov = node.get("provider")
    if known is not None and isinstance(prov, str) and prov and prov not in known:
        listing = ", ".join(sorted(known)) or "none"
        problems.append(
            _problem(
                (*loc, "provider"),
                f"unknown provider {prov!r} (known: {listing}){_suggest(prov, known)}",
            )
        )
    model = node.get("model")
    if isinstance(model, str) and model.count("*") > 1:
        problems.append(_problem((*loc, "model"), f"{model!r} has more than one '*'"))
    transforms = node.get("transforms")
    if isinstance(transforms, list):
        for k, item in enumerate(transforms):
            if not isinstance(item, Mapping):
                continue
            ops = [op for op in ("set", "drop", "rename") if _given(item, op)]
            if not ops:
                problems.append(_problem((*loc, "transforms", k), "needs one of set, drop, rename"))
            elif len(ops) > 1:
                problems.append(
                    _problem(
                        (*loc, "transforms", k),
                        f"give exactly one of set, drop, rename (got {' and '.join(ops)})",
                    )
                )


def _suggest(word: Any, candidates: list[str]) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _fields_of(model: type[BaseModel]) -> list[str]:
    return [name for name in model.model_fields if not (model is Config and name == "source")]


_SUBMODELS: dict[str, type[BaseModel]] = {
    "retry": RetryConfig,
    "circuit_breaker": BreakerConfig,
    "when": WhenConfig,
    "fallbacks": FallbacksConfig,
}


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class whose fields live at ``loc`` (a cleaned, tag-free location)."""
    if not loc:
        return Config
    if loc == ("server",):
        return ServerConfig
    if len(loc) == 2 and loc[0] == "pricing":
        return PriceConfig
    if loc == ("log",):
        return LogConfig
    if loc[0] == "guardrails":
        return guardrail_model_at(loc)
    if len(loc) < 2 or loc[0] not in _ROUTE_SECTIONS or not isinstance(loc[1], int):
        return None
    model: type[BaseModel] = RouteConfig
    rest = loc[2:]
    while rest:
        key = rest[0]
        if key == "targets" and len(rest) >= 2 and isinstance(rest[1], int):
            model, rest = TargetConfig, rest[2:]
        elif key == "transforms" and len(rest) == 2 and isinstance(rest[1], int):
            return TransformConfig
        elif len(rest) == 1 and key in _SUBMODELS:
            return _SUBMODELS[key]
        else:
            return None
    return model


def _clean_loc(loc: Loc) -> tuple[Loc, type[BaseModel] | None]:
    """Drop the discriminator tag pydantic inserts after ``providers.<name>`` and
    ``log.sinks[i]``."""
    if len(loc) >= 3 and loc[0] == "providers" and loc[2] in PROVIDER_KINDS:
        return (*loc[:2], *loc[3:]), PROVIDER_KINDS[loc[2]]
    if len(loc) >= 4 and loc[:2] == ("log", "sinks") and loc[3] in SINK_KINDS:
        return (*loc[:3], *loc[4:]), SINK_KINDS[loc[3]]
    return loc, None


def _lower_first(msg: str) -> str:
    return msg[:1].lower() + msg[1:] if msg else msg


def _convert_error(err: Mapping[str, Any]) -> tuple[Loc, str] | None:
    raw_loc = tuple(err["loc"])
    if "[key]" in raw_loc:
        if raw_loc[:1] == ("providers",) and raw_loc.index("[key]") == 2:
            return None  # non-string provider names are reported by _cross_check
        key_loc = raw_loc[: raw_loc.index("[key]")]
        if err["type"] == "string_type":
            return key_loc, "keys must be strings"
        return key_loc, _lower_first(str(err["msg"]))
    loc, provider_model = _clean_loc(raw_loc)
    etype = err["type"]
    ctx = err.get("ctx") or {}

    if etype == "missing" and loc == ("providers",):
        return None  # reported by _cross_check
    if etype == "extra_forbidden" and loc:
        parent = loc[:-1]
        tagged = len(parent) == (3 if parent[:1] == ("log",) else 2)
        model = provider_model if provider_model and tagged else _model_at(parent)
        hint = _suggest(loc[-1], _fields_of(model)) if model else ""
        return loc, f"unknown key{hint}"
    if etype in ("union_tag_invalid", "union_tag_not_found") and loc[:2] == ("log", "sinks"):
        kinds = ", ".join(SINK_KINDS)
        if etype == "union_tag_not_found":
            return (*loc, "kind"), f"field required (known kinds: {kinds})"
        hint = _suggest(ctx.get("tag"), list(SINK_KINDS))
        return (*loc, "kind"), f"unknown sink kind {ctx.get('tag')!r} (known: {kinds}){hint}"
    if etype == "union_tag_invalid":
        kinds = ", ".join(PROVIDER_KINDS)
        hint = _suggest(ctx.get("tag"), list(PROVIDER_KINDS))
        return (*loc, "kind"), f"unknown provider kind {ctx.get('tag')!r} (known: {kinds}){hint}"
    if etype == "union_tag_not_found":
        inp = err.get("input")
        if isinstance(inp, Mapping):
            kinds = ", ".join(PROVIDER_KINDS)
            return (*loc, "kind"), f"field required (known kinds: {kinds})"
        return loc, f"expected a mapping, got {_type_name(inp)}"
    if etype in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping, got {_type_name(err.get('input'))}"
    if etype == "list_type":
        return loc, f"expected a list, got {_type_name(err.get('input'))}"
    return loc, _lower_first(str(err["msg"]))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _is_under(loc: Loc, prefixes: set[Loc]) -> bool:
    return any(loc[: len(p)] == p for p in prefixes)


# --------------------------------------------------------------------------- load


def _validate(doc: Mapping[str, Any], source: str, env_problems: list[tuple[Loc, str]]) -> Config:
    problems = [_problem(loc, msg) for loc, msg in env_problems]
    env_paths = {loc for loc, _ in env_problems}

    doc = dict(doc)
    for section in ("server", "routes", "models", "providers", "pricing", "log", "guardrails"):
        if section in doc and doc[section] is None:
            del doc[section]
    if "source" in doc:
        del doc["source"]
        problems.append(_problem(("source",), "unknown key"))

    config: Config | None = None
    try:
        config = Config.model_validate(doc, context={"aigw_checked": True})
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            converted = _convert_error(err)
            if converted is None:
                continue
            loc, msg = converted
            if _is_under(loc, env_paths):
                continue  # the missing variable is the problem, not the empty value
            problems.append(_problem(loc, msg))
    problems.extend(_cross_check(doc))

    if problems or config is None:
        raise ConfigError(problems or ["<root>: invalid configuration"], source)
    return config.model_copy(update={"source": source})


def load_config(
    source: Config | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Load, substitute and validate a configuration.

    ``source`` is ``None`` (the embedded default), a path (``.yaml``/``.yml``,
    ``.json``, ``.toml``; anything else is read as YAML), a mapping, or a
    :class:`Config` (returned as is unless ``overrides`` are given).
    ``env`` (default ``os.environ``) feeds ``${VAR}`` substitution.
    ``overrides`` sets server fields after substitution and before validation;
    ``None`` values are ignored. Raises :class:`ConfigError` listing every problem.
    """
    env = os.environ if env is None else env
    ovr = {k: v for k, v in (overrides or {}).items() if v is not None}

    if isinstance(source, Config):
        if not ovr:
            return source
        # Only what was set: a target's circuit_breaker and caps override its route's
        # field by field, so defaults must not turn into explicit values.
        doc: Any = source.model_dump(exclude={"source"}, exclude_unset=True)
        return _validate(_apply_overrides(doc, ovr), source.source or "<config>", [])

    if source is None:
        label, raw = "<default>", default_config()
    elif isinstance(source, (str, os.PathLike)):
        path = Path(os.fspath(source))
        label = str(path)
        raw = _read_file(path, label)
    elif isinstance(source, Mapping):
        label, raw = "<dict>", source
    else:
        raise TypeError(
            "config source must be None, a path, a mapping or a Config, "
            f"not {type(source).__name__}"
        )

    if raw is None:  # empty file
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError([f"<root>: expected a mapping, got {_type_name(raw)}"], label)

    env_problems: list[tuple[Loc, str]] = []
    doc = _substitute(raw, env, (), env_problems)
    return _validate(_apply_overrides(doc, ovr), label, env_problems)


def _apply_overrides(doc: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    if not overrides:
        return doc
    doc = dict(doc)
    server = doc.get("server")
    if server is None:
        server = {}
    if isinstance(server, Mapping):
        doc["server"] = {**server, **overrides}
    return doc
