"""Newline-delimited JSON messages between the runner, the forkserver and note processes.

A note's connection carries the runner's request (one message) first. The note
process then sends ``started`` (its pid), ``cell`` when a cell starts,
``cell-done`` with the cell's record, and ``done``. Last, the forkserver sends
``exit`` with the exit status once it reaped the note process.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from typing import Any

Message = dict[str, Any]


# Bound at import, so that a note that patches json.dumps cannot break the protocol.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_DECODE = json.JSONDecoder().decode


def send_message(sock: socket.socket, message: Message) -> None:
    """Send one message; the JSON never contains a raw newline."""
    sock.sendall(_ENCODE(message).encode("utf-8") + b"\n")


class MessageReader:
    """Split the bytes of a socket into messages.

    Lines that are not valid JSON are skipped: a note process killed in the
    middle of a message leaves a partial line, and the forkserver starts its
    ``exit`` message on a new line.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.closed = False

    def read(self, timeout: float | None) -> Message | None:
        """Return the next message, or None at end of stream or after `timeout` seconds.

        Check `closed` to tell the two apart.
        """
        while True:
            line, newline, rest = self.buffer.partition(b"\n")
            if newline:
                self.buffer = rest
                message = _decode(line)
                if message is not None:
                    return message
                continue
            if self.closed:
                return None
            self.sock.settimeout(timeout)
            try:
                chunk = self.sock.recv(1 << 16)
            except TimeoutError:
                return None
            if not chunk:
                self.closed = True
                continue
            self.buffer += chunk


def _decode(line: bytes) -> Message | None:
    try:
        message = _DECODE(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return message if isinstance(message, dict) else None


def class_names(cls: type) -> list[str]:
    """Return the qualified names of `cls` and its bases, e.g. ``builtins.ValueError``.

    Note processes describe exceptions and warnings by these names, so the
    runner can match them against declared names without importing anything.
    """
    return [f"{base.__module__}.{base.__qualname__}" for base in cls.__mro__]


def matches_declared(names: list[str], declared: Sequence[str]) -> bool:
    """Return whether a class, given by `class_names`, is one of the `declared` names.

    A bare name (``ValueError``) matches a class of that name in any module; a
    dotted name must equal the qualified name.
    """
    for name in declared:
        for qualified in names:
            if qualified == name or qualified.rsplit(".", 1)[-1] == name:
                return True
    return False
