"""A page that updates itself: a comment added in JIRA reaches an open table, its row expanded, without a reload
and without Refresh — through JIRA's webhook, T5G's re-read and the page's own check for changes."""

import io
import re
import time

from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from cards.models import Card
from cases.models import Case
from t5g.cache import bump
from t5g.live import OLD
from tests.browser.conftest import _upstream_settings


def test_it_shows_a_new_jira_comment_on_an_open_page_within_30_seconds(member_page, stack, orm):
    page = member_page
    card = Card.objects.filter(active=True, removed_at__isnull=True, case__isnull=False).order_by("key").first()
    number = card.case_id
    with override_settings(**_upstream_settings(stack.sandbox), SITE_URL=stack.url):
        call_command("jira_webhook", "register", stdout=io.StringIO())
    try:
        page.goto(f"/cases/?view=all&q={number}")
        expand = page.locator(f"#case-{number} a.expand")
        expand.click()
        detail = page.locator(f"#detail-{number}")
        expect(detail).to_be_visible()
        page.evaluate("window.scrollTo(0, 40)")
        loaded = page.evaluate("performance.getEntriesByType('navigation').length")

        words = f"Live comment {int(time.time())}"
        stack.sandbox.post(f"cards/{card.key}/comments", {"body": words})
        started = time.monotonic()
        expect(page.locator(f"#detail-{number}")).to_contain_text(words, timeout=30_000)
        took = time.monotonic() - started

        expect(page.locator(f"#case-{number} a.expand")).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#live-note")).to_have_text(re.compile(r"updated \d\d:\d\d"))
        assert page.evaluate("performance.getEntriesByType('navigation').length") == loaded  # no reload
        assert re.search(rf"q={number}", page.url)
        print(f"comment on the open page after {took:.1f} s")
    finally:
        with override_settings(**_upstream_settings(stack.sandbox), SITE_URL=stack.url):
            call_command("jira_webhook", "remove", stdout=io.StringIO())


def test_it_updates_at_once_a_page_given_an_old_copy_while_the_new_one_was_built(member_page, stack, orm):
    """A sync made the table's cached copy old; another request is building the new one. The page gets the old copy
    at once and, marked, asks again in two seconds rather than at its next poll (LIVE_POLL_SECONDS, 15 s)."""
    page = member_page
    case = Case.objects.filter(removed_at__isnull=True).order_by("number").first()
    url = f"/cases/?view=all&q={case.number}"
    page.goto(url)
    expect(page.locator(f"#case-{case.number}")).to_contain_text(case.summary[:20])
    summary = f"Renamed while cached {int(time.time())}"
    Case.objects.filter(pk=case.pk).update(summary=summary)
    bump("cases")
    holding = [key.replace("view:", "view-rebuild:", 1) for key in cache.keys("view:*")]
    for key in holding:  # another request is building each view's new copy
        cache.add(key, 1, 30)
    try:
        page.goto(url)
        assert page.evaluate("document.body.dataset.generation") == OLD
        expect(page.locator(f"#case-{case.number}")).not_to_contain_text(summary)
        expect(page.locator("#live-note")).to_have_text("updating…")  # it says it is not current
    finally:
        cache.delete_many(holding)
    started = time.monotonic()
    expect(page.locator(f"#case-{case.number}")).to_contain_text(summary, timeout=10_000)
    assert time.monotonic() - started < 10 and page.evaluate("document.body.dataset.generation") != OLD
    expect(page.locator("#live-note")).to_have_text(re.compile(r"updated \d\d:\d\d"))
