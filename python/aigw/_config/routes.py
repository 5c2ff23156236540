"""The ``routes:`` section of the config (routes, targets, strategies, retries, breakers,
fallbacks) and the plan the core gets of each route, every field resolved; the checks that
span routes are in :mod:`aigw._config.route_checks`. The engine is C++ (docs/routing.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from aigw._config.types import (
    HEADER_NAME_RE,
    Float,
    Int,
    NonEmptyStr,
    NonNegInt,
    NonNegSeconds,
    PosInt,
    PosSeconds,
    StrictModel,
    to_ms,
)

Strategy = Literal["single", "fallback", "weighted", "conditional", "least_latency", "least_busy"]
RetryOn = Literal["connect", "timeout", "5xx", "429"]
RETRY_ON: tuple[RetryOn, ...] = ("connect", "timeout", "5xx", "429")
FALLBACK_KINDS = ("context_window_exceeded", "content_policy_violation", "unavailable")
# Keys that belong to a target (a leaf); a nested group (with `targets`) may not have them.
TARGET_ONLY_KEYS = (
    "model",
    "transforms",
    "connect_timeout",
    "first_byte_timeout",
    "stream_idle_timeout",
    "max_in_flight",
    "max_pending",
    "circuit_breaker",
)
MAX_U32 = 2**32 - 1
MAX_WEIGHT = 1_000_000


def to_list(value: Any) -> Any:
    """A scalar where a list belongs becomes a one-element list."""
    return [value] if isinstance(value, (str, int, float)) else value


def int_to_str(value: Any) -> Any:
    # YAML reads `429` and `x-version: 2` as integers; they are meant as text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def check_path(value: str) -> str:
    if not value or any(part == "" for part in value.split(".")):
        raise PydanticCustomError(
            "field_path",
            "invalid field path {path} (dotted keys, no empty parts)",
            {"path": repr(value)},
        )
    return value


def check_json_value(value: Any) -> Any:
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


FieldPath = Annotated[str, AfterValidator(check_path)]
Glob = Annotated[str, BeforeValidator(int_to_str), Field(min_length=1)]
GlobList = Annotated[list[Glob], BeforeValidator(to_list), Field(min_length=1)]
JsonValue = Annotated[Any, AfterValidator(check_json_value)]
Weight = Annotated[Int, Field(ge=1, le=MAX_WEIGHT)]


class WhenConfig(StrictModel):
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
            if not HEADER_NAME_RE.match(name):
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


class TransformConfig(StrictModel):
    """One request transform: exactly one of set/drop/rename, optionally conditional."""

    set: dict[FieldPath, JsonValue] | None = None
    drop: Annotated[list[FieldPath], BeforeValidator(to_list), Field(min_length=1)] | None = None
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


class BreakerConfig(StrictModel):
    """Circuit breaker settings; a target's block overrides its route's field by field."""

    enabled: bool = True
    consecutive_failures: Annotated[Int, Field(ge=0, le=MAX_U32)] = 5
    failure_rate: Annotated[Float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    min_requests: Annotated[Int, Field(ge=1, le=MAX_U32)] = 20
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
            "window_ms": to_ms(self.window, positive=True),
            "ejection_ms": to_ms(self.ejection_time, positive=True),
            "max_ejection_ms": to_ms(self.max_ejection_time, positive=True),
        }


def retry_on_key(value: Any) -> Any:
    # YAML 1.1 reads a bare `on:` key as the boolean true.
    if isinstance(value, Mapping) and True in value and "on" not in value:
        return {("on" if k is True else k): v for k, v in value.items()}
    return value


class RetryConfig(StrictModel):
    # None: 3, but never fewer than the route's number of targets.
    attempts: Annotated[Int, Field(ge=1, le=20)] | None = None
    on: Annotated[
        list[Annotated[RetryOn, BeforeValidator(int_to_str)]],
        BeforeValidator(to_list),
    ] = Field(default_factory=lambda: list(RETRY_ON))
    backoff: NonNegSeconds = 0.1
    max_backoff: NonNegSeconds = 5.0
    budget: Annotated[Float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.2
    min_retries: Annotated[Int, Field(ge=0, le=MAX_U32)] = 3
    max_retry_after: NonNegSeconds = 60.0
    # False: an error answer the gateway could retry tells SDKs not to retry it again.
    client_retries: bool = False

    @model_validator(mode="before")
    @classmethod
    def _key_on(cls, value: Any) -> Any:
        return retry_on_key(value)

    def to_core_dict(self, targets: int) -> dict[str, Any]:
        attempts = self.attempts if self.attempts is not None else max(3, targets)
        return {
            "attempts": attempts,
            "on_connect": "connect" in self.on,
            "on_timeout": "timeout" in self.on,
            "on_5xx": "5xx" in self.on,
            "on_429": "429" in self.on,
            "backoff_base_ms": to_ms(self.backoff, positive=False),
            "backoff_max_ms": to_ms(self.max_backoff, positive=False),
            "budget_ratio": float(self.budget),
            "budget_min": self.min_retries,
            "max_retry_after_ms": to_ms(self.max_retry_after, positive=False),
            "client_retries": self.client_retries,
        }


class FallbacksConfig(StrictModel):
    """Routes that take over a request by error class (route names)."""

    context_window_exceeded: NonEmptyStr | None = None
    content_policy_violation: NonEmptyStr | None = None
    unavailable: NonEmptyStr | None = None

    def to_core_dict(self) -> dict[str, str | None]:
        """Every error class, null where no route takes over."""
        return {kind: getattr(self, kind) for kind in FALLBACK_KINDS}


class TargetDefaults(StrictModel):
    """Per-target settings a route sets as defaults for its targets."""

    connect_timeout: PosSeconds | None = None
    first_byte_timeout: PosSeconds | None = None
    stream_idle_timeout: PosSeconds | None = None
    max_in_flight: PosInt | None = None
    max_pending: NonNegInt = 0
    circuit_breaker: BreakerConfig | None = None


class TargetConfig(TargetDefaults):
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
                "strategy": resolved_strategy(self.strategy, len(self.targets)),
                "weight": self.weight,
                "when": when,
                "children": [t.to_core_node(route) for t in self.targets],
            }
        return target_node(self, route, weight=self.weight, when=when)

    def leaves(self) -> int:
        if self.targets is None:
            return 1
        return sum(t.leaves() for t in self.targets)


def resolved_strategy(given: str | None, children: int) -> str:
    if given is not None:
        return given
    return "single" if children == 1 else "fallback"


def target_node(
    src: TargetDefaults,
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
        return 0 if value is None else to_ms(value, positive=True)

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


class RouteConfig(TargetDefaults):
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
    # Request fields a translating provider drops instead of refusing with a 400: top-level
    # names ("seed"), nested paths without indices ("messages.name"), or "*" for every field
    # the target cannot express (docs/providers.md).
    drop_params: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list
    )

    @field_validator("aliases", "transforms", "retry", "fallbacks", "drop_params", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return [] if info.field_name in ("aliases", "transforms", "drop_params") else {}
        return value

    def leaves(self) -> int:
        """The number of targets (leaves) in the plan."""
        if self.targets is None:
            return 1
        return sum(t.leaves() for t in self.targets)

    def plan(self) -> dict[str, Any]:
        if self.targets is None:
            children = [target_node(self, self, weight=1, when=None)]
            strategy = "single"
        else:
            children = [t.to_core_node(self) for t in self.targets]
            strategy = resolved_strategy(self.strategy, len(self.targets))
        return {
            "type": "group",
            "strategy": strategy,
            "weight": 1,
            "when": None,
            "children": children,
        }

    def to_core_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "plan": self.plan(),
            "retry": self.retry.to_core_dict(self.leaves()),
            "timeout_ms": 0 if self.timeout is None else to_ms(self.timeout, positive=True),
            "fallbacks": self.fallbacks.to_core_dict(),
            # null: the guardrails marked `default: true` (an empty list: none)
            "guardrails": None if self.guardrails is None else list(self.guardrails),
            "drop_params": list(self.drop_params),
        }


# The entries of the older `models:` list are routes too.
ModelConfig = RouteConfig

TargetConfig.model_rebuild()
