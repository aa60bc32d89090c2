"""The ledger and a finding's page make a fixed number of queries, however many rows, events or files they show."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from supervision.models import Evidence
from supervision.services import findings as services
from tests.conftest import client_for
from tests.factories import BranchFactory

from .conftest import local

NOW = local(2026, 5, 10, 9, 30)

# Every page: session read and save (3 with its savepoint), user, scope (4 with a member behind
# the login, 2 without), the inbox badge, the navbar's permission checks (2; none when the rules
# grant them, as for a supervisor) and its user name. The ledger adds the page's count, the rows
# (owner and rejection label joined in), the summary counts (a supervisor's branch is a search box: no choices);
# when some rows have no owner (the 书记 has no login), the committees those go to (one query).
SECRETARY_LIST_QUERIES = 12
SUPERVISOR_LIST_QUERIES = 9
# The detail adds the finding with its joins, its evidence, the events and the rectification's evidence.
DETAIL_QUERIES = 14


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def raise_many(branch, supervisor, count):
    findings = []
    for i in range(count):
        findings.append(
            services.finding_raise(
                branch=branch,
                category="records",
                severity="minor",
                description=f"问题{i}",
                user=supervisor,
                now=NOW - dt.timedelta(days=i),
                due_at=NOW + dt.timedelta(days=10 - i),
            )
        )
    return findings


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_the_ledger_of_a_secretary_makes_the_same_queries_for_1_or_50_findings(
    client, branch, secretary, supervisor, count, django_assert_num_queries
):
    findings = raise_many(branch, supervisor, count)
    # Some rejected, so the 被驳回 label is read for the rows too.
    services.rectification_submit(rectification=findings[0].rectification, measures="改了。", user=secretary, now=NOW)
    services.rectification_reject(rectification=findings[0].rectification, reason="没改好。", user=supervisor, now=NOW)
    c = client_for(client, secretary)

    with django_assert_num_queries(SECRETARY_LIST_QUERIES):
        response = c.get(reverse("supervision:finding_list"))

    assert response.content.decode().count('class="finding-row"') == min(count, 25)
    assert "整改中（被驳回）" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_the_ledger_of_a_supervisor_makes_the_same_queries_for_1_or_50_findings_of_many_branches(
    client, supervisor, count, django_assert_num_queries
):
    for _ in range(count):
        raise_many(BranchFactory(), supervisor, 1)
    c = client_for(client, supervisor)

    with django_assert_num_queries(SUPERVISOR_LIST_QUERIES):
        response = c.get(reverse("supervision:finding_list"), {"severity": "minor"})

    assert response.content.decode().count('class="finding-row"') == min(count, 25)


def _evidence(count, **owner):
    for i in range(count):
        Evidence.objects.create(
            category=Evidence.Category.PHOTO,
            kind=Evidence.Kind.IMAGE,
            content_type="image/jpeg",
            original_name=f"整改照片{i}.jpg",
            size=1000,
            sha256=f"{i:064d}",
            original=f"originals/{i}.jpg",
            file=f"files/{i}.jpg",
            thumbnail=f"thumbs/{i}.jpg",
            status=Evidence.Status.READY,
            uploaded_at=NOW,
            **owner,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("rounds", [1, 6])
def test_a_finding_page_makes_the_same_queries_for_a_short_or_long_history(
    client, branch, secretary, supervisor, rounds, django_assert_num_queries
):
    finding = raise_many(branch, supervisor, 1)[0]
    rect = finding.rectification
    for i in range(rounds):
        services.rectification_submit(rectification=rect, measures=f"第{i + 1}次。", user=secretary, now=NOW)
        services.rectification_reject(rectification=rect, reason=f"理由{i + 1}。", user=supervisor, now=NOW)
    _evidence(rounds, finding=finding)
    _evidence(rounds * 2, rectification=rect)
    c = client_for(client, secretary)

    with django_assert_num_queries(DETAIL_QUERIES):
        response = c.get(reverse("supervision:finding_detail", args=[finding.pk]))

    body = response.content.decode()
    assert body.count('class="list-group-item small rect-event"') == 1 + 2 * rounds
    assert body.count("evidence-item") == 3 * rounds
    assert body.count(reverse("supervision:evidence_thumbnail", args=[Evidence.objects.last().pk])) == 1
