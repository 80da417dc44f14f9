"""Hostile upstream text, as a customer or engineer could write it, reaches every page as text and never runs."""

import re

from playwright.sync_api import expect

from cards.models import Card
from cases.models import Case
from tests.browser.conftest import sync_all

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'
LINK = '<a href="javascript:alert(3)">click for logs</a>'
WIKI_LINK = "[logs|javascript:alert(4)]"  # JIRA wiki markup: a renderer that linkifies must not make this a link
HOSTILE = f"{SCRIPT} {IMAGE} {LINK} {WIKI_LINK}"

JAVASCRIPT_LINKS = """() => [...document.querySelectorAll("a[href], area[href]")]
  .filter(a => a.protocol === "javascript:").length"""
# Our only scripts are the static files and json_script data islands.
FOREIGN_SCRIPTS = "main script:not([type='application/json'])"


def assert_shown_as_text(page, where) -> None:
    for text in (SCRIPT, IMAGE, LINK, WIKI_LINK):
        expect(where.first).to_contain_text(text)
    expect(page.locator(FOREIGN_SCRIPTS)).to_have_count(0)
    expect(page.locator("main img")).to_have_count(0)
    assert page.evaluate(JAVASCRIPT_LINKS) == 0


def test_it_shows_hostile_upstream_text_as_text_and_runs_none_of_it(member_page, stack, watch, orm):
    sandbox = stack.sandbox
    case = Case.objects.filter(cards__active=True).exclude(status="Closed").order_by("number").first()
    card = Card.objects.get(case=case, active=True)
    assert sandbox.post(f"cards/{card.key}/comments", {"body": HOSTILE}).status_code == 201
    assert sandbox.post(f"cases/{case.number}/comments", {"body": HOSTILE}).status_code == 201
    created = sandbox.post("cases", {"summary": f"PTP lost lock {SCRIPT}", "severity": 2, "account": "Hostile Ltd"})
    new_case = created.json()["number"]
    sync_all(sandbox)

    page = member_page
    # Home: the new case's summary.
    page.goto("/")
    expect(page.locator("table.cases tr", has_text=new_case)).to_contain_text(f"PTP lost lock {SCRIPT}")
    expect(page.locator(FOREIGN_SCRIPTS)).to_have_count(0)

    # The cases table: the newest comment in its row, then every comment in the expanded row.
    page.goto(f"/cases/?view=all&q={case.number}")
    row = page.locator(f"#case-{case.number}")
    expect(row.locator("td.comment")).to_contain_text(SCRIPT)
    row.locator("a.expand").click()
    detail = page.locator(f"#detail-{case.number}")
    assert_shown_as_text(page, detail.locator("ol.comments li", has_text="click for logs"))
    expect(detail.locator("ol.comments li", has_text="click for logs")).to_have_count(2)  # the card's and the case's
    # What looks like a link is text: clicking it goes nowhere and runs nothing.
    url = page.url
    detail.get_by_text(re.compile("click for logs")).first.click()
    page.wait_for_timeout(300)
    assert page.url == url

    # Recent updates: the card's comments of the week.
    page.goto("/updates/")
    assert_shown_as_text(page, page.locator(f"article#case-{case.number} ol.comments li", has_text="click for logs"))

    watch.check()


def test_it_refuses_a_sandbox_comment_without_a_body_or_a_target(stack):
    sandbox = stack.sandbox
    assert sandbox.post("cards/NOPE-1/comments", {"body": "x"}).status_code == 400
    assert sandbox.post("cases/00000000/comments", {"body": "x"}).status_code == 400
    assert sandbox.post("cards/KNIECO-1/comments", {"body": ""}).status_code == 400
    assert sandbox.post("cards/KNIECO-1/comments", {"text": "x"}).status_code == 400
