"""The Python SDK of the Pivotal API v1 (SPEC §11). It depends on httpx only.

``from pivotal import PivotalApi, AsyncPivotalApi``. Names are loaded on first use, so
``pivotal.client.webhooks`` and ``pivotal.client.errors`` work without httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pivotal.client.api import AsyncPivotalApi, PivotalApi
    from pivotal.client.pagination import AsyncListIterator, ListIterator, Page

__all__ = ["AsyncListIterator", "AsyncPivotalApi", "ListIterator", "Page", "PivotalApi"]

_LAZY = {
    "PivotalApi": "pivotal.client.api",
    "AsyncPivotalApi": "pivotal.client.api",
    "ListIterator": "pivotal.client.pagination",
    "AsyncListIterator": "pivotal.client.pagination",
    "Page": "pivotal.client.pagination",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
