"""Actions back to the platform: signed webhooks, delivered from a durable outbox.

Review writes its events (``review_events``) in the transaction of the decision; ``outbox.dispatch`` turns
each into one delivery row per subscribed endpoint, and the ``worker`` sends them - signed (HMAC-SHA256 over
``timestamp.body``), with an idempotency key, retried with exponential backoff and jitter, dead-lettered
after the retry window, replayable - never to a private address unless configuration allows it (``ssrf``).
Receivers verify signatures with ``safeguard.actions.verify`` (standard library only).
"""
