"""Field types shared by the config schema's modules (numbers that refuse booleans, bounded
seconds, names, import paths, the strict base model) and the unit conversions of the core
document.

It imports nothing from the rest of ``aigw`` (every config module uses it)."""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

# Largest integer accepted where the schema sets no upper bound: exactly
# representable in a JSON double and far inside int64 on the C++ side.
MAX_INT = 2**53 - 1
# Largest timeout in seconds (its millisecond value still fits easily in int64).
MAX_SECONDS = 1e9

# The name of a provider or a guardrail.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
NAME_RE = re.compile(NAME_PATTERN)
# An object of yours, "package.module:attribute" (the attribute may be dotted: "mod:Class.name").
IMPORT_PATH_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"


# Pydantic's lax mode turns True into 1; a bool where a number belongs is a mistake.
def reject_bool_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "input should be a valid integer, not a boolean")
    return value


def reject_bool_float(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "input should be a valid number, not a boolean")
    return value


def lower_str(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


Int = Annotated[int, BeforeValidator(reject_bool_int)]
Float = Annotated[float, BeforeValidator(reject_bool_float)]

NonNegInt = Annotated[Int, Field(ge=0, le=MAX_INT)]
PosInt = Annotated[Int, Field(ge=1, le=MAX_INT)]
PosSeconds = Annotated[Float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
NonNegSeconds = Annotated[Float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
NonEmptyStr = Annotated[str, Field(min_length=1)]
ImportPath = Annotated[str, Field(pattern=IMPORT_PATH_PATTERN)]


def to_ms(seconds: float, *, positive: bool) -> int:
    """Seconds as the core's milliseconds; a ``positive`` duration never rounds down to 0,
    which the core reads as "none"."""
    ms = round(seconds * 1000)
    return max(ms, 1) if positive else ms


def or_minus_one(value: int | None) -> int:
    """The core's spelling of "not set" for counts where 0 is a real value (the mock's knobs)."""
    return -1 if value is None else value


class StrictModel(BaseModel):
    """Every section of the schema: unknown keys are errors (with a hint), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# An HTTP header name (RFC 9110 token).
HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

# The config sections that hold routes (`models` is the older name of `routes`).
ROUTE_SECTIONS = ("models", "routes")


def suggest(word: Any, candidates: list[str]) -> str:
    """ "; did you mean 'x'?" for the closest candidate, or nothing."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
