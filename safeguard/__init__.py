"""Safeguard: an open, self-hostable child-safety engine.

The flow reads: content in -> signals (``media``) -> matches (``index``, ``banks``) or risk (``text``)
-> case (``review``) -> decision -> action (``actions``) / report (``reports``) -> figures (``stats``).
"""

__version__ = "0.1.0"
