"""The region scope every staff query requires: a code prefix that fails closed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, true
from sqlalchemy.sql import ColumnElement, Select

from storage.models import Household

S = TypeVar("S", bound=Select)

ADMIN_ROLES = ("admin",)
LOCAL_ROLES = ("supervisor", "officer")
# Coordinators (BP Taskin, Kemenkop, Bappeda, a provincial team) read aggregates only, never a person.
COORDINATOR_ROLES = ("coordinator",)
# ':' sorts right after '9', so `code >= p AND code < p + ':'` is "starts with p" that an index serves.
_AFTER_DIGITS = ":"


class ScopeError(PermissionError):
    """A scope that cannot be right (wrong type, bad prefix, role too wide): nothing is shown."""


class NotFound(LookupError):
    """The record does not exist or lies outside the scope: both look the same (404)."""


@dataclass(frozen=True)
class Scope:
    """What one staff member may see: a region code prefix, with their role and name."""

    prefix: str
    role: str
    staff_id: int
    username: str

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str) or (self.prefix and not self.prefix.isdigit()):
            raise ScopeError("region prefix must be digits")
        if self.role in ADMIN_ROLES:
            if len(self.prefix) not in (0, 2):
                raise ScopeError("an admin covers a province or the whole country")
        elif self.role in LOCAL_ROLES:
            if len(self.prefix) not in (4, 6):
                raise ScopeError("supervisors and officers cover a kabupaten/kota or a kecamatan")
        elif self.role in COORDINATOR_ROLES:
            if len(self.prefix) not in (0, 2, 4):
                raise ScopeError("a coordinator covers the country, a province or a kabupaten/kota")
        else:
            raise ScopeError("unknown role")

    def covers(self, region_code: str | None) -> bool:
        """Whether a record of `region_code` is inside this scope."""
        return region_code is not None and region_code.startswith(self.prefix)

    @property
    def is_admin(self) -> bool:
        """Admins manage staff, read the audit log and may export NIKs."""
        return self.role in ADMIN_ROLES

    @property
    def sees_people(self) -> bool:
        """Whether this staff member may see one household (coordinators see only counts)."""
        return self.role not in COORDINATOR_ROLES


def region_filter(column: Any, scope: Scope) -> ColumnElement[bool]:
    """`column` starts with the scope's prefix, as an index-friendly range."""
    if not isinstance(scope, Scope):
        raise ScopeError("a staff query needs a Scope")
    return prefix_filter(column, scope.prefix)


def prefix_filter(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`; only to narrow a query that is already scoped."""
    if not prefix:
        return true()
    return and_(column >= prefix, column < prefix + _AFTER_DIGITS)


def scoped(query: S, scope: Scope, column: Any = None) -> S:
    """The query limited to the scope (by `Household.region_code` unless another column is given)."""
    return query.where(region_filter(Household.region_code if column is None else column, scope))


def narrow(scope: Scope, code: str | None) -> str:
    """A filter prefix inside the scope: the finer of the two, or the scope itself when outside."""
    if code and code.isdigit() and code.startswith(scope.prefix):
        return code
    return scope.prefix
