"""Searching the cases table in a real browser: a word only in one JIRA comment of a case, and one only in the
title of a bug linked to another case, each find their case with the matched word highlighted."""

import os

from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from bugs.models import Bug
from cards.models import Card
from tests.browser.conftest import _upstream_settings, sync_all

ROWS = "table.case-table > tbody > tr[id^='case-']"


def search(page, words: str) -> None:
    page.goto("/cases/?view=all")
    page.get_by_label("Search").fill(words)
    page.get_by_label("Search").press("Enter")
    expect(page).to_have_url(f"/cases/?view=all&q={words}")


def test_it_finds_cases_by_a_word_in_a_jira_comment_or_a_linked_bug_title_and_marks_it(member_page, stack, orm):
    sandbox = stack.sandbox
    card = Card.objects.filter(active=True, case__isnull=False).order_by("-key").first()
    link = Bug.cases.through.objects.filter(bug__restricted=False).exclude(case_id=card.case_id).order_by("bug_id")[0]
    sandbox.post(f"cards/{card.key}/comments", {"body": "Rebooted the node; quuxlefrob persists."}).raise_for_status()
    sandbox.post(f"bugs/{link.bug_id}/summary", {"summary": "vfio zorblatt leak"}).raise_for_status()
    sync_all(sandbox)
    # A bug's title changes without its case: the bugs sync reads it again once its copy is old, or in full.
    with override_settings(**_upstream_settings(sandbox)):
        call_command("sync", "bugs", "--full", "--no-progress", stdout=open(os.devnull, "w"))  # noqa: SIM115
    page = member_page

    search(page, "quuxlefrob")
    expect(page.locator(ROWS)).to_have_count(1)
    row = page.locator(f"#case-{card.case_id}")
    expect(row.locator(".match")).to_contain_text("in JIRA comment:")
    expect(row.locator(".match")).to_contain_text("the node; quuxlefrob persists.")
    expect(row.locator(".match mark")).to_have_text("quuxlefrob")

    search(page, "zorblatt")
    cases = set(Bug.cases.through.objects.filter(bug_id=link.bug_id).values_list("case_id", flat=True))
    expect(page.locator(ROWS)).to_have_count(len(cases))
    row = page.locator(f"#case-{link.case_id}")
    expect(row.locator(".match")).to_contain_text("in bug:")
    expect(row.locator(".match mark")).to_have_text("zorblatt")
