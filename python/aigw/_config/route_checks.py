"""Checks of the ``routes:`` section that span fields: unique names and aliases, plan shapes,
known providers, transforms and fallbacks. They read the raw document, so they are reported
together with the schema's field errors (aigw.config)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigw._config.routes import FALLBACK_KINDS, TARGET_ONLY_KEYS
from aigw._config.sources import Loc, fmt_path, problem
from aigw._config.types import ROUTE_SECTIONS, suggest


def route_entries(doc: Mapping[Any, Any]) -> list[tuple[Loc, Mapping[Any, Any]]]:
    """Every route of the document with its location, ``models:`` (the older name) first."""
    out: list[tuple[Loc, Mapping[Any, Any]]] = []
    for section in ROUTE_SECTIONS:
        items = doc.get(section)
        if isinstance(items, list):
            out.extend(
                ((section, i), item) for i, item in enumerate(items) if isinstance(item, Mapping)
            )
    return out


def given(node: Mapping[Any, Any], key: str) -> bool:
    # `key: null` in YAML is as good as leaving the key out.
    return node.get(key) is not None


def check_routes(doc: Mapping[Any, Any], known: list[str] | None) -> list[str]:
    """Names, plans, providers, transforms and fallbacks of every route (raw data)."""
    problems: list[str] = []
    entries = route_entries(doc)
    seen: dict[str, Loc] = {}  # name or alias -> where it was first defined
    names: list[str] = []  # route names (fallbacks refer to these)

    def claim(name: Any, loc: Loc) -> None:
        if not isinstance(name, str) or not name:
            return
        if name in seen:
            first = fmt_path(seen[name])
            problems.append(
                problem(loc, f"duplicate route name {name!r} (first defined at {first})")
            )
        else:
            seen[name] = loc

    for loc, route in entries:
        name = route.get("name")
        if isinstance(name, str):
            names.append(name)
            if name.count("*") > 1:
                problems.append(problem((*loc, "name"), f"{name!r} has more than one '*'"))
        claim(name, (*loc, "name"))
        aliases = route.get("aliases")
        if isinstance(aliases, list):
            for j, alias in enumerate(aliases):
                if isinstance(alias, str) and "*" in alias:
                    problems.append(
                        problem(
                            (*loc, "aliases", j), f"an alias is an exact name; {alias!r} has a '*'"
                        )
                    )
                claim(alias, (*loc, "aliases", j))

        shorthand, group = given(route, "provider"), given(route, "targets")
        if shorthand and group:
            problems.append(
                problem(loc, "give either `provider` (one target) or `targets`, not both")
            )
        elif not shorthand and not group:
            problems.append(problem(loc, "needs `provider` (one target) or `targets`"))
        if group:
            for key in ("model", "transforms"):
                if given(route, key):
                    problems.append(
                        problem(
                            (*loc, key),
                            "belongs to the one-target form (`provider`); with `targets`, "
                            "set it on a target",
                        )
                    )
            check_group(loc, route, known, problems)
        else:
            if given(route, "strategy"):
                problems.append(problem((*loc, "strategy"), "only with `targets`"))
            check_target(loc, route, known, problems)

        retry = route.get("retry")
        if isinstance(retry, Mapping):
            base, cap = retry.get("backoff", 0.1), retry.get("max_backoff", 5.0)
            if is_number(base) and is_number(cap) and cap < base:
                problems.append(
                    problem((*loc, "retry", "max_backoff"), f"is less than backoff ({base})")
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
                problems.append(problem(where, f"names the route itself ({target!r})"))
            elif target not in names:
                problems.append(problem(where, f"unknown route {target!r}{suggest(target, names)}"))
    return problems


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_group(
    loc: Loc, node: Mapping[Any, Any], known: list[str] | None, problems: list[str]
) -> None:
    """A route with `targets`, or a nested group."""
    targets = node.get("targets")
    if not isinstance(targets, list):
        return  # field error
    strategy = node.get("strategy")
    if not targets:
        problems.append(problem((*loc, "targets"), "must not be empty"))
    elif strategy == "single" and len(targets) > 1:
        problems.append(
            problem(
                (*loc, "strategy"),
                f"'single' takes one target, this group has {len(targets)} "
                "(use fallback, weighted, conditional, least_latency or least_busy)",
            )
        )
    for j, child in enumerate(targets):
        if not isinstance(child, Mapping):
            continue
        cloc = (*loc, "targets", j)
        if given(child, "when") and strategy != "conditional":
            problems.append(
                problem((*cloc, "when"), "only on the targets of a `strategy: conditional` group")
            )
        is_target, is_group = given(child, "provider"), given(child, "targets")
        if is_target and is_group:
            problems.append(
                problem(
                    cloc,
                    "give either `provider` (a target) or `targets` (a nested group), not both",
                )
            )
        elif not is_target and not is_group:
            problems.append(
                problem(cloc, "needs `provider` (a target) or `targets` (a nested group)")
            )
        if is_group:
            for key in TARGET_ONLY_KEYS:
                if given(child, key) and not is_target:
                    problems.append(
                        problem((*cloc, key), "not allowed on a group; set it on its targets")
                    )
            check_group(cloc, child, known, problems)
        else:
            if given(child, "strategy"):
                problems.append(problem((*cloc, "strategy"), "only on a group (with `targets`)"))
            check_target(cloc, child, known, problems)


def check_target(
    loc: Loc, node: Mapping[Any, Any], known: list[str] | None, problems: list[str]
) -> None:
    """A target, or a route in the one-target form."""
    prov = node.get("provider")
    if known is not None and isinstance(prov, str) and prov and prov not in known:
        listing = ", ".join(sorted(known)) or "none"
        problems.append(
            problem(
                (*loc, "provider"),
                f"unknown provider {prov!r} (known: {listing}){suggest(prov, known)}",
            )
        )
    model = node.get("model")
    if isinstance(model, str) and model.count("*") > 1:
        problems.append(problem((*loc, "model"), f"{model!r} has more than one '*'"))
    transforms = node.get("transforms")
    if isinstance(transforms, list):
        for k, item in enumerate(transforms):
            if not isinstance(item, Mapping):
                continue
            ops = [op for op in ("set", "drop", "rename") if given(item, op)]
            if not ops:
                problems.append(problem((*loc, "transforms", k), "needs one of set, drop, rename"))
            elif len(ops) > 1:
                problems.append(
                    problem(
                        (*loc, "transforms", k),
                        f"give exactly one of set, drop, rename (got {' and '.join(ops)})",
                    )
                )
