"""The ``guardrails:`` section of the config, the core document's entry of each guardrail
(every field of its kind resolved), and the checks that span the section.

RE2 syntax is checked through the native module when it is importable (the C++ core compiles
the patterns again, so nothing invalid gets through either way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, field_validator

from aigw._config import guardrail_defaults as defaults
from aigw._config.sources import Loc, problem
from aigw._config.types import (
    NAME_PATTERN,
    Float,
    ImportPath,
    Int,
    NonEmptyStr,
    PosInt,
    StrictModel,
    suggest,
)

Kind = Literal["phrases", "regex", "limits", "moderation", "python"]
Stage = Literal["input", "during", "output", "stream"]
Preset = Literal["email", "phone", "card", "secrets"]
STAGES: tuple[str, ...] = get_args(Stage)
# The keys that belong to one kind only.
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "phrases": ("phrases", "whole_words"),
    "regex": ("patterns", "presets", "case_insensitive"),
    "limits": ("max_input_tokens", "max_messages", "max_input_bytes"),
    "moderation": ("provider", "model"),
    "python": ("hook", "options"),
}
SHARED_KIND_KEYS = {
    "replacement": ("phrases", "regex"),
    "timeout": ("moderation", "python"),
    "window": ("regex", "python"),
}


class GuardrailBlockConfig(StrictModel):
    """What a block answers: status, message, error type and code."""

    status: Annotated[Int, Field(ge=400, le=599)] = defaults.BLOCK_STATUS
    # None: "the request was blocked by guardrail '<name>'" (plus the rule, for built-ins).
    message: NonEmptyStr | None = None
    type: NonEmptyStr = defaults.BLOCK_TYPE
    code: NonEmptyStr = defaults.BLOCK_CODE


class GuardrailConfig(StrictModel):
    """One guardrail: a built-in check, where it runs, and what it does when it matches."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    kind: Kind
    stage: Stage | list[Stage] = "input"
    priority: Annotated[Int, Field(ge=-1_000_000, le=1_000_000)] = 0
    action: Literal["block", "redact"] = "block"
    on_error: Literal["block", "allow"] = "block"
    default: bool = False
    request_selectable: bool = False
    passthrough: bool = False
    block: GuardrailBlockConfig = Field(default_factory=GuardrailBlockConfig)
    # phrases
    phrases: list[NonEmptyStr] | None = None
    whole_words: bool | None = None
    # regex
    patterns: list[NonEmptyStr] | None = None
    presets: list[Preset] | None = None
    case_insensitive: bool | None = None
    # regex and python: bytes a stream window holds back (a match split across chunks is seen whole)
    window: Annotated[Int, Field(ge=0, le=1_048_576)] | None = None
    # phrases and regex
    replacement: str | None = None
    # limits
    max_input_tokens: PosInt | None = None
    max_messages: PosInt | None = None
    max_input_bytes: PosInt | None = None
    # moderation: a provider whose /v1/moderations answers like OpenAI's
    provider: NonEmptyStr | None = None
    model: NonEmptyStr | None = None
    timeout: Annotated[Float, Field(gt=0, le=600, allow_inf_nan=False)] | None = None
    # python: "module:attribute" naming an aigw.Guardrail subclass (built with `options`), an
    # instance, or a check function; it runs on the hook thread (docs/guardrails-python.md).
    hook: ImportPath | None = None
    options: dict[str, Any] | None = None

    @field_validator("block", mode="before")
    @classmethod
    def _block_none(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def stages(self) -> list[str]:
        given = [self.stage] if isinstance(self.stage, str) else list(self.stage)
        return [s for s in STAGES if s in given]

    def to_core_dict(self) -> dict[str, Any]:
        """The core document's entry: the shared fields and every field of the kind, resolved.
        A Gateway replaces a ``kind: python`` entry with its loaded hook's own settings."""
        return {
            "name": self.name,
            "kind": self.kind,
            "stages": self.stages,
            "priority": self.priority,
            "action": self.action,
            "on_error": self.on_error,
            "default": self.default,
            "request_selectable": self.request_selectable,
            "passthrough": self.passthrough,
            "everywhere": False,  # only guardrails passed to aigw.Gateway(guardrails=...)
            "block": self.block.model_dump(),
            **self.kind_core_fields(),
        }

    def kind_core_fields(self) -> dict[str, Any]:
        replacement = defaults.REPLACEMENT if self.replacement is None else self.replacement
        window = defaults.WINDOW if self.window is None else self.window
        timeout_ms = defaults.timeout_ms(defaults.TIMEOUT if self.timeout is None else self.timeout)
        if self.kind == "phrases":
            return {
                "phrases": list(self.phrases or []),
                "whole_words": bool(self.whole_words),
                "replacement": replacement,
            }
        if self.kind == "regex":
            return {
                "patterns": list(self.patterns or []),
                "presets": list(self.presets or []),
                "case_insensitive": bool(self.case_insensitive),
                "replacement": replacement,
                "window": window,
            }
        if self.kind == "limits":  # 0: no such limit (the schema takes positive ones only)
            return {
                "max_input_tokens": self.max_input_tokens or 0,
                "max_messages": self.max_messages or 0,
                "max_input_bytes": self.max_input_bytes or 0,
            }
        if self.kind == "moderation":
            model = defaults.MODERATION_MODEL if self.model is None else self.model
            return {"provider": self.provider, "model": model, "timeout_ms": timeout_ms}
        # python: hook and options are the Gateway's (it loads the hook)
        return {"timeout_ms": timeout_ms, "window": window}


def guardrail_model_at(loc: Loc) -> type[BaseModel] | None:
    """The model whose fields live at ``loc`` under ``guardrails`` (for "did you mean")."""
    if len(loc) == 2 and isinstance(loc[1], int):
        return GuardrailConfig
    if len(loc) == 3 and isinstance(loc[1], int) and loc[2] == "block":
        return GuardrailBlockConfig
    return None


def re2_errors(patterns: list[str]) -> list[str] | None:
    """RE2's verdict on each pattern ("" when valid); None when the native module is absent."""
    try:
        from aigw import _core
    except ImportError:  # pragma: no cover - the package is always built with its module
        return None
    return list(_core.re2_errors(patterns))


def check_guardrails(doc: Mapping[Any, Any], route_sections: tuple[str, ...]) -> list[str]:
    """Checks that span fields of the guardrails and the routes that name them (raw data)."""
    problems: list[str] = []
    items = doc.get("guardrails")
    providers = doc.get("providers")
    known = [k for k in providers if isinstance(k, str)] if isinstance(providers, Mapping) else None
    names: list[str] = []
    seen: dict[str, int] = {}
    if isinstance(items, list):
        for i, g in enumerate(items):
            if isinstance(g, Mapping):
                check_one(("guardrails", i), g, known, problems)
                name = g.get("name")
                if isinstance(name, str) and name:
                    if name in seen:
                        problems.append(
                            problem(
                                ("guardrails", i, "name"),
                                f"duplicate guardrail {name!r} (first defined at "
                                f"guardrails[{seen[name]}])",
                            )
                        )
                    else:
                        seen[name] = i
                        names.append(name)
    for section in route_sections:
        routes = doc.get(section)
        if not isinstance(routes, list):
            continue
        for i, route in enumerate(routes):
            if not isinstance(route, Mapping):
                continue
            selected = route.get("guardrails")
            if not isinstance(selected, list):
                continue
            for j, name in enumerate(selected):
                if isinstance(name, str) and name and name not in names:
                    known = ", ".join(names) or "none"
                    problems.append(
                        problem(
                            (section, i, "guardrails", j),
                            f"unknown guardrail {name!r} (known: {known}){suggest(name, names)}",
                        )
                    )
    return problems


def check_one(
    loc: Loc, g: Mapping[Any, Any], providers: list[str] | None, problems: list[str]
) -> None:
    kind = g.get("kind")
    if kind not in get_args(Kind):
        return  # a field error
    for other, keys in KIND_KEYS.items():
        if other == kind:
            continue
        for key in keys:
            if g.get(key) is not None:
                problems.append(problem((*loc, key), f"only for kind {other!r} (this is {kind!r})"))
    for key, kinds in SHARED_KIND_KEYS.items():
        if g.get(key) is not None and kind not in kinds:
            problems.append(problem((*loc, key), f"only for kinds {' and '.join(kinds)}"))
    stage = g.get("stage", "input")
    stages = [stage] if isinstance(stage, str) else stage if isinstance(stage, list) else []
    if isinstance(stage, list) and not stage:
        problems.append(problem((*loc, "stage"), "must name at least one stage"))
    if "during" in stages and g.get("action") == "redact" and kind in ("phrases", "regex"):
        problems.append(
            problem(
                (*loc, "action"),
                "a during guardrail can only block (the request is already on its way upstream)",
            )
        )
    if kind == "phrases":
        if not g.get("phrases"):
            problems.append(problem((*loc, "phrases"), "a phrases guardrail needs phrases"))
    elif kind == "regex":
        patterns, presets = g.get("patterns"), g.get("presets")
        if not patterns and not presets:
            problems.append(problem(loc, "a regex guardrail needs patterns or presets"))
        if isinstance(patterns, list):
            strings = [p for p in patterns if isinstance(p, str) and p]
            errors = re2_errors(strings)
            if errors is not None:
                k = 0
                for j, p in enumerate(patterns):
                    if isinstance(p, str) and p:
                        if errors[k]:
                            problems.append(
                                problem((*loc, "patterns", j), f"invalid RE2 pattern: {errors[k]}")
                            )
                        k += 1
    elif kind == "limits":
        if not any(g.get(k) is not None for k in KIND_KEYS["limits"]):
            problems.append(
                problem(
                    loc,
                    "a limits guardrail needs max_input_tokens, max_messages or max_input_bytes",
                )
            )
        if any(s in ("during", "output", "stream") for s in stages):
            problems.append(problem((*loc, "stage"), "limits run at the input stage only"))
        if g.get("action") == "redact":
            problems.append(problem((*loc, "action"), "limits can only block"))
    elif kind == "python":
        if not g.get("hook"):
            problems.append(problem((*loc, "hook"), 'a python guardrail needs hook: "module:name"'))
        if g.get("action") == "redact":
            problems.append(problem((*loc, "action"), "a python guardrail decides by its verdict"))
    elif kind == "moderation":
        provider = g.get("provider")
        if provider is None:
            problems.append(problem((*loc, "provider"), "a moderation guardrail needs a provider"))
        elif providers is not None and isinstance(provider, str) and provider not in providers:
            listing = ", ".join(sorted(providers)) or "none"
            hint = suggest(provider, providers)
            problems.append(
                problem(
                    (*loc, "provider"), f"unknown provider {provider!r} (known: {listing}){hint}"
                )
            )
        if "stream" in stages:
            problems.append(
                problem(
                    (*loc, "stage"), "moderation runs at the input, during and output stages only"
                )
            )
        if g.get("action") == "redact":
            problems.append(problem((*loc, "action"), "moderation can only block"))
