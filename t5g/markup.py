"""Comments as their authors meant them: JIRA wiki markup and plain portal text, as safe HTML.

JIRA comments: wiki markup (`[text|url]`, `*bold*`, `{code}`, `{noformat}`, lists, `h3.`) → Markdown
(jira2markdown) → HTML (markdown-it-py, raw HTML off, so any HTML an author typed stays text). Portal
comments are plain text: escaped, links found (linkify-it) and made clickable, line breaks kept. Both
then pass the same nh3 allow-list as every other upstream HTML, with each link through `safe_url`.

jira2markdown is a pyparsing grammar and slow: 80-230 ms for a 150-character comment on this machine
(measured; building the grammar once per process instead of once per call halves it). So:
- the grammar is built once (`_grammar`);
- a comment with nothing that looks like wiki markup (most of them) skips it and is rendered as plain
  text, ~0.1 ms;
- JIRA comments are rendered once, when the card sync stores them (CardComment.body_html), never while
  a page is drawn.
"""

from __future__ import annotations

import re
from functools import cache

import nh3
from markdown_it import MarkdownIt

from t5g.templatetags.t5g import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES, safe_url

# The shared allow-list, plus what wiki markup makes: headings, struck text, rules.
TAGS = ALLOWED_TAGS | {"h1", "h2", "h3", "h4", "h5", "h6", "del", "s", "hr"}
REL = "noopener noreferrer"

# Anything jira2markdown would change: blocks ({code}, {noformat}, {quote}, {panel}, {color}), links and
# mentions ([...]), list items and headings at a line start, bold, emphasis, monospace ({{...}}), images
# (!x!), tables (|), dashes and rules, citations (??), +underline+, ^super^, ~sub~, -strike-, \\ breaks.
# A comment matching none of these reads the same as plain text.
WIKI_MARKUP = re.compile(
    r"\{[a-z]+(?::[^}]*)?\}|\{\{|\[[^\]\n]*\]|^\s*(?:[*#-]+\s|h[1-6]\.|bq\.)|\*\S|(?:^|\W)_\S|![^!\s]"
    r"|\||--|\?\?|[+^~]\S|(?:^|\s)-\S|\\\\",
    re.MULTILINE,
)


# A {code} or {noformat} tag gets lines of its own: JIRA draws a block even when it is written inside a line
# ("Logs show {code}PLEG is not healthy{code} every…"), which jira2markdown would leave as stray ``` in the text.
BLOCK_TAG = re.compile(r"[ \t]*(\{(?:code|noformat)(?::[^}\n]*)?\})[ \t]*")


@cache
def _grammar():
    """jira2markdown.convert() builds this on every call: built once here (its module sets pyparsing's whitespace)."""
    from jira2markdown.elements import MarkupElements
    from pyparsing import Forward

    elements = MarkupElements()
    inline, markup = Forward(), Forward()
    inline <<= elements.expr(inline, markup, {}, [e for e in elements if e.is_inline_element])
    markup <<= elements.expr(inline, markup, {}, elements)
    return markup


# CommonMark with bare links found, raw HTML off (an author's <script> is text).
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable(["linkify", "strikethrough"])
# Plain text: only paragraphs, line breaks and bare links; no Markdown syntax is interpreted.
_plain = MarkdownIt("zero", {"linkify": True, "breaks": True}).enable(["linkify", "newline"])


def _href(tag: str, attr: str, value: str) -> str | None:
    if tag == "a" and attr == "href":
        return value if value.lower().startswith("mailto:") or safe_url(value) else None
    return value


def clean(html: str) -> str:
    """HTML made safe: the allow-list, links to http(s) or mailto only, each with rel="noopener noreferrer"."""
    # A quote in text becomes &#x27; as Django's escape makes it: nh3 writes attributes in double quotes, so this
    # changes no markup, and an author's text never reads like an attribute (href='javascript:…) even to a scanner.
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_href,
        url_schemes=URL_SCHEMES,
        url_relative="deny",
        link_rel=REL,
    ).replace("'", "&#x27;")


def plain_to_html(text: str) -> str:
    """Plain text (a portal comment): escaped, links clickable, line breaks kept."""
    return clean(_plain.render(text or ""))


def jira_to_html(text: str) -> str:
    """A JIRA comment's wiki markup as safe HTML."""
    if not text:
        return ""
    if not WIKI_MARKUP.search(text):
        return plain_to_html(text)
    return clean(_markdown.render(_grammar().transform_string(BLOCK_TAG.sub(r"\n\1\n", text))))
