"""A JIRA comment reaches the expanded row as its author meant it: a [text|url] link that works, a {code} block,
while the hostile markup in the same comments stays inert text."""

import re
from io import StringIO

from django.core.management import call_command
from playwright.sync_api import expect

from cards.models import Card
from cases.models import Case
from tests.browser.conftest import sync_all
from tests.browser.test_hostile import JAVASCRIPT_LINKS, WIKI_LINK, assert_shown_as_text

TARGET = "https://access.redhat.com/solutions/7001234"
WIKI = (
    f"h3. Findings\nSee [the KB article|{TARGET}] and *read it first*.\n"
    "{code:bash}\noc adm must-gather --dest-dir=/tmp/mg <x>\n{code}\n"
    "* cordon the node\n* restart the pod\n"
    '<script>alert(1)</script> <img src=x onerror="alert(2)"> <a href="javascript:alert(3)">click for logs</a> '
    f"{WIKI_LINK}"
)
PORTAL = f"Customer: logs uploaded, see {TARGET}?from=portal <b>not bold</b>"


def test_it_renders_a_jira_comment_as_its_author_meant_it_and_keeps_hostile_markup_inert(
    member_page, stack, watch, orm
):
    sandbox = stack.sandbox
    # A case without bugs: test_cases.py reads the newest comment of a case with bugs as raw text.
    case = (
        Case.objects.filter(cards__active=True, bugs__isnull=True).exclude(status="Closed").order_by("-number").first()
    )
    card = Card.objects.get(case=case, active=True)
    assert sandbox.post(f"cards/{card.key}/comments", {"body": WIKI}).status_code == 201
    assert sandbox.post(f"cases/{case.number}/comments", {"body": PORTAL}).status_code == 201
    sync_all(sandbox)
    call_command("sync", "render_comments", "--no-progress", stdout=StringIO())  # its schedule: every 5 minutes

    page = member_page
    page.goto(f"/cases/?view=all&q={case.number}")
    page.locator(f"#case-{case.number} a.expand").click()
    comment = page.locator(f"#detail-{case.number} ol.comments li", has_text="Findings").first

    expect(comment.locator("h3", has_text="Findings")).to_have_count(1)
    link = comment.get_by_role("link", name="the KB article")
    expect(link).to_have_attribute("href", TARGET)
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(comment.locator("strong", has_text="read it first")).to_have_count(1)
    code = comment.locator("pre > code")
    expect(code).to_have_text(re.compile(r"oc adm must-gather --dest-dir=/tmp/mg <x>"))
    expect(comment.locator("ul > li")).to_have_count(2)
    # The hostile part of the same comment is text, and nothing in it runs or links.
    assert_shown_as_text(page, comment)

    # The portal comment: plain text, its link clickable, its HTML shown as text.
    portal = page.locator(f"#detail-{case.number} ol.comments li", has_text="logs uploaded").first
    expect(portal.get_by_role("link", name=f"{TARGET}?from=portal")).to_have_attribute("href", f"{TARGET}?from=portal")
    expect(portal).to_contain_text("<b>not bold</b>")

    # The link works: it goes where its author pointed (answered here, the machine has no way out).
    page.context.route(f"{TARGET}*", lambda route: route.fulfill(status=200, body="<h1>the KB article</h1>"))
    with page.expect_navigation():
        link.click()
    assert page.url == TARGET
    page.go_back()

    # The same rendering in the week's updates.
    page.goto("/updates/")
    updates = page.locator(f"article#case-{case.number} ol.comments li", has_text="Findings").first
    expect(updates.get_by_role("link", name="the KB article")).to_have_attribute("href", TARGET)
    expect(updates.locator("pre > code")).to_have_count(1)
    assert page.evaluate(JAVASCRIPT_LINKS) == 0

    watch.check()
