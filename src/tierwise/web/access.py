"""Who sees which customers: the signed-in viewer and the SQL predicate that scopes every query.

Scoping is decided here, once, and pushed into the queries of :mod:`tierwise.web.queries` as a
``WHERE`` condition on the snapshot's own columns, so a page or an API route cannot forget it and
a customer outside the viewer's scope is simply not found (HTTP 404, the same as an unknown id).

The snapshot being looked at decides: a manager sees the customers whose ``account_manager`` in
that run is theirs; an owner those whose ``segment`` (or its first level) is one of the owner's
segments, or, for an owner with no segments listed, whose ``segment_owner`` is the owner's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..privacy import mask_email, mask_phone
from .accounts import User

@dataclass(frozen=True)
class Viewer:
    """The signed-in person as the queries need them: role, scope and contact privileges."""

    name: str
    role: str
    segments: tuple[str, ...] = ()
    manager: str | None = None
    full_contacts: bool = False

    @classmethod
    def of(cls, user: User, full_phone_roles: Iterable[str]) -> Viewer:
        return cls(user.name, user.role, user.segments,
                   user.manager_name if user.role == "manager" else None,
                   user.role in set(full_phone_roles))

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def scope_terms(self) -> list[tuple[str, tuple[str, ...]]] | None:
        """The viewer's customers as terms ``(column, values)``, any of which admits a customer;
        None for every customer. The SQL condition and the in-memory list both come from here.

        Examples
        --------
        >>> Viewer("li", "manager", manager="李建国").scope_terms()
        [('account_manager', ('李建国',))]
        """
        if self.role == "admin":
            return None
        if self.role == "manager":
            return [("account_manager", (self.manager or self.name,))]
        if self.role == "owner":
            if not self.segments:
                return [("segment_owner", (self.name,))]
            return [("segment", self.segments), ("segment_level1", self.segments)]
        return []  # an unknown role sees nothing

    def scope(self) -> tuple[str, list[Any]]:
        """The SQL condition (over ``snapshot_customers`` columns) and its parameters.

        Examples
        --------
        >>> Viewer("li", "manager", manager="李建国").scope()
        ('(account_manager IN (?))', ['李建国'])
        """
        terms = self.scope_terms()
        if terms is None:
            return "TRUE", []
        if not terms:
            return "FALSE", []
        sql = " OR ".join(f"{column} IN ({', '.join('?' * len(values))})"
                          for column, values in terms)
        return f"({sql})", [v for _, values in terms for v in values]

    def scope_key(self) -> tuple[Any, ...]:
        """Hashable and equal for viewers who see the same customers (results can be shared)."""
        sql, params = self.scope()
        return (sql, *params)

    def contacts(self, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` with phone and e-mail masked unless the viewer's role may see them in full."""
        if self.full_contacts:
            return row
        out = dict(row)
        if out.get("phone") is not None:
            out["phone"] = mask_phone(out["phone"])
        if out.get("email") is not None:
            out["email"] = mask_email(out["email"])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "segments": list(self.segments),
                "manager": self.manager, "full_contacts": self.full_contacts}


__all__ = ["Viewer"]
