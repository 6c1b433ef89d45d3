"""Finding rows by a path reference: digits mean display_id, anything else id (SPEC §1.1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false

from pivotal.core.ids import parse_ref


def ref_condition(table: Table, workspace_id: str, ref: str | int) -> ColumnElement[Any]:
    """The WHERE clause for ``ref`` in ``table``, always inside the caller's workspace."""
    parsed = ("display_id", ref) if isinstance(ref, int) else parse_ref(ref)
    if parsed is None:
        return false()
    column, value = parsed
    return and_(table.c.workspace_id == workspace_id, table.c[column] == value)
