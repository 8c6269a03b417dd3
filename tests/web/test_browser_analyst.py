"""The analyst's pages in a real browser (Debian's chromium against a real ``safeguard serve``): the nav
links, the figures chart actually drawn under the page's CSP, a package opened from the list, and no serious
axe-core accessibility violations on either page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from tests.helpers import IMAGES
from tests.web.browser import AXE, CHROMIUM, CHROMIUM_ARGS, Stack, start_stack

# CI installs Debian's chromium (.ci/run); without it these tests must fail, not skip silently.
assert CHROMIUM.exists(), "the browser tests need Debian's chromium at /usr/bin/chromium"

PASSWORD = "a calm long passphrase 42"
SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "cybertip.xml"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    image = sorted(IMAGES.glob("*.jpg"))[0]
    yield from start_stack(tmp_path_factory.mktemp("browser-analyst"), image, PASSWORD)


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(browser: Any, stack: Stack, username: str) -> Any:
    # The CSP is kept (no bypass): the chart must load as the page serves it. axe is run through
    # page.evaluate (the DevTools protocol), which the page's CSP does not govern.
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto("/ui/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/ui/login" not in url)
    return page


def assert_accessible(page: Any) -> None:
    page.evaluate(AXE.read_text())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']}: {v['help']} ({v['nodes'][0]['target']})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


def test_analyst_reads_figures_and_opens_a_package(browser: Any, stack: Stack) -> None:
    stack.cli("intake", "import", str(SAMPLE))
    page = sign_in(browser, stack, "admin1")

    page.get_by_role("link", name="Figures", exact=True).click()
    page.wait_for_url("**/ui/figures")
    chart = page.locator("img.chart")
    chart.wait_for()
    assert page.evaluate("() => document.querySelector('img.chart').naturalWidth") > 0  # drawn, not blocked
    assert_accessible(page)

    page.get_by_role("link", name="Packages", exact=True).click()
    page.wait_for_url("**/ui/packages")
    first = page.locator("tbody a").first
    name = first.inner_text()
    first.click()
    page.wait_for_url("**/ui/packages/*")
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Package {name}:")
    assert page.get_by_role("heading", name="Why this tier").is_visible()
    assert_accessible(page)
