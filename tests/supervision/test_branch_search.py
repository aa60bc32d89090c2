"""The branch search box of the review queue and the findings ledger (replaces the 1,007-option <select>)."""

import pytest
from django.urls import reverse

from supervision.models import Finding
from tests.conftest import client_for
from tests.supervision.test_findings_services import raise_finding
from tests.supervision.test_review_pages import add_evidence, local, meeting_held

SEARCHES = [("综采一队党支部", {"综采"}), ("一队", {"综采"}), ("党支部", {"综采", "掘进"}), ("露天矿", set())]


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), SEARCHES)
def test_the_review_queue_searches_branches_by_name(client, supervisor, branch, other_branch, query, expected):
    for b, topic in ((branch, "综采记录"), (other_branch, "掘进记录")):
        m = meeting_held(b, start=local(2026, 5, 3, 9), types=("general_meeting",))
        m.topic = topic
        m.save(update_fields=["topic"])
        add_evidence(m, 1)
    response = client_for(client, supervisor).get(reverse("supervision:review_queue"), {"branch_name": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert {t for t in ("综采", "掘进") if f"{t}记录" in body} == expected
    assert '<select name="branch"' not in body and 'name="branch_name"' in body


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["abc", "-1", "999"])
def test_the_review_queue_with_a_garbage_page_is_a_page(client, supervisor, raw):
    assert client_for(client, supervisor).get(reverse("supervision:review_queue"), {"page": raw}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), SEARCHES)
def test_the_findings_ledger_searches_branches_by_name(client, supervisor, branch, other_branch, query, expected):
    for b, text in ((branch, "综采问题"), (other_branch, "掘进问题")):
        raise_finding(b, supervisor, description=text)
    assert Finding.objects.count() == 2
    response = client_for(client, supervisor).get(reverse("supervision:finding_list"), {"branch_name": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert {t for t in ("综采", "掘进") if f"{t}问题" in body} == expected
