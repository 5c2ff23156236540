"""aigw configuration: load, substitute, validate, normalize.

Config is data. This module reads a YAML, JSON or TOML document (or a dict),
substitutes ``${VAR}`` / ``${VAR:-default}`` references from the environment,
validates it with pydantic, and hands the C++ core one normalized JSON document
(:meth:`Config.to_core_json`).

Every problem is reported at once, each prefixed with its path in the document
(``providers.mock.latency_ms``, ``models[1].name``), in a single
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
    _problem,
    _read_file,
    _substitute,
)

__all__ = [
    "PROVIDER_KINDS",
    "Config",
    "ConfigError",
    "MockProviderConfig",
    "ModelConfig",
    "ProviderConfig",
    "ServerConfig",
    "default_config",
    "load_config",
]

CORE_CONFIG_VERSION = 1

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


# --------------------------------------------------------------------------- models


class ModelConfig(_Model):
    name: NonEmptyStr
    provider: NonEmptyStr
    model: NonEmptyStr | None = None

    def to_core_dict(self) -> dict[str, Any]:
        return {"name": self.name, "provider": self.provider, "model": self.model}


# --------------------------------------------------------------------------- config


class Config(_Model):
    server: ServerConfig = Field(default_factory=ServerConfig)
    providers: dict[str, ProviderConfig]
    models: list[ModelConfig] = Field(default_factory=list)
    default_provider: NonEmptyStr | None = None
    source: str | None = None

    @field_validator("server", mode="before")
    @classmethod
    def _server_none(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("models", mode="before")
    @classmethod
    def _models_none(cls, value: Any) -> Any:
        return [] if value is None else value

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Config:
        # load_config runs these checks on the raw document (so they are reported
        # together with field errors); direct construction gets them here.
        if isinstance(info.context, dict) and info.context.get("aigw_checked"):
            return self
        problems = _cross_check(
            {
                "providers": {name: {} for name in self.providers},
                "models": [m.model_dump() for m in self.models],
                "default_provider": self.default_provider,
            }
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_core_dict(self) -> dict[str, Any]:
        """The normalized document the C++ core reads (``source`` is not part of it)."""
        return {
            "version": CORE_CONFIG_VERSION,
            "server": self.server.to_core_dict(),
            "providers": [
                {"name": name, **provider.to_core_dict()}
                for name, provider in self.providers.items()
            ],
            "models": [m.to_core_dict() for m in self.models],
            "default_provider": self.default_provider,
        }

    def to_core_json(self) -> str:
        return json.dumps(
            self.to_core_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )


# --------------------------------------------------------------------------- defaults


def default_config() -> dict[str, Any]:
    """The embedded default document: every model goes to an offline mock provider."""
    return {
        "server": {},
        "providers": {"mock": {"kind": "mock"}},
        "models": [
            {"name": "mock-gpt", "provider": "mock"},
            {"name": "mock-embedding", "provider": "mock"},
            {"name": "*", "provider": "mock"},
        ],
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

    models = doc.get("models")
    if isinstance(models, list):
        first_seen: dict[str, int] = {}
        for i, item in enumerate(models):
            if not isinstance(item, Mapping):
                continue
            name = item.get("name")
            if isinstance(name, str) and name:
                if name in first_seen:
                    problems.append(
                        _problem(
                            ("models", i, "name"),
                            f"duplicate model name {name!r} "
                            f"(first defined at models[{first_seen[name]}])",
                        )
                    )
                else:
                    first_seen[name] = i
            prov = item.get("provider")
            if known is not None and isinstance(prov, str) and prov and prov not in known:
                listing = ", ".join(sorted(known)) or "none"
                hint = _suggest(prov, known)
                problems.append(
                    _problem(
                        ("models", i, "provider"),
                        f"unknown provider {prov!r} (known: {listing}){hint}",
                    )
                )
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


def _suggest(word: Any, candidates: list[str]) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _fields_of(model: type[BaseModel]) -> list[str]:
    return [name for name in model.model_fields if not (model is Config and name == "source")]


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class whose fields live at ``loc`` (a cleaned, tag-free location)."""
    if not loc:
        return Config
    if loc == ("server",):
        return ServerConfig
    if len(loc) == 2 and loc[0] == "models":
        return ModelConfig
    return None


def _clean_loc(loc: Loc) -> tuple[Loc, type[BaseModel] | None]:
    """Drop the discriminator tag pydantic inserts after ``providers.<name>``."""
    if len(loc) >= 3 and loc[0] == "providers" and loc[2] in PROVIDER_KINDS:
        return (*loc[:2], *loc[3:]), PROVIDER_KINDS[loc[2]]
    return loc, None


def _lower_first(msg: str) -> str:
    return msg[:1].lower() + msg[1:] if msg else msg


def _convert_error(err: Mapping[str, Any]) -> tuple[Loc, str] | None:
    raw_loc = tuple(err["loc"])
    if "[key]" in raw_loc:
        return None  # non-string provider names are reported by _cross_check
    loc, provider_model = _clean_loc(raw_loc)
    etype = err["type"]
    ctx = err.get("ctx") or {}

    if etype == "missing" and loc == ("providers",):
        return None  # reported by _cross_check
    if etype == "extra_forbidden" and loc:
        parent = loc[:-1]
        model = provider_model if provider_model and len(parent) == 2 else _model_at(parent)
        hint = _suggest(loc[-1], _fields_of(model)) if model else ""
        return loc, f"unknown key{hint}"
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
    for section in ("server", "models", "providers"):
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
        doc: Any = source.model_dump(exclude={"source"})
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
