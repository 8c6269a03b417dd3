"""Fixtures for the web UI tests: users, and a TestClient signed in as one of them."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from safeguard.auth import Actor, Role
from safeguard.store.db import Database
from safeguard.users import passwords
from safeguard.users import service as users

PASSWORD = "a calm long passphrase 42"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

MakeUser = Callable[..., str]
Login = Callable[[str], str]


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny costs in-process, so tests are fast; the format and checks are unchanged (the
    browser tests' server uses the real parameters)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    dummy = cheap.hash("dummy")
    monkeypatch.setattr(passwords, "_dummy_hash", lambda: dummy)


@pytest.fixture
def make_user(db: Database) -> MakeUser:
    """Create a user with ``PASSWORD`` and return the user name."""

    def make(role: Role, username: str | None = None) -> str:
        name = username or f"{role.value}-user"
        with db.session() as session:
            users.create_user(session, Actor.system("tests"), username=name, role=role, password=PASSWORD)
        return name

    return make


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign the client in through the login form; returns the session's CSRF token."""
    page = client.get("/ui/login")
    response = client.post(
        "/ui/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    account = client.get("/ui/account")
    assert account.status_code == 200
    return csrf_of(account.text)


@pytest.fixture
def login(client: TestClient, make_user: MakeUser) -> Callable[[Role], str]:
    """Create a user with the role, sign the client in, return the CSRF token."""

    def do(role: Role) -> str:
        return sign_in(client, make_user(role))

    return do
