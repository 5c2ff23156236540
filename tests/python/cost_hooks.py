"""Cost hooks loaded by import path from test configs (`cost: {hook: ...}`)."""

from __future__ import annotations

import aigw


def per_request_fee(ctx: aigw.CostContext) -> float | None:
    """The table's cost plus one cent per request."""
    return (ctx.table_cost_usd or 0.0) + 0.01


class Contract:
    """A callable object: a flat price per thousand tokens."""

    async def __call__(self, ctx: aigw.CostContext) -> float | None:
        tokens = (ctx.usage.prompt_tokens or 0) + (ctx.usage.completion_tokens or 0)
        return tokens * 0.002 / 1000


contract = Contract()
