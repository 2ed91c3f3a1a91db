"""Name rules shared by the client (fail fast, on the caller's line) and the server (authoritative)."""

from __future__ import annotations

MAX_NAME_LENGTH = 256
MAX_STEP = 2**63 - 1
MAX_HPARAM_STRING_LENGTH = 8192
MAX_HPARAMS_PER_REQUEST = 1000


def name_problem(kind: str, name: object) -> str | None:
    """Why ``name`` is not a valid tag, hyperparameter, run or project name; None when it is.

    Names are 1-256 characters of printable Unicode: no control characters, no NUL, no line breaks.
    They are only ever data: nothing uses them as file paths.
    """
    if not isinstance(name, str):
        return f"{kind} must be a string, got {type(name).__name__}"
    if not name:
        return f"{kind} must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"{kind} is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}"
    if not name.isprintable():
        bad = next(c for c in name if not c.isprintable())
        return f"{kind} {name[:40]!r} contains the non-printable character {bad!r}"
    return None


def step_problem(step: object) -> str | None:
    """Why ``step`` is not a valid step (an integer in [0, 2**63 - 1]); None when it is."""
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        return f"step must be an integer, got {type(step).__name__}"
    value = step.__index__()
    if value < 0:
        return f"step must be >= 0, got {value}"
    if value > MAX_STEP:
        return f"step {value} does not fit in a signed 64-bit integer"
    return None


def hparam_string_problem(value: str) -> str | None:
    """Why the string hyperparameter ``value`` is refused ("... is N characters long; the limit
    is 8192", "... contains a NUL character"); None when it is fine."""
    if len(value) > MAX_HPARAM_STRING_LENGTH:
        return f"is {len(value)} characters long; the limit is {MAX_HPARAM_STRING_LENGTH}"
    if "\x00" in value:
        return "contains a NUL character"
    return None


def hparams_count_problem(field: str, count: int) -> str | None:
    if count > MAX_HPARAMS_PER_REQUEST:
        return f"{field} has {count} entries; the limit is {MAX_HPARAMS_PER_REQUEST} per request"
    return None
