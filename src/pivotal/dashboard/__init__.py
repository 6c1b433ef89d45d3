"""The web dashboard (SPEC §12): server-rendered pages for people, beside the API."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
