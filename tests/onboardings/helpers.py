"""Constants and small helpers shared by the onboarding tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
CUID = re.compile(r"^[a-z][a-z0-9]{23}$")
PHASES = [
    "before_getting_started",
    "program_design",
    "review",
    "program_buildout",
    "internal_qa",
    "launch",
    "completed",
]
STATES = ["active", "paused", "at_risk", "waiting"]


def parse_ts(value: str) -> datetime:
    """A response timestamp as an aware datetime (after checking its exact format)."""
    assert TIMESTAMP.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
