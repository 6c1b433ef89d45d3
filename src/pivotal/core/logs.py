"""The server's log output: one line per record on stderr, written in batches.

Under load the access log writes a line per request, and a write per line is a system
call per request: measured under granian on this machine, it cost more than building
the line (the call hands the GIL to the server's threads and the request waits to get it
back). Lines are gathered instead and written together: every FLUSH_SECONDS by the
server's loop (``flush``), at once for a warning or an error, and at exit.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

# A write of at most this many bytes reaches a pipe whole, never cut by another
# process's (several workers share one stderr): each batch is written in such pieces.
PIPE_BUF = 4096
# The longest a line waits to be written (a crash loses at most this much of the log).
FLUSH_SECONDS = 0.1


class BatchedLineHandler(logging.StreamHandler[TextIO]):
    """A StreamHandler that writes its lines in batches of at most PIPE_BUF bytes.

    Lines wait until ``flush``, until a batch is full, or until a record of WARNING or
    above comes (that one and everything before it are written at once).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._size = 0  # bytes pending

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        # handle() holds self.lock here, as flush() takes it.
        self._pending.append(line)
        self._size += _bytes(line)
        if record.levelno >= logging.WARNING or self._size >= PIPE_BUF:
            self._write()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write()
        finally:
            self.release()

    def _write(self) -> None:
        pending, self._pending, self._size = self._pending, [], 0
        try:
            piece: list[str] = []
            size = 0
            for line in pending:
                length = _bytes(line)
                if piece and size + length > PIPE_BUF:
                    self._write_piece(piece)
                    piece, size = [], 0
                piece.append(line)
                size += length
            if piece:
                self._write_piece(piece)
        except Exception:  # as StreamHandler does: a log that cannot be written is no crash
            self.handleError(logging.makeLogRecord({"msg": "".join(pending)}))

    def _write_piece(self, lines: list[str]) -> None:
        self.stream.write("".join(lines))
        self.stream.flush()


def _bytes(line: str) -> int:
    return len(line) if line.isascii() else len(line.encode("utf-8", "replace"))


def configure(level: str | int) -> None:
    """Log records of ``level`` and above to stderr, one line each (the message alone),
    unless logging is configured already (by the operator, the server or a test)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = BatchedLineHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def flush() -> None:
    """Write the lines the root logger's batched handlers hold."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, BatchedLineHandler):
            handler.flush()
