"""Set up a process forked for one note or one block of examples.

Runs in the forked process only: working folder and ``sys.path``, seeds,
memory limit, faulthandler, the SIGALRM timeout and the redirection of file
descriptors 0, 1 and 2.
"""

from __future__ import annotations

import faulthandler
import os
import random
import signal
import sys
from types import FrameType

from noteexec._protocol import Message


class CellTimeout(BaseException):
    """Raised in a cell (or an example) that ran past its timeout.

    A BaseException, so that ``except Exception`` in the note does not swallow it.
    """


CapturedFds = dict[str, tuple[int, int]]
"""Stream name (``stdout``, ``stderr``) to (reader of the capture file, redirected fd)."""


def prepare_process(request: Message) -> CapturedFds:
    """Prepare this process to run `request`; return readers of what fds 1 and 2 receive.

    The request's ``workdir`` becomes the working folder and its
    ``import_path`` the first entry of ``sys.path``: for a note both are its
    folder, as for a Jupyter kernel started next to the notebook.
    """
    os.chdir(str(request["workdir"]))
    sys.path.insert(0, str(request["import_path"]))

    seed = int(request["seed"])
    random.seed(seed)
    import numpy

    numpy.random.seed(seed)

    limit = request.get("memory_limit")
    if limit is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))

    stack_file = open(request["stack_path"], "w", encoding="utf-8")  # noqa: SIM115 - open until exit
    faulthandler.enable(file=stack_file, all_threads=True)
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    signal.signal(signal.SIGALRM, _raise_timeout)

    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    captured: CapturedFds = {}
    for name, fd in (("stdout", 1), ("stderr", 2)):
        path = f"{request['stack_path']}.{name}"
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
        captured[name] = (os.open(path, os.O_RDONLY), fd)
    return captured


def _raise_timeout(signum: int, frame: FrameType | None) -> None:
    raise CellTimeout("cell timed out")
