"""Signing in to the web UI with an API token, on a server run with --auth token: the token stays
in the tab's session storage (never in a URL), the user sees only their projects, and a revoked
token sends them back to the login screen with a message. Without authentication no login is
asked. The Content-Security-Policy stops injected markup from running script."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from tests.web.conftest import READY_TIMEOUT_MS, Demo, Team, open_view, save_screenshot
from tracker_server.domain import users


def sign_in(page: Page, token: str) -> None:
    page.fill("#token", token)
    page.click("form#login button[type=submit]")


def test_a_token_signs_in_and_shows_only_the_users_projects(team: Team, page: Page) -> None:
    page.goto(team.url + "/")
    page.wait_for_selector("form#login", timeout=READY_TIMEOUT_MS)
    save_screenshot(page, "login")

    sign_in(page, "trk_" + "x" * 43)
    page.wait_for_selector("form#login .error", timeout=READY_TIMEOUT_MS)
    assert "not valid" in page.inner_text("form#login .error")

    sign_in(page, team.tokens["alice"])
    page.wait_for_selector("body[data-ready=true] table.projects", timeout=READY_TIMEOUT_MS)
    assert page.locator("table.projects tbody tr").all_inner_texts()[0].startswith("vision")
    assert page.locator("table.projects tbody tr").count() == 1  # not bob's "secret"
    assert page.inner_text("header .user").startswith("alice")
    assert team.tokens["alice"] not in page.url
    stored = page.evaluate("() => sessionStorage.getItem('tracker.token')")
    assert stored == team.tokens["alice"]
    assert page.evaluate("() => localStorage.length") == 0 and page.context.cookies() == []

    open_view(page, team.url + "/#/p/vision/runs")
    assert team.tokens["alice"] not in page.url

    page.click("#logout")
    page.wait_for_selector("form#login", timeout=READY_TIMEOUT_MS)
    assert page.evaluate("() => sessionStorage.getItem('tracker.token')") is None


def test_a_revoked_token_returns_to_the_login_screen_with_a_message(team: Team, page: Page) -> None:
    secret, info = users.create_token(team.db, "alice", name="revoked-in-browser")
    page.goto(team.url + "/")
    page.wait_for_selector("form#login", timeout=READY_TIMEOUT_MS)
    sign_in(page, secret)
    page.wait_for_selector("body[data-ready=true] table.projects", timeout=READY_TIMEOUT_MS)

    users.revoke_token(team.db, info.id)
    page.click("table.projects a")  # the next request carries the revoked token
    page.wait_for_selector("form#login .error", timeout=READY_TIMEOUT_MS)
    assert "expired or revoked" in page.inner_text("form#login .error")
    assert page.evaluate("() => sessionStorage.getItem('tracker.token')") is None


def test_without_authentication_no_login_is_asked(demo: Demo, page: Page) -> None:
    open_view(page, demo.url + "/")
    assert page.locator("form#login").count() == 0
    assert page.locator("table.projects tbody tr").count() == 1
    assert page.locator("#logout").count() == 0


def test_the_content_security_policy_blocks_injected_script(demo: Demo, browser: Browser) -> None:
    """Were markup ever injected, its inline handlers and scripts would not run."""
    context = browser.new_context()
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on(
            "console", lambda message: violations.append(message.text) if message.type == "error" else None
        )
        open_view(page, demo.url + "/")
        page.evaluate(
            """() => {
                document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__xss = 1">');
                const script = document.createElement('script');
                script.textContent = 'window.__xss = 2';
                document.body.append(script);
            }"""
        )
        page.wait_for_function(
            "() => document.querySelector('img[src=x]').complete", timeout=READY_TIMEOUT_MS
        )
        assert page.evaluate("() => window.__xss") is None
        deadline = 50  # the violation reports reach the console asynchronously: poll, bounded
        while not any("Content Security Policy" in text for text in violations) and deadline:
            page.wait_for_timeout(100)
            deadline -= 1
        assert any("Content Security Policy" in text for text in violations), violations
    finally:
        context.close()
