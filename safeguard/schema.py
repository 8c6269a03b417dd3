"""Every table of Safeguard, imported in one place so Alembic and the schema checks see one metadata.

One line per capability that has tables. It lives above every capability (not in ``safeguard.store``,
which each capability imports), so the store depends on no capability; the migrations' ``env.py`` and the
schema tests import it.
"""

from safeguard.actions import models as actions_models  # noqa: F401
from safeguard.audit.models import AuditHead, AuditRecord
from safeguard.auth.models import ApiKey
from safeguard.banks import models as banks_models  # noqa: F401
from safeguard.intake import models as intake_models  # noqa: F401
from safeguard.review import models as review_models  # noqa: F401
from safeguard.store.base import Base
from safeguard.text import models as text_models  # noqa: F401
from safeguard.users import models as users_models  # noqa: F401

metadata = Base.metadata

__all__ = ["ApiKey", "AuditHead", "AuditRecord", "metadata"]
