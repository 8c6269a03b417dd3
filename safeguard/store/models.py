"""Every table of Safeguard, imported in one place so Alembic and the schema checks see one metadata.

One line per capability that has tables.
"""

from safeguard.audit.models import AuditHead, AuditRecord
from safeguard.auth.models import ApiKey
from safeguard.store.base import Base

metadata = Base.metadata

__all__ = ["ApiKey", "AuditHead", "AuditRecord", "metadata"]
