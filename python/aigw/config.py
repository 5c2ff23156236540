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

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aigw._config_sources import (
    ConfigError,
    Loc,
    _problem,
    _read_file,
    _substitute,
)
from aigw._config_types import (
    _HEADER_NAME_RE,
    _NAME_RE,
    _ROUTE_SECTIONS,
    NAME_PATTERN,
    Float,
    Int,
    NonEmptyStr,
    NonNegInt,
    NonNegSeconds,
    PosInt,
    PosSeconds,
    _lower_str,
    _Model,
    _ms,
    _opt_int,
    _suggest,
)
from aigw._default_config import default_document
from aigw._guardrail_config import (
    GuardrailConfig,
    check_guardrails,
    guardrail_model_at,
    guardrails_core,
)
from aigw._log_config import SINK_KINDS, LogConfig
from aigw._route_config import (
    BreakerConfig,
    FallbacksConfig,
    ModelConfig,
    RetryConfig,
    RouteConfig,
    TargetConfig,
    TransformConfig,
    WhenConfig,
    _check_routes,
)
from aigw._tls_config import TlsConfig, check_tls
from aigw.cost import CostConfig, PriceConfig, PriceKey, merged_prices

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
    "TlsConfig",
    "default_config",
    "load_config",
]

CORE_CONFIG_VERSION = 2

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
    # HTTPS for clients (aigw/_tls_config.py); None: plain HTTP.
    tls: TlsConfig | None = None

    def to_core_dict(self) -> dict[str, Any]:
        core = {
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
        if self.tls is not None:  # absent: plain HTTP
            core["tls"] = self.tls.to_core_dict()
        return core


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


# ----------------------------------------------------- routes: in aigw._route_config


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
    # A custom cost hook (aigw.cost.CostConfig); None: the table prices every answer.
    cost: CostConfig | None = None
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
                "server": {"tls": self.server.tls.model_dump(exclude_unset=True)}
                if self.server.tls is not None
                else {},
            }
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

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
        if self.log is not None:  # the Gateway adds the journal's place (request_log)
            core["log"] = self.log.to_core_dict()
        return core

    def to_core_json(self) -> str:
        return json.dumps(
            self.to_core_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )


# --------------------------------------------------------------------------- defaults


def default_config() -> dict[str, Any]:
    """The embedded default document: every model goes to an offline mock provider
    (aigw._default_config, which also has its core document without this validator)."""
    return default_document()


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
            elif not _NAME_RE.match(key):
                problems.append(
                    _problem(
                        ("providers", key),
                        f"invalid provider name {key!r} (must match {NAME_PATTERN})",
                    )
                )

    problems.extend(_check_routes(doc, known))
    problems.extend(check_guardrails(doc, _ROUTE_SECTIONS))
    problems.extend(check_tls(doc))
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
    if loc == ("server", "tls"):
        return TlsConfig
    if len(loc) == 2 and loc[0] == "pricing":
        return PriceConfig
    if loc == ("log",):
        return LogConfig
    if loc == ("cost",):
        return CostConfig
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
    for section in (
        "server",
        "routes",
        "models",
        "providers",
        "pricing",
        "cost",
        "log",
        "guardrails",
    ):
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
