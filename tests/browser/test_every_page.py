"""Every page, light and dark: no console error, no failed request, and no serious or critical accessibility
violation found by axe-core (npm, run in the page through the DevTools protocol, which the CSP does not cover)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.conftest import BASE_DIR
from tests.browser.test_screen import Console

AXE = (BASE_DIR / "node_modules" / "axe-core" / "axe.min.js").read_text()
SERIOUS = ("serious", "critical")


def member_pages() -> list[str]:
    from cards.models import Card
    from cases.models import Case

    case = Case.objects.filter(cards__active=True).order_by("number").values_list("number", flat=True).first()
    account = Case.objects.exclude(account="").order_by("account").values_list("account", flat=True).first()
    engineer = Card.objects.exclude(assignee="").order_by("assignee").values_list("assignee", flat=True).first()
    return ["/", "/cases/", "/cases/?view=all&sort=-days_open", "/cases/?view=commented", "/cases/?view=trends",
            f"/cases/{case}/row/", "/updates/", "/updates/?scope=all", "/weekly/", "/stats/", "/accounts/",
            "/engineers/", reverse("account", args=[account]), reverse("engineer", args=[engineer])]  # fmt: skip


STAFF_PAGES = ["/admin/", "/admin/t5g/syncrun/", "/admin/django_celery_beat/periodictask/", "/admin/cases/slapartner/"]


def violations(page) -> list[str]:
    page.evaluate(AXE)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in found if v["impact"] in SERIOUS]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_member_page_is_clean_and_accessible(open_page, stack, orm, scheme):
    page = open_page(scheme=scheme)
    console = Console(page, stack.url)
    problems = {}
    for path in member_pages():
        answer = page.goto(path)
        assert answer.status == 200, path
        page.wait_for_load_state("networkidle")
        if found := violations(page):
            problems[path] = found
    console.check()
    assert not problems, problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_admin_page_is_clean_and_accessible(open_page, stack, orm, scheme):
    page = open_page(scheme=scheme, username="browser-staff", staff=True)
    console = Console(page, stack.url)
    problems = {}
    for path in STAFF_PAGES:
        assert page.goto(path).status == 200, path
        page.wait_for_load_state("networkidle")
        if found := violations(page):
            problems[path] = found
    console.check()
    assert not problems, problems


def test_the_not_found_page_is_accessible_too(open_page, stack):
    page = open_page()
    assert page.goto("/no-such-page/").status == 404
    assert not violations(page)
