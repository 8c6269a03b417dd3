"""Password hashing with argon2id (argon2-cffi, RFC 9106 low-memory parameters).

Every hash and check runs in one small pool of threads at a lower CPU priority (nice +10 on Linux, where a
thread's nice value is its own and the threads argon2 starts inherit it): at most ``CHECKS_AT_ONCE`` run
at a time however many sign-ins arrive, and while they run the rest of the server still gets the cores
first. The caller's thread waits for the result.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from safeguard.users.errors import WeakPassword

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
CHECKS_AT_ONCE = max(1, (os.cpu_count() or 2) // 2)
NICE = 10


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


_pool = ThreadPoolExecutor(CHECKS_AT_ONCE, thread_name_prefix="safeguard-argon2", initializer=_lower_priority)


@cache
def _dummy_hash() -> str:
    """Verified when the user name is unknown, so that answer takes as long as a wrong password does.

    Made on first use, not at import: hashing costs ~0.5 s, which every CLI start would otherwise pay.
    """
    return _hasher.hash("safeguard-dummy-password")


def check_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD_LENGTH} characters", field="password")
    if password.strip().lower() == username.lower():
        raise WeakPassword("the password must differ from the user name", field="password")


def hash_password(password: str) -> str:
    return _pool.submit(lambda: _hasher.hash(password)).result()


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; runs a full verification even when there is no stored hash."""
    return _pool.submit(_verify, stored_hash, password).result()


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
