"""Model prices: the table shipped with aigw (``aigw/data/prices.json``) and the ``pricing:``
section of the config that overrides and extends it.

Prices are US dollars per million tokens: ``input`` (uncached prompt tokens), ``output``
(completion tokens) and ``cached_input`` (prompt tokens read from the provider's prompt cache;
defaults to ``input``). The C++ core receives the merged table and computes each answer's cost
(``x-aigw-cost-usd``); see docs/cost.md.

Custom cost functions (a Python hook that prices an answer) come with the hook layer; the core
computes cost in one place (``cost::answerCost``) that a hook's result will replace.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

__all__ = ["PriceConfig", "PriceKey", "merged_prices", "shipped_prices", "shipped_prices_info"]

# Far above any real price per million tokens; keeps typos like 2500000 out.
_MAX_PRICE = 1_000_000.0


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "input should be a valid number, not a boolean")
    return value


def _check_key(value: Any) -> Any:
    if isinstance(value, str) and value.count("*") > 1:
        raise PydanticCustomError("price_key", "{key} has more than one '*'", {"key": repr(value)})
    return value


Usd = Annotated[
    float, BeforeValidator(_reject_bool), Field(ge=0, le=_MAX_PRICE, allow_inf_nan=False)
]
# A model name as the provider reports it, or a pattern with one '*'.
PriceKey = Annotated[str, BeforeValidator(_check_key), Field(min_length=1)]


class PriceConfig(BaseModel):
    """One model's price, in USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    text = resources.files("aigw").joinpath("data/prices.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def shipped_prices_info() -> dict[str, str]:
    """When the shipped table was last updated, and where its prices come from."""
    doc = _shipped()
    return {"updated": str(doc["updated"]), "source": str(doc["source"])}


def shipped_prices() -> dict[str, dict[str, float]]:
    """The shipped table, flat: model name -> {"input", "output", "cached_input"}."""
    out: dict[str, dict[str, float]] = {}
    for models in _shipped()["providers"].values():
        for name, price in models.items():
            out[name] = PriceConfig.model_validate(price).to_core_dict()
    return out


def merged_prices(overrides: Mapping[str, PriceConfig]) -> dict[str, dict[str, float]]:
    """The shipped table with the config's ``pricing:`` entries replacing or adding models."""
    table = shipped_prices()
    for name, price in overrides.items():
        table[name] = price.to_core_dict()
    return table
