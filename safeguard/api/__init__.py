"""The HTTP API: a thin layer over the library. ``create_app()`` builds it."""
