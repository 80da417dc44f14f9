"""The screen: the cases table fits a laptop and a phone (issue 16's budgets), light and dark.

With SCREENSHOTS=<dir> (`make screenshots`), every page is also photographed at both sizes in both schemes."""

import os
from pathlib import Path

import pytest

from tests.browser.conftest import LAPTOP, PHONE

PAGES = ["/", "/cases/", "/cases/?view=all", "/cases/?view=commented", "/updates/", "/weekly/", "/stats/",
         "/accounts/", "/engineers/", "/no-such-page/"]  # fmt: skip
MEASURE = """() => {
  const rows = [...document.querySelectorAll('table.case-table > tbody > tr[id^=case-]')];
  const seen = rows.filter(r => { const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; });
  const heads = [...document.querySelectorAll('table.case-table > thead th')].filter(th => th.offsetWidth > 0);
  const clipped = heads.filter(th => th.getBoundingClientRect().right > document.documentElement.clientWidth + 1);
  return {rows: seen.length, sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          columns: heads.map(th => th.textContent.trim()), clipped: clipped.map(th => th.textContent.trim())};
}"""
# What a team member sees without choosing: all but Crit sit (its facet shows it) and Last updated.
DEFAULT_COLUMNS = ["Case", "Severity", "On prio-list", "Summary", "Product", "Account", "Case status",
                   "Internal status", "Assignee", "JIRA card", "Most recent comment", "Days open"]  # fmt: skip


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_fits_twenty_rows_and_every_default_column_on_a_laptop(open_page, scheme):
    page = open_page(LAPTOP, scheme)
    page.goto("/cases/")
    page.wait_for_selector("[data-table-tools]:not([hidden])")
    found = page.evaluate(MEASURE)
    assert found["sideways"] <= 0, found
    assert found["rows"] >= 20, found
    shown = [" ".join(c.replace("▲", "").replace("▼", "").split()) for c in found["columns"]]
    for column in DEFAULT_COLUMNS:
        assert any(s.startswith(column) for s in shown), (column, shown)
    assert not found["clipped"], found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_shows_cases_as_cards_on_a_phone_without_sideways_scroll(open_page, scheme):
    page = open_page(PHONE, scheme)
    page.goto("/cases/")
    found = page.evaluate(MEASURE)
    assert found["sideways"] <= 0, found
    first = page.locator("table.case-table > tbody > tr[id^=case-]").first
    box = first.bounding_box()
    assert box["width"] <= PHONE[0] and first.locator("td.summary").is_visible()
    # The facets are a drawer behind the Filters button.
    assert not page.locator("#facets").is_visible()
    page.get_by_role("button", name="Filters").click()
    assert page.locator("#facets").is_visible()


@pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="make screenshots")
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_screenshots(open_page, size, scheme):
    out = Path(os.environ["SCREENSHOTS"])
    out.mkdir(parents=True, exist_ok=True)
    page = open_page(size, scheme)
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        name = path.strip("/").replace("/", "-").replace("?view=", "-") or "home"
        page.screenshot(path=str(out / f"{name}-{size[0]}x{size[1]}-{scheme}.png"))
