"""Finding rows by a path reference: digits mean display_id, anything else id (SPEC §1.1)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, false

from pivotal.core.errors import not_found
from pivotal.core.ids import parse_ref
from pivotal.db.engine import Record, fetch

if TYPE_CHECKING:  # context imports admission, which builds on this module
    from pivotal.core.context import Tx


def ref_condition(table: Table, workspace_id: str, ref: str | int) -> ColumnElement[Any]:
    """The WHERE clause for ``ref`` in ``table``, always inside the caller's workspace."""
    parsed = ("display_id", ref) if isinstance(ref, int) else parse_ref(ref)
    if parsed is None:
        return false()
    column, value = parsed
    return and_(table.c.workspace_id == workspace_id, table.c[column] == value)


@dataclass(frozen=True)
class PointLookup:
    """Where ``find_one`` looks for a resource: ``visible`` (a module-level query that
    hides rows whose parents are deleted), its ``table``, the ``resource`` a 404 names."""

    visible: Select[Any]
    table: Table
    resource: str


def by_ref(
    visible: Select[Any],
    table: Table,
    column: str,
    workspace: ColumnElement[Any],
    *,
    with_deleted: bool = False,
) -> Select[Any]:
    """``visible`` narrowed to the row of ``workspace`` whose ``column`` is the ``ref``
    parameter (``workspace``: a parameter, or a column of an enclosing query)."""
    query = visible.where(table.c.workspace_id == workspace, table.c[column] == bindparam("ref"))
    if not with_deleted:
        query = query.where(table.c.deleted_at.is_(None))
    return query


@lru_cache(maxsize=256)
def _lookup_statement(
    visible: Select[Any], table: Table, column: str, with_deleted: bool, for_update: bool
) -> Select[Any]:
    # Built once per shape: a statement object that is reused keeps SQLAlchemy's cache
    # key memoized, so a lookup costs the query, not the query's construction.
    workspace: ColumnElement[Any] = bindparam("workspace_id")
    query = by_ref(visible, table, column, workspace, with_deleted=with_deleted)
    if for_update:
        query = query.with_for_update(of=table, key_share=True)
    return query


def find_one(
    tx: Tx,
    visible: Select[Any],
    table: Table,
    ref: str | int,
    resource: str,
    *,
    for_update: bool = False,
    with_deleted: bool = False,
) -> Record:
    """The row of ``table`` named by ``ref`` among ``visible`` (a module-level query that
    hides rows whose parents are deleted), or 404 ``<resource>_not_found``.

    ``with_deleted`` also finds the row itself when soft-deleted (a repeated DELETE
    answers the same body). ``for_update`` locks only this row, as NO KEY UPDATE: a row
    being changed must not block inserts of its children (they take KEY SHARE through
    their foreign key).
    """
    parsed = ("display_id", ref) if isinstance(ref, int) else parse_ref(ref)
    if parsed is None:
        raise not_found(resource)
    column, value = parsed
    query = _lookup_statement(visible, table, column, with_deleted, for_update)
    # At most one row: display ids and ids are unique in a workspace.
    rows = fetch(tx.conn, query, {"workspace_id": tx.workspace_id, "ref": value})
    if not rows:
        raise not_found(resource)
    return rows[0]
