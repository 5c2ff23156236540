"""aigw configuration: load, substitute, validate, normalize.

Config is data. This module reads a YAML, JSON or TOML document (or a dict),
substitutes ``${VAR}`` / ``${VAR:-default}`` references from the environment,
validates it with pydantic, and hands the C++ core one normalized JSON document
(:meth:`Config.to_core_json`) with every field it reads resolved: the core has no
defaults and no range checks of its own, so this module is the one source of truth.

Every problem is reported at once, each prefixed with its path in the document
(``providers.mock.latency_ms``, ``routes[1].targets[0].provider``), in a single
:class:`ConfigError`. The schema of each section lives in the private package
``aigw._config``; this module is its public face.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from aigw._config.defaults import default_document
from aigw._config.guardrails import GuardrailConfig, check_guardrails
from aigw._config.log import LogConfig
from aigw._config.log_defaults import MemoryOnlyLog
from aigw._config.problems import convert_error, is_under, type_name
from aigw._config.providers import (
    PROVIDER_KINDS,
    AnthropicProviderConfig,
    AzureProviderConfig,
    BedrockProviderConfig,
    GeminiProviderConfig,
    MockProviderConfig,
    OpenAIProviderConfig,
    ProviderConfig,
)
from aigw._config.route_checks import check_routes
from aigw._config.routes import (
    BreakerConfig,
    FallbacksConfig,
    ModelConfig,
    RetryConfig,
    RouteConfig,
    TargetConfig,
    TransformConfig,
    WhenConfig,
)
from aigw._config.server import ServerConfig
from aigw._config.sources import ConfigError, Loc, problem, read_file, substitute
from aigw._config.tls import TlsConfig, check_tls
from aigw._config.types import (
    NAME_PATTERN,
    NAME_RE,
    ROUTE_SECTIONS,
    NonEmptyStr,
    StrictModel,
    suggest,
)
from aigw.cost import CostConfig, PriceConfig, PriceKey, merged_prices

__all__ = [
    "PROVIDER_KINDS",
    "AnthropicProviderConfig",
    "AzureProviderConfig",
    "BedrockProviderConfig",
    "GeminiProviderConfig",
    "BreakerConfig",
    "Config",
    "ConfigError",
    "FallbacksConfig",
    "GuardrailConfig",
    "LogConfig",
    "MockProviderConfig",
    "ModelConfig",
    "OpenAIProviderConfig",
    "ProviderConfig",
    "RetryConfig",
    "RouteConfig",
    "ServerConfig",
    "TargetConfig",
    "TlsConfig",
    "TransformConfig",
    "WhenConfig",
    "default_config",
    "load_config",
]

# The core document's format; the C++ core refuses any other (GatewayConfig::fromJson).
# 3: every field the core reads is present, resolved; no version-1 "models" list.
CORE_CONFIG_VERSION = 3


class Config(StrictModel):
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
    # The request log (aigw._config.log); None: records in memory only.
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

    @property
    def effective_default_provider(self) -> str:
        """``default_provider``, else the first ``kind: openai`` provider, else the first."""
        if self.default_provider is not None:
            return self.default_provider
        for name, provider in self.providers.items():
            if provider.kind == "openai":
                return name
        return next(iter(self.providers))

    def to_core_dict(self) -> dict[str, Any]:
        """The normalized document the C++ core reads (``source`` is not part of it), every
        field resolved. What only a running Gateway knows starts out off and is set by
        ``Gateway.start``: the request log's journal (``log.enabled``), the cost hook
        (``hooks``) and the loaded Python guardrails' own settings."""
        return {
            "version": CORE_CONFIG_VERSION,
            "server": self.server.to_core_dict(),
            "providers": [
                {"name": name, **provider.to_core_dict()}
                for name, provider in self.providers.items()
            ],
            "routes": [r.to_core_dict() for r in self.all_routes],
            "default_provider": self.effective_default_provider,
            "pricing": merged_prices(self.pricing),
            "guardrails": [g.to_core_dict() for g in self.guardrails],
            "hooks": {"cost": False, "cost_timeout_ms": 0},
            "log": (self.log or MemoryOnlyLog()).to_core_dict(),
        }

    def to_core_json(self) -> str:
        return json.dumps(
            self.to_core_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )


def default_config() -> dict[str, Any]:
    """The embedded default document: every model goes to an offline mock provider
    (aigw._config.defaults, which also has its core document without this validator)."""
    return default_document()


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
                problems.append(problem(("providers", str(key)), "provider name must be a string"))
            elif not NAME_RE.match(key):
                problems.append(
                    problem(
                        ("providers", key),
                        f"invalid provider name {key!r} (must match {NAME_PATTERN})",
                    )
                )

    problems.extend(check_routes(doc, known))
    problems.extend(check_guardrails(doc, ROUTE_SECTIONS))
    problems.extend(check_tls(doc))
    default = doc.get("default_provider")
    if known is not None and isinstance(default, str) and default and default not in known:
        listing = ", ".join(sorted(known)) or "none"
        problems.append(
            problem(
                ("default_provider",),
                f"unknown provider {default!r} (known: {listing}){suggest(default, known)}",
            )
        )
    return problems


def _validate(doc: Mapping[str, Any], source: str, env_problems: list[tuple[Loc, str]]) -> Config:
    problems = [problem(loc, msg) for loc, msg in env_problems]
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
        problems.append(problem(("source",), "unknown key"))

    config: Config | None = None
    try:
        config = Config.model_validate(doc, context={"aigw_checked": True})
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            converted = convert_error(err, Config)
            if converted is None:
                continue
            loc, msg = converted
            if is_under(loc, env_paths):
                continue  # the missing variable is the problem, not the empty value
            problems.append(problem(loc, msg))
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
        raw = read_file(path, label)
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
        raise ConfigError([f"<root>: expected a mapping, got {type_name(raw)}"], label)

    env_problems: list[tuple[Loc, str]] = []
    doc = substitute(raw, env, (), env_problems)
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
