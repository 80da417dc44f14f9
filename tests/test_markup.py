"""Comments as their authors meant them: JIRA wiki markup and plain portal text as safe HTML (t5g/markup.py)."""

import random
import time

import pytest

from cards.models import Card, CardComment
from sandbox import text as sandbox_text
from t5g.markup import WIKI_MARKUP, jira_to_html, plain_to_html
from t5g.sync.runner import run_job

LINK = '<a href="https://example.com/kb?a=1&amp;b=2" rel="noopener noreferrer">the KB</a>'


@pytest.mark.parametrize(
    ("wiki", "html"),
    [
        pytest.param("see [the KB|https://example.com/kb?a=1&b=2]", f"<p>see {LINK}</p>", id="link"),
        pytest.param(
            "logs at https://example.com/x",
            '<p>logs at <a href="https://example.com/x" rel="noopener noreferrer">https://example.com/x</a></p>',
            id="bare link",
        ),
        pytest.param("*bold* and _italic_", "<p><strong>bold</strong> and <em>italic</em></p>", id="bold italic"),
        pytest.param("h3. Findings", "<h3>Findings</h3>", id="heading"),
        pytest.param("* one\n* two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>", id="bullets"),
        pytest.param("# one\n# two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>", id="numbered"),
        pytest.param("{code:java}\nint x = a < b;\n{code}", "<pre><code>int x = a &lt; b;\n</code></pre>", id="code"),
        pytest.param(
            "{noformat}\nraw *not bold*\n{noformat}", "<pre><code>raw *not bold*\n</code></pre>", id="noformat"
        ),
        pytest.param(
            "Logs show {code}PLEG is not healthy{code} often.",
            "<p>Logs show</p>\n<pre><code>PLEG is not healthy\n</code></pre>\n<p>often.</p>",
            id="code inside a line",
        ),
        pytest.param("run {{oc get pods}}", "<p>run <code>oc get pods</code></p>", id="monospace"),
        pytest.param("Plain words, it's fine.", "<p>Plain words, it&#x27;s fine.</p>", id="plain"),
        pytest.param("", "", id="empty"),
    ],
)
def test_it_renders_jira_wiki_markup(wiki, html):
    assert jira_to_html(wiki).strip() == html


@pytest.mark.parametrize(
    ("hostile", "inert"),
    [
        pytest.param("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", id="script"),
        pytest.param('<img src=x onerror="alert(2)">', "&lt;img src=x onerror=", id="image"),
        pytest.param(
            "<a href='javascript:alert(3)'>x</a>", "&lt;a href=&#x27;javascript:alert(3)&#x27;&gt;", id="html"
        ),
        pytest.param("[logs|javascript:alert(4)]", "[logs|javascript:alert(4)]", id="wiki javascript link"),
        pytest.param("[logs|data:text/html,<b>x</b>]", "[logs|data:text/html,&lt;b&gt;x&lt;/b&gt;]", id="data link"),
        pytest.param("*bold* [x|vbscript:msgbox(1)]", "vbscript:msgbox(1)", id="vbscript"),
        pytest.param("{color:red}red{color} <style>body{}</style>", "&lt;style&gt;", id="style"),
    ],
)
def test_it_keeps_hostile_markup_inert(hostile, inert):
    for render in (jira_to_html, plain_to_html):
        html = render(hostile)
        assert inert in html
        assert "<script" not in html and "<img" not in html and "<style" not in html and " style=" not in html
        assert "<a" not in html  # no link made of any of it


def test_it_linkifies_plain_portal_text_and_interprets_nothing_else():
    html = plain_to_html("*not bold* see https://example.com/a\nsecond line\n\n# not a list <b>x</b>")
    assert html == (
        '<p>*not bold* see <a href="https://example.com/a" rel="noopener noreferrer">https://example.com/a</a><br>\n'
        "second line</p>\n<p># not a list &lt;b&gt;x&lt;/b&gt;</p>\n"
    )


def test_it_renders_the_sandbox_comments_within_budget():
    """Measured: a comment without markup skips the (slow) wiki grammar; one with markup is rendered once, at sync."""
    rng = random.Random(7)
    comments = [sandbox_text.comment(rng) for _ in range(300)]
    plain = [c for c in comments if not WIKI_MARKUP.search(c)]
    assert 0 < len(plain) < len(comments)  # the sandbox writes both
    jira_to_html("*warm up*")
    started = time.perf_counter()
    for c in plain:
        jira_to_html(c)
    per_plain = (time.perf_counter() - started) / len(plain)
    assert per_plain < 0.005, f"{per_plain * 1000:.2f} ms a plain comment"


# --- rendered once, after the sync, by the render_comments job ----------------------------------------------------
WIKI = "h3. Seen\nSee [the KB|https://example.com/kb] and {code}oc get pods{code}"


@pytest.fixture
def card_with_comment(upstreams):
    for job in ("cases", "cards"):
        run_job(job=job, trigger="manual")
    card = Card.objects.filter(active=True, removed_at=None).order_by("key").first()
    assert upstreams.post(f"cards/{card.key}/comments", {"body": WIKI}).status_code == 201
    run_job(job="cards", trigger="manual")
    return card


@pytest.mark.django_db
def test_it_renders_synced_jira_comments_after_the_sync_newest_first(
    card_with_comment, client, django_user_model, django_capture_on_commit_callbacks
):
    comment = CardComment.objects.get(card=card_with_comment, body=WIKI)
    assert comment.body_html is None  # the sync stores it; rendering it is not the sync's time to spend
    client.force_login(django_user_model.objects.create_user("member"))
    row = client.get(f"/cases/{card_with_comment.case_id}/row/", HTTP_HX_REQUEST="true").content.decode()
    assert "h3. Seen" in row and "[the KB|" in row and "<h3>Seen" not in row  # meanwhile: plain text, linkified

    with django_capture_on_commit_callbacks(execute=True):  # the pages' cache is bumped after the commit
        run = run_job(job="render_comments", trigger="manual")

    comment.refresh_from_db()
    assert '<a href="https://example.com/kb" rel="noopener noreferrer">the KB</a>' in comment.body_html
    assert "<h3>Seen</h3>" in comment.body_html and "<pre><code>oc get pods" in comment.body_html
    assert run.outcome == "success" and run.updated == run.fetched  # every pending comment, within the budget
    assert not CardComment.objects.filter(body_html__isnull=True).exists()
    assert CardComment.objects.filter(body_html="").exists()  # those without markup: nothing to keep
    row = client.get(f"/cases/{card_with_comment.case_id}/row/", HTTP_HX_REQUEST="true").content.decode()
    assert '<a href="https://example.com/kb" rel="noopener noreferrer">the KB</a>' in row  # the page followed


@pytest.mark.django_db
def test_it_renders_no_longer_than_its_budget_and_goes_on_next_time(card_with_comment, settings):
    settings.COMMENT_RENDER_SECONDS = 0
    stopped = run_job(job="render_comments", trigger="manual")
    assert stopped.updated == 0 and stopped.fetched == CardComment.objects.filter(body_html__isnull=True).count() > 0
    settings.COMMENT_RENDER_SECONDS = 60
    run_job(job="render_comments", trigger="manual")
    assert not CardComment.objects.filter(body_html__isnull=True).exists()
