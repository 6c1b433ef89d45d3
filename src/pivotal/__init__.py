"""Pivotal API v1: the server, and its Python SDK.

``from pivotal import PivotalApi, AsyncPivotalApi`` gives the client (SPEC §11).
Importing this package loads no server code: the SDK names are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pivotal.client.api import AsyncPivotalApi, PivotalApi

__version__ = "0.1.0"
__all__ = ["AsyncPivotalApi", "PivotalApi", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("PivotalApi", "AsyncPivotalApi"):
        from pivotal.client import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
