"""Pydantic's validation errors as the config reports them: ``path: message``, the path in the
user's document (the discriminator tags pydantic inserts removed), messages in the config's
own words ("unknown key; did you mean ...", "expected a mapping, got a list")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from aigw._config.guardrails import guardrail_model_at
from aigw._config.log import SINK_KINDS, LogConfig
from aigw._config.providers import PROVIDER_KINDS
from aigw._config.routes import (
    BreakerConfig,
    FallbacksConfig,
    RetryConfig,
    RouteConfig,
    TargetConfig,
    TransformConfig,
    WhenConfig,
)
from aigw._config.server import ServerConfig
from aigw._config.sources import Loc
from aigw._config.tls import TlsConfig
from aigw._config.types import ROUTE_SECTIONS, suggest
from aigw.cost import CostConfig, PriceConfig

# The sections of a route that are models of their own (for "did you mean").
ROUTE_SUBMODELS: dict[str, type[BaseModel]] = {
    "retry": RetryConfig,
    "circuit_breaker": BreakerConfig,
    "when": WhenConfig,
    "fallbacks": FallbacksConfig,
}


def fields_of(model: type[BaseModel], root: type[BaseModel]) -> list[str]:
    # `source` is the loader's note of where a document came from, not a key of it.
    return [name for name in model.model_fields if not (model is root and name == "source")]


def model_at(loc: Loc, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class whose fields live at ``loc`` (a cleaned, tag-free location)."""
    if not loc:
        return root
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
    if len(loc) < 2 or loc[0] not in ROUTE_SECTIONS or not isinstance(loc[1], int):
        return None
    model: type[BaseModel] = RouteConfig
    rest = loc[2:]
    while rest:
        key = rest[0]
        if key == "targets" and len(rest) >= 2 and isinstance(rest[1], int):
            model, rest = TargetConfig, rest[2:]
        elif key == "transforms" and len(rest) == 2 and isinstance(rest[1], int):
            return TransformConfig
        elif len(rest) == 1 and key in ROUTE_SUBMODELS:
            return ROUTE_SUBMODELS[key]
        else:
            return None
    return model


def clean_loc(loc: Loc) -> tuple[Loc, type[BaseModel] | None]:
    """Drop the discriminator tag pydantic inserts after ``providers.<name>`` and
    ``log.sinks[i]``."""
    if len(loc) >= 3 and loc[0] == "providers" and loc[2] in PROVIDER_KINDS:
        return (*loc[:2], *loc[3:]), PROVIDER_KINDS[loc[2]]
    if len(loc) >= 4 and loc[:2] == ("log", "sinks") and loc[3] in SINK_KINDS:
        return (*loc[:3], *loc[4:]), SINK_KINDS[loc[3]]
    return loc, None


def lower_first(msg: str) -> str:
    return msg[:1].lower() + msg[1:] if msg else msg


def convert_error(err: Mapping[str, Any], root: type[BaseModel]) -> tuple[Loc, str] | None:
    """One pydantic error as (path, message); None when a cross-field check reports it."""
    raw_loc = tuple(err["loc"])
    if "[key]" in raw_loc:
        if raw_loc[:1] == ("providers",) and raw_loc.index("[key]") == 2:
            return None  # non-string provider names are reported by the cross checks
        key_loc = raw_loc[: raw_loc.index("[key]")]
        if err["type"] == "string_type":
            return key_loc, "keys must be strings"
        return key_loc, lower_first(str(err["msg"]))
    loc, provider_model = clean_loc(raw_loc)
    etype = err["type"]
    ctx = err.get("ctx") or {}

    if etype == "missing" and loc == ("providers",):
        return None  # reported by the cross checks
    if etype == "extra_forbidden" and loc:
        parent = loc[:-1]
        tagged = len(parent) == (3 if parent[:1] == ("log",) else 2)
        model = provider_model if provider_model and tagged else model_at(parent, root)
        hint = suggest(loc[-1], fields_of(model, root)) if model else ""
        return loc, f"unknown key{hint}"
    if etype in ("union_tag_invalid", "union_tag_not_found") and loc[:2] == ("log", "sinks"):
        kinds = ", ".join(SINK_KINDS)
        if etype == "union_tag_not_found":
            return (*loc, "kind"), f"field required (known kinds: {kinds})"
        hint = suggest(ctx.get("tag"), list(SINK_KINDS))
        return (*loc, "kind"), f"unknown sink kind {ctx.get('tag')!r} (known: {kinds}){hint}"
    if etype == "union_tag_invalid":
        kinds = ", ".join(PROVIDER_KINDS)
        hint = suggest(ctx.get("tag"), list(PROVIDER_KINDS))
        return (*loc, "kind"), f"unknown provider kind {ctx.get('tag')!r} (known: {kinds}){hint}"
    if etype == "union_tag_not_found":
        inp = err.get("input")
        if isinstance(inp, Mapping):
            kinds = ", ".join(PROVIDER_KINDS)
            return (*loc, "kind"), f"field required (known kinds: {kinds})"
        return loc, f"expected a mapping, got {type_name(inp)}"
    if etype in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping, got {type_name(err.get('input'))}"
    if etype == "list_type":
        return loc, f"expected a list, got {type_name(err.get('input'))}"
    return loc, lower_first(str(err["msg"]))


def type_name(value: Any) -> str:
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


def is_under(loc: Loc, prefixes: set[Loc]) -> bool:
    return any(loc[: len(p)] == p for p in prefixes)
