"""The server's log output: one line per record on stderr, written in batches.

Under load the access log writes a line per request, and a write per line is a system
call per request: measured under granian on this machine, it cost more than building
the line (the call hands the GIL to the server's threads and the request waits to get it
back). Lines are gathered instead and written together: every FLUSH_SECONDS by the
app's loop (``flush``), at once for a warning or an error, when a batch is full, at
the app's shutdown (after which lines go out one by one) and at exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import select
import sys
import weakref
from typing import TextIO

# A write of at most this many bytes to a pipe is never cut by another process's
# (several workers share one stderr): a batch is written before it would grow past it.
PIPE_BUF: int = getattr(select, "PIPE_BUF", 512)
# How often the app's loop writes the lines gathered (later while the loop is busy).
FLUSH_SECONDS = 0.1

_handlers: weakref.WeakSet[BatchedLineHandler] = weakref.WeakSet()


class BatchedLineHandler(logging.StreamHandler[TextIO]):
    """A StreamHandler that writes its lines in batches of at most PIPE_BUF bytes (a
    longer line goes alone).

    Lines wait until ``flush``, until the next would not fit the batch, or until a
    record of WARNING or above comes (that one and everything before it go out at
    once). After ``stop_batching`` every line is written as it comes.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._size = 0  # bytes pending
        self._batching = True
        _handlers.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            # handle() holds self.lock here, as flush() takes it.
            length = self._bytes(line)
            if self._pending and self._size + length > PIPE_BUF:
                self._write()
            self._pending.append(line)
            self._size += length
            if not self._batching or record.levelno >= logging.WARNING or self._size >= PIPE_BUF:
                self._write()
        except Exception:  # as StreamHandler: a line that cannot be written is no crash
            self.handleError(record)

    def flush(self) -> None:
        self.acquire()
        try:
            self._write()
        except Exception:  # the loop's flush must go on: report it as emit would
            self.handleError(logging.makeLogRecord({"msg": "(a batch of log lines)"}))
        finally:
            self.release()

    def stop_batching(self) -> None:
        """Write what is pending, then every line as it comes (nobody flushes any more)."""
        self._batching = False
        self.flush()

    def forget_pending(self) -> None:
        """Drop the lines pending: in a forked child they are its parent's to write."""
        self._pending, self._size = [], 0

    def _write(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending, self._size = [], 0
            self.stream.write(text)
            self.stream.flush()

    def _bytes(self, line: str) -> int:
        if line.isascii():
            return len(line)
        encoding = getattr(self.stream, "encoding", None) or "utf-8"
        return len(line.encode(encoding, "backslashreplace"))


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
    """Write the lines every batched handler holds."""
    for handler in list(_handlers):
        handler.flush()


def stop_batching() -> None:
    """Write what every batched handler holds, then each line as it comes: for the end
    of an app, when no loop flushes any more (a worker may end without exit hooks)."""
    for handler in list(_handlers):
        handler.stop_batching()


def _forget_pending_in_child() -> None:
    for handler in list(_handlers):
        handler.forget_pending()


# At exit, even for a handler a later logging configuration took off logging's own list.
atexit.register(flush)
os.register_at_fork(after_in_child=_forget_pending_in_child)
