"""Issue 15's views in a real browser: shift-click sorting, copy buttons, Hide all / Show all, data as of."""

import io
import re
import time
from urllib.parse import parse_qs, urlsplit

from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import expect

from cards.models import Card
from cases.models import Case
from tests.browser.conftest import _upstream_settings

ROWS = "table.case-table > tbody > tr[id^='case-']"


def sort_of(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query).get("sort", [])


def header_link(page, label: str):
    return page.locator("thead").get_by_role("link", name=re.compile(rf"^{label}( \(sort|$)"))


def test_it_adds_a_second_sort_on_shift_click_and_keeps_it_in_the_url(member_page, stack, watch, orm):
    page = member_page
    page.goto("/cases/?view=all")
    header_link(page, "Account").click()
    expect(page).to_have_url(re.compile(r"sort=account(&|$)"))
    header_link(page, "Days open").click(modifiers=["Shift"])
    expect(page).to_have_url(re.compile(r"sort=account,days_open"))
    assert len(page.context.pages) == 1  # a shift-click on a link would otherwise open a window
    # A second shift-click on the same column turns it.
    header_link(page, "Days open").click(modifiers=["Shift"])
    expect(page).to_have_url(re.compile(r"sort=account,-days_open"))
    assert sort_of(page.url) == ["account,-days_open"]
    expect(page.locator("thead th[aria-sort]")).to_have_count(1)
    expect(page.locator("thead th[aria-sort=ascending]")).to_contain_text("Account")
    expect(header_link(page, "Account").locator(".sort-mark")).to_have_text("▲1")
    expect(header_link(page, "Days open").locator(".sort-mark")).to_have_text("▼2")

    # The rows are in that order: accounts A→Z, and within one account the longest open first.
    rows = page.locator(ROWS).evaluate_all("rows => rows.map(r => r.id.slice(5))")
    cases = {c.number: c for c in Case.objects.filter(number__in=rows)}
    now = timezone.now()
    keys = [(cases[n].account, (cases[n].closed_at or now) - cases[n].created_at) for n in rows]
    assert keys == sorted(keys, key=lambda k: (k[0], -k[1].total_seconds()))

    # The URL is the view: a reload, or the URL opened elsewhere, shows the same.
    page.reload()
    expect(header_link(page, "Days open").locator(".sort-mark")).to_have_text("▼2")
    assert page.locator(ROWS).evaluate_all("rows => rows.map(r => r.id.slice(5))") == rows
    # A plain click sorts by one column again.
    header_link(page, "Case").click()
    expect(page).to_have_url(re.compile(r"sort=case(&|$)"))
    expect(page.locator(".sort-mark sup")).to_have_count(0)


def grant_clipboard(page, stack) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def test_it_copies_a_case_number_and_its_summary_line(member_page, stack, watch, orm):
    page = member_page
    grant_clipboard(page, stack)
    page.goto("/cases/?view=all&sort=case")
    row = page.locator(ROWS).first
    number = row.get_attribute("id").removeprefix("case-")
    case = Case.objects.get(number=number)
    row.get_by_role("button", name="copy case number").click()
    expect(row.locator(".copy-note")).to_have_text("Copied")
    expect(page.locator("#copy-status")).to_have_text("Copied")
    assert clipboard(page) == number
    row.get_by_role("button", name="copy summary line").click()
    line = clipboard(page)
    assert line.startswith(f"{number} ") and case.summary in line and case.account in line
    # The note goes away by itself.
    expect(row.locator(".copy-note")).to_have_count(0, timeout=5000)


def test_it_copies_the_weekly_report_and_falls_back_without_the_clipboard_api(member_page, stack, watch):
    page = member_page
    grant_clipboard(page, stack)
    page.goto("/weekly/?days=90")
    report = page.locator(".weekly").inner_text().strip()
    assert report
    page.get_by_role("button", name="Copy the report").click()
    expect(page.locator(".copy-report .copy-note")).to_have_text("Copied")
    assert clipboard(page) == report

    # A browser without the Clipboard API (or on plain http) copies through the older command.
    older = page.context.new_page()
    older.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    older.goto("/cases/?view=all&sort=-case")
    row = older.locator(ROWS).first
    row.get_by_role("button", name="copy case number").click()
    expect(row.locator(".copy-note")).to_have_text("Copied")
    assert clipboard(page) == row.get_attribute("id").removeprefix("case-")


def test_it_hides_and_shows_every_series_of_a_chart(member_page, stack, watch):
    page = member_page
    page.goto("/stats/")
    canvas = page.locator("canvas[data-chart=stats-history]")
    expect(canvas).to_be_visible()
    tools = page.locator(".chart-tools").first
    visible = (
        "c => { const chart = Chart.getChart(c); return chart.data.datasets.map((_, i) => chart.isDatasetVisible(i)); }"
    )
    shown = canvas.evaluate(visible)
    assert len(shown) > 1 and all(shown)
    tools.get_by_role("button", name="Hide all").click()
    assert not any(canvas.evaluate(visible))
    tools.get_by_role("button", name="Show all").click()
    assert all(canvas.evaluate(visible))
    # A pie is one series: no buttons beside it.
    page.goto("/")
    expect(page.locator("canvas[data-chart=cards-by-status]")).to_be_visible()
    expect(page.locator(".chart-tools")).to_have_count(0)


def test_it_shows_the_data_as_of_each_source_in_the_header(member_page, stack, watch):
    page = member_page
    page.goto("/cases/")
    line = page.locator(".as-of")
    expect(line).to_contain_text("Data as of")
    for source in ("Cases", "Cards", "Bugs", "Escalations"):
        expect(line.locator(".source", has_text=source).locator("time")).to_have_text(re.compile(r"^\d\d:\d\d$"))


def test_it_keeps_the_data_as_of_and_the_copy_buttons_when_a_page_updates_itself(member_page, stack, orm):
    page = member_page
    page.goto("/cases/?view=all&sort=case")
    cards_time = page.locator(".as-of .source", has_text="Cards").locator("time")
    before = cards_time.get_attribute("datetime")
    card = Card.objects.filter(active=True, removed_at__isnull=True, case__isnull=False).order_by("key").first()
    stack.sandbox.post(f"cards/{card.key}/comments", {"body": f"As-of check {time.time()}"})
    time.sleep(1)  # the new run's time differs from the last one's to the second
    with override_settings(**_upstream_settings(stack.sandbox)):
        call_command("sync", "cards", "--no-progress", stdout=io.StringIO())
    # The page updates itself (t5g/live.py) within its poll: the header's line with it, the copy buttons shown.
    expect(cards_time).not_to_have_attribute("datetime", before, timeout=30_000)
    expect(page.locator("#live-note")).to_have_text(re.compile(r"updated \d\d:\d\d"))
    expect(page.locator(ROWS).first.get_by_role("button", name="copy case number")).to_be_visible()
