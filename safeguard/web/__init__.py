"""The reviewer and admin web UI, mounted at ``/ui`` by ``safeguard.api.app``.

Server-rendered Jinja2 pages with a small script of our own (``static/ui.js``); no build step, no CDN.
Browsers authenticate with a session cookie (``safeguard.users``), never with API keys, so the UI is a
separate ASGI application with its own access checks (``safeguard.web.access``).
"""
