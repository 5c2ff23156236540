"""Model prices: the table shipped with aigw (``aigw/data/prices.json``) and the ``pricing:``
section of the config that overrides and extends it.

Prices are US dollars per million tokens: ``input`` (uncached prompt tokens), ``output``
(completion tokens) and ``cached_input`` (prompt tokens read from the provider's prompt cache;
defaults to ``input``). The C++ core receives the merged table and computes each answer's cost
(``x-aigw-cost-usd``); see docs/cost.md.

A custom cost hook prices answers itself (a negotiated contract, per-request fees, another
currency): a function, sync or ``async def``, that gets a :class:`CostContext` and returns the
cost in USD, or None to keep the table's. Configure it as ``cost: {hook: "module:attr"}``
(:class:`CostConfig`) or pass ``aigw.Gateway(cost_hook=fn)``. It runs on the gateway's hook
thread, never on the data plane's loops; the answer waits for it (up to ``cost.timeout``), so
the cost it returns is the one in ``x-aigw-cost-usd``, the stream's ``: aigw_cost_usd``
comment, the request's log record and ``gw.usage()``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from aigw._config.types import Float, ImportPath, StrictModel
from aigw._price_table import shipped_document, shipped_prices_info

__all__ = [
    "CostConfig",
    "CostContext",
    "CostHook",
    "Price",
    "PriceConfig",
    "PriceKey",
    "Usage",
    "merged_prices",
    "shipped_prices",
    "shipped_prices_info",
]

# Far above any real price per million tokens; keeps typos like 2500000 out.
_MAX_PRICE = 1_000_000.0


def _check_key(value: Any) -> Any:
    if isinstance(value, str) and value.count("*") > 1:
        raise PydanticCustomError("price_key", "{key} has more than one '*'", {"key": repr(value)})
    return value


Usd = Annotated[Float, Field(ge=0, le=_MAX_PRICE, allow_inf_nan=False)]
# A model name as the provider reports it, or a pattern with one '*'.
PriceKey = Annotated[str, BeforeValidator(_check_key), Field(min_length=1)]


class PriceConfig(StrictModel):
    """One model's price, in USD per million tokens."""

    input: Usd
    output: Usd = 0.0
    cached_input: Usd | None = None  # None: the input price

    def to_core_dict(self) -> dict[str, float]:
        cached = self.input if self.cached_input is None else self.cached_input
        return {
            "input": float(self.input),
            "output": float(self.output),
            "cached_input": float(cached),
        }


@functools.cache
def _shipped_flat() -> dict[str, dict[str, float]]:
    """The shipped table, validated once (every start and core document reads it)."""
    out: dict[str, dict[str, float]] = {}
    for models in shipped_document()["providers"].values():
        for name, price in models.items():
            out[name] = PriceConfig.model_validate(price).to_core_dict()
    return out


def shipped_prices() -> dict[str, dict[str, float]]:
    """The shipped table, flat: model name -> {"input", "output", "cached_input"} (a copy the
    caller may change)."""
    return {name: dict(price) for name, price in _shipped_flat().items()}


def merged_prices(overrides: Mapping[str, PriceConfig]) -> dict[str, dict[str, float]]:
    """The shipped table with the config's ``pricing:`` entries replacing or adding models."""
    table = shipped_prices()
    for name, price in overrides.items():
        table[name] = price.to_core_dict()
    return table


# --------------------------------------------------------------------------- custom cost


@dataclass(frozen=True)
class Usage:
    """The token counts an answer reported; None where the provider said nothing."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None  # prompt tokens read from the provider's cache (in prompt)


@dataclass(frozen=True)
class Price:
    """A price from the table, in USD per million tokens."""

    input: float
    output: float
    cached_input: float


@dataclass(frozen=True)
class CostContext:
    """What a cost hook sees of one answer (an owned copy, safe to keep).

    ``model`` is the model that answered (``x-aigw-model``: the upstream model of the target
    that served it), ``requested_model`` the one the client asked for. ``price`` is the table's
    price of the answer (None when the table has none) and ``table_cost_usd`` what that price
    makes of ``usage`` (None without a price or without usage): return it, or None, to keep it.
    ``partial`` says a stream was cut by an upstream error or the deadline after it reported
    its usage. ``headers`` are the request's (lower-case names, credentials removed);
    ``metadata`` is the request body's ``metadata`` object ({} when it has none).
    """

    request_id: str
    endpoint: str | None
    provider: str | None
    model: str | None
    requested_model: str | None
    route: str | None
    stream: bool
    status: int
    partial: bool
    usage: Usage
    price: Price | None
    table_cost_usd: float | None
    headers: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, payload: str | Mapping[str, Any]) -> CostContext:
        """Builds the view from the data plane's snapshot (JSON text or its dict)."""
        d: Mapping[str, Any] = json.loads(payload) if isinstance(payload, str) else payload
        u = d.get("usage") or {}
        p = d.get("price")
        table = d.get("table_cost_usd")
        return cls(
            request_id=str(d.get("request_id", "")),
            endpoint=d.get("endpoint"),
            provider=d.get("provider"),
            model=d.get("model"),
            requested_model=d.get("requested_model"),
            route=d.get("route"),
            stream=bool(d.get("stream")),
            status=int(d.get("status") or 0),
            partial=bool(d.get("partial")),
            usage=Usage(u.get("prompt_tokens"), u.get("completion_tokens"), u.get("cached_tokens")),
            price=None if p is None else Price(p["input"], p["output"], p["cached_input"]),
            table_cost_usd=None if table is None else float(table),
            headers=dict(d.get("headers") or {}),
            metadata=dict(d.get("metadata") or {}),
        )


# The function a cost hook is: USD (a number >= 0), or None for the table's cost.
CostHook = Callable[[CostContext], float | None | Awaitable[float | None]]


class CostConfig(StrictModel):
    """The ``cost:`` section: a custom cost hook and how long an answer waits for it.

    ``on_error`` says what an answer costs when the hook raises, times out or returns something
    that is not a number >= 0 (or None): ``"table"`` (the default) keeps the table's cost,
    ``"null"`` leaves the answer without a cost (an unpriced request).
    """

    hook: ImportPath | None = None  # "module:attr"
    timeout: Annotated[Float, Field(gt=0, le=600, allow_inf_nan=False)] = 1.0
    on_error: Literal["table", "null"] = "table"
