"""Pivotal API v1 server (and, later, its SDK). Importing this package loads no server code."""

__version__ = "0.1.0"
