"""Child processes that cannot outlive the server: Linux's parent-death signal (``PR_SET_PDEATHSIG``).

A hash worker asks for SIGKILL when the server process dies (even by SIGKILL, which runs no clean-up),
and so does every ffmpeg and ffprobe it starts (``preexec_fn=die_with_parent``), so nothing is left
decoding after the server is gone. The signal is tied to the *thread* that started the child, so the pool
starts its workers from its own long-lived dispatcher thread. Elsewhere than Linux this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux only; no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def parent_gone(expected_parent: int) -> bool:
    """True when the parent died before :func:`die_with_parent` ran (this process was re-parented)."""
    return os.getppid() != expected_parent
