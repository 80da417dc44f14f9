"""Comments as their authors meant them: JIRA wiki markup and plain portal text as safe HTML (t5g/markup.py)."""

import random
import time

import pytest

from sandbox import text as sandbox_text
from t5g.markup import WIKI_MARKUP, jira_to_html, plain_to_html

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
