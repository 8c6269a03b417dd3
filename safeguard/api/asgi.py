"""Import target for uvicorn workers: ``uvicorn --factory safeguard.api.asgi:create_default_app``."""

from fastapi import FastAPI

from safeguard.api.app import create_app


def create_default_app() -> FastAPI:
    return create_app()
