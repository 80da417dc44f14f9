"""WCAG AA for the badges (4.5:1 for their 12 px text, light palette: t5g.css has no dark one) and a name
for every control of the cases table that shows only a symbol."""

import re

import pytest

from tests.factories import make_case
from tests.processes import BASE_DIR

CSS = (BASE_DIR / "static" / "t5g" / "t5g.css").read_text()


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def token(name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS).group(1)


@pytest.mark.parametrize("severity", ["urgent", "high", "normal", "low"])
def test_it_draws_severity_badges_at_aa_contrast(severity):
    # .sev1 … .sev4: white 12 px text on the severity's colour.
    assert contrast("#ffffff", token(severity)) >= 4.5, (severity, token(severity))


@pytest.mark.parametrize(
    ("rule", "text", "background"),
    [
        (".marker.prio", token("fg"), "#fff4cc"),
        (".marker.crit", token("urgent"), "#fde8e8"),
        (".badge.status", token("fg"), "#eef5ff"),
        (".chip {", token("accent"), "#eef5ff"),
        (".sla-alert", token("urgent"), "#fde8e8"),
    ],
)
def test_it_draws_the_other_badges_at_aa_contrast(rule, text, background):
    assert background in CSS.split(rule, 1)[1].split("}", 1)[0], rule  # the rule still paints this background
    assert contrast(text, background) >= 4.5, rule


@pytest.mark.django_db
def test_it_names_the_row_expand_control(client, django_user_model):
    make_case("01000001")
    client.force_login(django_user_model.objects.create_user("member"))
    page = client.get("/cases/").content.decode()
    expand = re.search(r'<a class="expand"[^>]*>', page).group(0)
    assert 'aria-label="Details of case 01000001: bugs, JIRA issues and comments"' in expand
