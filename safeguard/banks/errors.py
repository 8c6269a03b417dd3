"""Errors of hash banks, imports, URL and keyword lists."""

from __future__ import annotations

from safeguard.errors import Conflict, InvalidInput, MalformedInput, NotFound, ServiceUnavailable


class BankNotFound(NotFound):
    code = "bank-not-found"
    title = "Bank not found"


class BankExists(Conflict):
    code = "bank-exists"
    title = "Bank already exists"


class ContentNotFound(NotFound):
    code = "bank-content-not-found"
    title = "Bank content not found"


class InvalidSignal(InvalidInput):
    """A hash string is not a valid value of its signal type, or the signal type is unknown."""

    code = "invalid-signal"
    title = "Invalid signal"


class ImportRejected(MalformedInput):
    """A bank import file has a bad line; nothing from the file was imported."""

    code = "import-rejected"
    title = "Import rejected"


class ListNotFound(NotFound):
    code = "list-not-found"
    title = "List not found"


class ListExists(Conflict):
    code = "list-exists"
    title = "List already exists"


class InvalidUrl(InvalidInput):
    code = "invalid-url"
    title = "Invalid URL"


class IndexNotReady(ServiceUnavailable):
    code = "index-not-ready"
    title = "Index not ready"
