"""The UI in a real browser: Playwright drives Debian's chromium against a real ``safeguard serve``.

Covers a moderator's loop (sign in, claim, media blurred and greyscale by computed style, reveal, decide
with the keyboard, the webhook reaching a local receiver), four-eyes second review, a wrong password, a
form post without its CSRF token, a moderator kept out of admin pages, one case for an upload matching two
banks decided into the bank the moderator picks, and axe-core accessibility checks.
Screenshots of the main pages go to ``ci-artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from tests.helpers import IMAGES
from tests.web.browser import AXE, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, Stack, start_stack

# CI installs Debian's chromium (.ci/run); without it these tests must fail, not skip silently.
assert CHROMIUM.exists(), "the browser tests need Debian's chromium at /usr/bin/chromium"

PASSWORD = "a calm long passphrase 42"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    image = sorted(IMAGES.glob("*.jpg"))[0]
    yield from start_stack(tmp_path_factory.mktemp("browser"), image, PASSWORD)


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def webhook(stack: Stack) -> dict[str, Any]:
    url = f"http://127.0.0.1:{stack.receiver.port}/hooks"
    return stack.api("POST", "/v1/webhooks", {"url": url, "events": ["decision.made"]})


UNREVEALED = "() => getComputedStyle(document.querySelector('.media-frame img')).filter !== 'none'"


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(browser: Any, stack: Stack, username: str, *, bypass_csp: bool = False) -> Any:
    context = browser.new_context(
        base_url=stack.base_url, bypass_csp=bypass_csp, viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    page.goto("/ui/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/ui/login" not in url)
    return page


def media_filter(page: Any) -> str:
    value: str = page.eval_on_selector(".media-frame img", "el => getComputedStyle(el).filter")
    return value


def assert_accessible(page: Any) -> None:
    """No serious or critical axe-core violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: {v['nodes'][0]['target']})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


def test_wrong_password_is_refused(browser: Any, stack: Stack) -> None:
    context = browser.new_context(base_url=stack.base_url)
    page = context.new_page()
    page.goto("/ui/login")
    shot(page, "login")
    page.get_by_label("User name").fill("mod1")
    page.get_by_label("Password").fill("this is not the password")
    with page.expect_response("**/ui/login") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    assert "did not work" in page.locator("#login-error").inner_text()
    assert not [c for c in context.cookies() if c["name"] == "sg_session"]
    context.close()


def test_moderator_claims_reveals_and_decides_with_the_keyboard(
    browser: Any, stack: Stack, webhook: dict[str, Any]
) -> None:
    case_id = stack.open_media_case("upload-1001", ["A1"])
    page = sign_in(browser, stack, "mod1")
    cookie = next(c for c in page.context.cookies() if c["name"] == "sg_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.url.endswith("/ui/queue")
    assert page.locator("#queue").get_by_text(f"#{case_id}").is_visible()
    shot(page, "queue")

    page.keyboard.press("n")  # claim next
    page.wait_for_url(f"**/ui/cases/{case_id}")
    page.wait_for_function("() => document.querySelector('.media-frame img').naturalWidth > 0")
    blurred = media_filter(page)
    assert "blur(" in blurred and "grayscale(1)" in blurred, blurred
    assert page.locator("#viewed-count").inner_text() == "1"
    shot(page, "case-blurred")

    item = page.locator("#media-1")
    item.get_by_role("button", name="Show partly").click()
    # The click's handler changes the class; wait for the style to follow before reading it.
    page.wait_for_function(
        "(before) => getComputedStyle(document.querySelector('.media-frame img')).filter !== before",
        arg=blurred,
    )
    partial = media_filter(page)
    assert "blur(" in partial and partial != blurred and "grayscale(1)" in partial
    item.get_by_role("button", name="Reveal").click()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.media-frame img')).filter === 'none'"
    )
    item.get_by_role("button", name="Reveal").click()  # toggles back
    page.wait_for_function(UNREVEALED)
    assert "blur(" in media_filter(page)
    hold = item.get_by_role("button", name="Hold to peek")
    hold.hover()
    page.mouse.down()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.media-frame img')).filter === 'none'"
    )
    page.mouse.up()
    page.wait_for_function(UNREVEALED)
    assert "blur(" in media_filter(page)

    page.keyboard.press("1")  # label A1
    page.keyboard.press("r")  # remove content
    assert page.get_by_label("A1: prepubescent, sex act").is_checked()
    assert page.get_by_label("Remove the content").is_checked()
    page.keyboard.press("d")  # record the decision
    page.wait_for_url("**/ui/queue?notice=decided")
    hit = stack.receiver.wait_for("decision.made", case_id)
    assert hit["body"]["data"]["label"] == "A1"
    assert hit["body"]["data"]["actions"] == ["remove_content"]
    page.context.close()


def test_four_eyes_second_review_in_the_browser(browser: Any, stack: Stack, webhook: dict[str, Any]) -> None:
    case_id = stack.open_grooming_case("chat-77")
    first = sign_in(browser, stack, "mod1")
    first.keyboard.press("n")
    first.wait_for_url(f"**/ui/cases/{case_id}")
    risky = first.locator(".messages li.risky")
    assert risky.count() >= 3 and "Asking the child's age or where they live" in risky.first.inner_text()
    assert "age_location_probing" not in first.locator(".messages").first.inner_text()  # words, not codes
    shot(first, "case-grooming")
    assert first.get_by_label("A1: prepubescent, sex act").count() == 0  # a conversation's own labels
    first.keyboard.press("5")  # online enticement
    first.keyboard.press("p")  # report to the authorities: needs a second moderator
    first.keyboard.press("d")
    first.wait_for_url("**/ui/queue?notice=proposed")
    first.context.close()

    second = sign_in(browser, stack, "mod2")
    second.keyboard.press("n")
    second.wait_for_url(f"**/ui/cases/{case_id}")
    assert second.locator("#confirm-form").is_visible()
    shot(second, "case-second-review")
    second.keyboard.press("y")
    second.wait_for_url("**/ui/queue?notice=confirmed")
    hit = stack.receiver.wait_for("decision.made", case_id)
    assert hit["body"]["data"]["actions"] == ["report_to_authorities"]
    second.context.close()


def test_form_post_without_csrf_token_is_refused(browser: Any, stack: Stack) -> None:
    page = sign_in(browser, stack, "mod1")
    status = page.evaluate(
        "() => fetch('/ui/queue/claim', {method: 'POST', body: new URLSearchParams({kind: ''})})"
        ".then(r => r.status)"
    )
    assert status == 403
    response = page.request.post(stack.base_url + "/ui/logout", form={"csrf_token": "forged"})
    assert response.status == 403
    page.goto("/ui/account")
    assert page.url.endswith("/ui/account")  # still signed in: the forged logout did nothing
    page.context.close()


def test_moderator_cannot_open_admin_pages(browser: Any, stack: Stack) -> None:
    page = sign_in(browser, stack, "mod1")
    for path in ("/ui/admin/keys", "/ui/admin/users", "/ui/admin/audit", "/ui/admin/webhooks", "/ui/banks"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        assert "your role cannot open this page" in page.content()
    shot(page, "forbidden")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").count() == 0
    page.context.close()


def test_admin_pages_render_and_are_accessible(browser: Any, stack: Stack, webhook: dict[str, Any]) -> None:
    page = sign_in(browser, stack, "admin1", bypass_csp=True)  # axe is injected as a script
    pages = {
        "queue-admin": "/ui/queue",
        "account": "/ui/account",
        "admin-keys": "/ui/admin/keys",
        "admin-users": "/ui/admin/users",
        "admin-audit": "/ui/admin/audit",
        "admin-webhooks": "/ui/admin/webhooks",
        "banks": "/ui/banks",
    }
    for name, path in pages.items():
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        shot(page, name)
        assert_accessible(page)
    page.goto("/ui/admin/audit")
    assert "Chain verified" in page.locator("#chain-status").inner_text()
    page.goto("/ui/admin/keys")
    page.get_by_label("Name").fill("second platform")
    page.get_by_role("button", name="Create key").click()
    assert page.locator("#new-key").inner_text().startswith("sg_")
    page.context.close()


def test_login_and_case_pages_are_accessible(browser: Any, stack: Stack) -> None:
    context = browser.new_context(base_url=stack.base_url, bypass_csp=True)
    page = context.new_page()
    page.goto("/ui/login")
    assert_accessible(page)
    context.close()
    case_id = stack.open_media_case("upload-2002", ["B2"])
    page = sign_in(browser, stack, "mod2", bypass_csp=True)
    page.goto(f"/ui/cases/{case_id}")
    assert_accessible(page)
    page.context.close()


def test_admin_creates_a_bank_imports_a_file_and_disables_an_item(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    page = sign_in(browser, stack, "admin1")  # CSP enforced: the upload script must work under it
    page.goto("/ui/banks")
    page.get_by_label("Name").fill("known-material")
    page.get_by_label("Description").fill("imported in the browser test")
    page.get_by_role("button", name="Create bank").click()
    page.wait_for_url("**/ui/banks/*?notice=bank-created")
    hashes = [f"{n:02x}" * 32 for n in (17, 34, 51)]
    upload = tmp_path / "bank.csv"
    upload.write_text("signal_type,hash,label\n" + "".join(f"pdq,{h},B2\n" for h in hashes))
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Import").click()
    result = page.locator("#import-result")
    result.wait_for()
    assert "3 new items" in result.inner_text()
    page.goto(page.url.split("?")[0].removesuffix("/import"))
    page.get_by_label("Why disable item 1").fill("false positive in testing")
    page.get_by_role("button", name="Disable").first.click()
    page.wait_for_url("**?notice=item-disabled")
    assert "false positive in testing" in page.content()
    shot(page, "bank")
    page.context.close()


def test_one_case_per_upload_and_bank_on_decision_in_the_browser(browser: Any, stack: Stack) -> None:
    """An upload matching two banks is one case; the moderator adds it to the bank they pick in the form,
    and a re-upload then matches that bank. (Last in the file: it claims the next case.)"""
    # Not the image the other tests' cases hold: a decided case with the same SHA-256 would decide it.
    image = sorted(IMAGES.glob("*.jpg"))[1].read_bytes()
    admin = {"Authorization": f"Bearer {stack.admin_key}"}
    platform = {"Authorization": f"Bearer {stack.integrator_key}"}
    for name in ("hotline-a", "hotline-b", "our-confirmed"):
        bank = httpx.post(f"{stack.base_url}/v1/banks", json={"name": name}, headers=admin, timeout=30).json()
        if name != "our-confirmed":
            r = httpx.post(
                f"{stack.base_url}/v1/banks/{bank['id']}/content/upload",
                files={"file": ("k.jpg", image)},
                data={"labels": "B1"},
                headers=admin,
                timeout=60,
            )
            assert r.status_code == 201, r.text

    def scan(content_id: str | None) -> dict[str, Any]:
        data = {"content_id": content_id} if content_id else {}
        r = httpx.post(
            f"{stack.base_url}/v1/scan",
            files={"file": ("u.jpg", image)},
            data=data,
            headers=platform,
            timeout=60,
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def banks_matched(body: dict[str, Any]) -> set[str]:
        return {m["bank"] for result in body["results"] for m in result["matches"]}

    deadline = time.monotonic() + 10
    while banks_matched(scan(None)) != {"hotline-a", "hotline-b"}:
        assert time.monotonic() < deadline, "the banked image never matched"
        time.sleep(0.2)
    case_id = scan("upload-2001")["case_id"]
    assert scan("upload-2001")["case_id"] == case_id  # a re-scan joins the case

    page = sign_in(browser, stack, "mod1", bypass_csp=True)  # bypass: axe is injected below
    assert page.locator("#queue").get_by_text(f"#{case_id}").count() == 1
    page.keyboard.press("n")
    page.wait_for_url(f"**/ui/cases/{case_id}")
    page.keyboard.press("3")  # B1
    page.keyboard.press("b")  # add the media to the hash bank
    page.get_by_label("Bank to add the media to (hash bank or allowlist)").select_option("our-confirmed")
    shot(page, "case-bank-choice")
    assert_accessible(page)
    page.keyboard.press("d")
    page.wait_for_url("**/ui/queue?notice=decided")
    page.context.close()

    deadline = time.monotonic() + 5
    while "our-confirmed" not in banks_matched(scan(None)):
        assert time.monotonic() < deadline, "the banked item never matched"
        time.sleep(0.2)


def test_a_decided_case_shows_its_outcome_and_reopens_on_appeal(browser: Any, stack: Stack) -> None:
    # Media of its own (not the kept sample other tests decide), so no earlier decision applies to it.
    signal = {"type": "media_match", "content_id": "upload-appeal-1", "bank": "demo-bank"}
    signal |= {
        "bank_content_id": "entry-appeal",
        "distance": 4,
        "labels": ["B2"],
        "content_sha256": "ab" * 32,
    }
    case_id = int(stack.api("POST", "/v1/cases/signals", signal)["case_id"])
    page = sign_in(browser, stack, "mod1", bypass_csp=True)  # for axe, injected as a script
    page.goto("/ui/queue?label=B2")  # claim next takes the queue's filters: this test's case
    page.keyboard.press("n")
    page.wait_for_url(f"**/ui/cases/{case_id}")
    page.get_by_label("B2: pubescent, lascivious exhibition").check()
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**/ui/queue?notice=decided")

    page.goto(f"/ui/cases/{case_id}")
    final = page.locator("#final-decision")
    assert final.is_visible() and "B2" in final.inner_text()
    assert page.locator(".shortcuts").count() == 0 and page.locator("kbd").count() == 0
    assert "overdue" not in page.locator("main").inner_text()
    assert_accessible(page)
    shot(page, "case-decided")
    page.get_by_label("Reopen for a new review by another moderator (appeal): why?").fill("user disputes")
    page.get_by_role("button", name="Reopen on appeal").click()
    page.wait_for_url(f"**/ui/cases/{case_id}?notice=appealed")
    assert "reopened on appeal" in page.locator("main").inner_text()
    assert page.locator("#final-decision").count() == 0
    page.context.close()
