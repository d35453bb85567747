"""What every config section shares: the strict base model and the wording of problems."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _known_keys(value: dict[str, Any], valid: tuple[str, ...], what: str) -> dict[str, Any]:
    unknown = sorted(set(value) - set(valid))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; valid: {list(valid)}")
    return value


def _known_codes(value: list[str], valid: tuple[str, ...], what: str) -> list[str]:
    """``value`` when every code is one of ``valid``; else the error lists the valid ones."""
    unknown = [s for s in value if s not in valid]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; valid: {', '.join(valid)}")
    return value


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith("function-")) or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    key = _location(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"key '{key}' is not a tierwise setting (remove it or check its spelling)"
    if err["type"] == "missing":
        return f"key '{key}' is required"
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"key '{key}'{shown}: {msg}"
