"""Dates are typed as the app shows them, YYYY-MM-DD: text inputs with that pattern (Chromium's native date
inputs show mm/dd/yyyy in en-US), and a date in another shape gets an error saying which shape to use."""

import re
from html import unescape

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("member"))
    return client


ISO_INPUT = re.compile(
    r'<input type="text" inputmode="numeric" pattern="[^"]+" placeholder="YYYY-MM-DD"[^>]* name="(\w+)"'
)


@pytest.mark.parametrize(
    ("url", "names"),
    [("/cases/", {"opened_after", "opened_before"}), ("/stats/", {"start", "end"})],
)
def test_it_asks_for_iso_dates_in_text_inputs(user_client, url, names):
    page = user_client.get(url).content.decode()
    assert set(ISO_INPUT.findall(page)) == names
    assert 'type="date"' not in page


def test_it_explains_a_date_typed_as_mm_dd_yyyy(user_client):
    cases = unescape(user_client.get("/cases/", {"opened_after": "01/31/2025"}).content.decode())
    assert "enter the date as YYYY-MM-DD, e.g. 2025-01-31." in cases
    stats = user_client.get("/stats/", {"start": "01/31/2025"})
    assert stats.status_code == 400 and "Enter the date as YYYY-MM-DD" in stats.content.decode()
