"""Response shapes shared by several resources."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Deleted(BaseModel):
    object: Literal["deleted"]
    id: str
    display_id: int
    deleted: Literal[True]
