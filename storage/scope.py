"""The region scope every staff query requires: a code prefix that fails closed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import and_, true
from sqlalchemy.sql import ColumnElement, Select

from storage.models import Household

S = TypeVar("S", bound=Select)

ADMIN_ROLES = ("admin",)
LOCAL_ROLES = ("supervisor", "officer")
# Coordinators (BP Taskin, Kemenkop, Bappeda, a provincial team) read aggregates only, never a person.
COORDINATOR_ROLES = ("coordinator",)
# Code lengths of a provinsi, kabupaten/kota, kecamatan and desa/kelurahan (64, 6472, 647201, 6472011001).
LEVELS = (2, 4, 6, 10)
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
        if self.role not in ADMIN_ROLES + LOCAL_ROLES + COORDINATOR_ROLES:
            raise ScopeError("unknown role")
        if self.prefix == "" and self.role not in ADMIN_ROLES + COORDINATOR_ROLES:
            raise ScopeError("only an admin or a coordinator covers the whole country")
        if self.prefix and len(self.prefix) not in LEVELS:
            raise ScopeError("a region is a provinsi, kabupaten/kota, kecamatan or desa code")

    def covers(self, region_code: str | None) -> bool:
        """Whether a record of `region_code` is inside this scope."""
        return region_code is not None and region_code.startswith(self.prefix)

    def zoom(self, code: str | None) -> Scope:
        """The same person looking at one region inside their scope (their whole scope otherwise)."""
        inner = narrow(self, code)
        return self if len(inner) not in LEVELS else replace(self, prefix=inner)

    @property
    def is_admin(self) -> bool:
        """Admins manage staff, read the audit log and may export NIKs."""
        return self.role in ADMIN_ROLES

    @property
    def sees_people(self) -> bool:
        """Whether this staff member may see one household (coordinators see only counts)."""
        return self.role not in COORDINATOR_ROLES


def check_account(role: str, prefix: str) -> Scope:
    """The scope an account of `role` over `prefix` would have; ScopeError when the pair cannot be.

    Admins cover the country or a provinsi; supervisors and officers any one of the four levels;
    coordinators the country, a provinsi or a kabupaten/kota.
    """
    scope = Scope(prefix=prefix, role=role, staff_id=0, username="")
    if scope.is_admin and len(prefix) not in (0, 2):
        raise ScopeError("an admin covers a province or the whole country")
    if not scope.sees_people and len(prefix) not in (0, 2, 4):
        raise ScopeError("a coordinator covers the country, a province or a kabupaten/kota")
    return scope


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
