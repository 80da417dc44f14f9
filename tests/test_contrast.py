"""WCAG AA for the badges (4.5:1 for their 12 px text), in the light and the dark palette, and a name
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


LIGHT = CSS.split("@media (prefers-color-scheme: dark)", 1)[0]
DARK = CSS.split("@media (prefers-color-scheme: dark)", 1)[1].split("}\n}", 1)[0]
PALETTES = {"light": LIGHT, "dark": DARK}


def token(name: str, palette: str = "light") -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", PALETTES[palette]).group(1)


@pytest.mark.parametrize("palette", ["light", "dark"])
@pytest.mark.parametrize("severity", ["urgent", "high", "normal", "low"])
def test_it_draws_severity_badges_at_aa_contrast(severity, palette):
    # .sev1 … .sev4: 12 px text in --badge-fg on the severity's colour.
    badge_fg, colour = token("badge-fg", palette), token(severity, palette)
    assert contrast(badge_fg, colour) >= 4.5, (severity, palette, colour)


@pytest.mark.parametrize("palette", ["light", "dark"])
@pytest.mark.parametrize(
    ("rule", "text", "background"),
    [
        (".marker.prio", "fg", "warn-bg"),
        (".marker.crit", "urgent", "alert-bg"),
        (".badge.status", "fg", "info-bg"),
        (".chip {", "accent", "info-bg"),
        (".sla-alert", "urgent", "alert-bg"),
    ],
)
def test_it_draws_the_other_badges_at_aa_contrast(rule, text, background, palette):
    assert f"var(--{background})" in CSS.split(rule, 1)[1].split("}", 1)[0], rule  # the rule paints this background
    assert contrast(token(text, palette), token(background, palette)) >= 4.5, (rule, palette)


@pytest.mark.django_db
def test_it_names_the_row_expand_control(client, django_user_model):
    make_case("01000001")
    client.force_login(django_user_model.objects.create_user("member"))
    page = client.get("/cases/").content.decode()
    expand = re.search(r'<a class="expand"[^>]*>', page).group(0)
    assert 'aria-label="Details of case 01000001: bugs, JIRA issues and comments"' in expand
