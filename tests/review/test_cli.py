"""``safeguard cases ...`` in a real subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from safeguard.auth import Actor
from safeguard.banks import service as banks
from safeguard.review import flows, queue
from safeguard.review.models import Case
from safeguard.store.db import Database
from safeguard.text.vocabulary import Behaviour
from tests.cli.helpers import assert_one_line_error, run_cli
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


def test_claim_decide_confirm_and_release_from_the_cli_keep_four_eyes(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        first = flows.open_case(session, INTEGRATOR, match("u1"), settings=REVIEW).case
        assert first is not None
        case_id = first.id

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("cases", *args, home=tmp_path, database_url=db.url)

    claimed = cli("claim", "--reviewer", "alice")
    assert claimed.returncode == 0, claimed.stderr
    assert json.loads(claimed.stdout)["case_id"] == case_id
    assert json.loads(claimed.stdout)["lease_holder"] == "cli:alice"
    assert_one_line_error(cli("release", str(case_id), "--reviewer", "bob"))  # bob holds no lease
    released = cli("release", str(case_id), "--reviewer", "alice")
    assert released.returncode == 0 and json.loads(released.stdout)["lease_holder"] is None

    assert cli("claim", "--reviewer", "alice").returncode == 0
    decided = cli(
        "decide", str(case_id), "--label", "A1", "--action", "report_to_authorities", "--reviewer", "alice"
    )
    assert decided.returncode == 0, decided.stderr
    pending = json.loads(decided.stdout)
    assert pending["status"] == "pending_confirmation" and pending["moderator"] == "cli:alice"

    # The same reviewer cannot confirm their own decision; a second one can.
    assert cli("claim", "--reviewer", "alice").returncode in (0, 3)
    own = cli("confirm", str(case_id), str(pending["decision_id"]), "--approve", "--reviewer", "alice")
    assert_one_line_error(own)
    assert cli("release", str(case_id), "--reviewer", "alice").returncode in (0, 2)
    assert cli("claim", "--reviewer", "bob").returncode == 0
    confirmed = cli("confirm", str(case_id), str(pending["decision_id"]), "--approve", "--reviewer", "bob")
    assert confirmed.returncode == 0, confirmed.stderr
    final = json.loads(confirmed.stdout)
    assert final["status"] == "final" and final["confirmed_by"] == "cli:bob"
    with db.read_session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "decided"
    assert cli("claim", "--reviewer", "bob").returncode == 3  # nothing left


def test_cases_commands_reject_bad_input_in_one_line(db: Database, tmp_path: Path) -> None:
    result = run_cli("cases", "decide", "999", "--label", "A1", home=tmp_path, database_url=db.url)
    assert_one_line_error(result, "999")
    result = run_cli("cases", "claim", "--reviewer", "", home=tmp_path, database_url=db.url)
    assert_one_line_error(result, "--reviewer")


def test_decide_with_a_bank_from_the_cli_banks_the_upload_hash(db: Database, tmp_path: Path) -> None:
    upload = match("u7").model_copy(update={"query_hash": "cd" * 32})
    with db.session() as session:
        case_id = flows.open_case(session, INTEGRATOR, upload, settings=REVIEW).case.id
        bank = banks.create_bank(session, Actor.system("tests"), name="our-confirmed")
        bank_id = bank.id

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("cases", *args, home=tmp_path, database_url=db.url)

    assert cli("claim", "--reviewer", "alice").returncode == 0
    decide = ("decide", str(case_id), "--label", "B2", "--action", "add_to_bank", "--reviewer", "alice")
    assert_one_line_error(cli(*decide))  # no bank named
    assert_one_line_error(cli(*decide, "--bank", "no-such-bank"))
    done = cli(*decide, "--bank", "our-confirmed")
    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout)
    assert decision["status"] == "final" and decision["bank"] == "our-confirmed"
    with db.read_session() as session:
        [item] = banks.list_content(session, banks.get_bank(session, bank_id))
        assert item.labels == ["B2"] and item.external_ids["safeguard_case"] == str(case_id)
        assert item.external_ids["safeguard_moderator"] == "cli:alice"
        assert banks.signals_of(session, [item.id])[item.id][0].value == "cd" * 32
