"""The favicon is the app's own: linked from every page and at /favicon.ico, where browsers look."""

import pytest
from django.test import Client


def test_favicon_ico_leads_to_the_apps_icon_file(settings):
    # The test client serves static files only with WhiteNoise's finders on (tests/conftest.py
    # turns them on for the live server alone); this test fetches the icon file itself.
    settings.WHITENOISE_USE_FINDERS = True
    response = Client().get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0].startswith("/static/img/favicon")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


@pytest.mark.django_db
def test_every_page_links_the_icon():
    response = Client().get("/accounts/login/")
    assert 'rel="icon" href="/static/img/favicon.ico"' in response.content.decode()
