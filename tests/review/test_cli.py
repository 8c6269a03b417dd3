"""``safeguard cases stats`` in a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from safeguard.review import flows, queue
from safeguard.store.db import Database
from safeguard.text.vocabulary import Behaviour
from tests.cli.helpers import run_cli
from tests.review.helpers import INTEGRATOR, MOD_A, REVIEW, alert, match


def test_cases_stats(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        flows.open_case(session, INTEGRATOR, match("u1"), settings=REVIEW)
        flows.open_case(
            session, INTEGRATOR, alert("c1", behaviours=[Behaviour.threats_sextortion]), settings=REVIEW
        )
        queue.claim_next(session, MOD_A, settings=REVIEW)
    result = run_cli("cases", "stats", "--json", home=tmp_path, database_url=db.url)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["by_status"] == {"open": 2}
    assert figures["waiting_by_kind"] == {"content": 1, "conversation": 1}
    assert (figures["claimed"], figures["live_risk"], figures["overdue"]) == (1, 1, 0)
    table = run_cli("cases", "stats", home=tmp_path, database_url=db.url)
    assert table.returncode == 0 and "live risk" in table.stdout
