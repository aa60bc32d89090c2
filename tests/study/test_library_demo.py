"""The demo library: documents and articles in every column and every state."""

import pytest
from django.utils import timezone

from bulletin.management.commands.seed_demo import seed_demo
from study.demo import seed_library
from study.models import Column, StudyItem, StudyMedia

from .library_helpers import evidence_dir  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_demo_library_has_every_column_and_state_and_seeds_once(evidence_dir):  # noqa: F811
    now = timezone.now()
    seed_demo(now=now)
    made = seed_library(now=now)
    items = StudyItem.objects.all()
    assert made == items.count() >= 10
    assert set(items.values_list("state", flat=True)) == set(StudyItem.State.values)
    assert set(items.values_list("column__name", flat=True)) == set(Column.objects.values_list("name", flat=True))
    assert set(items.values_list("audience", flat=True)) == set(StudyItem.Audience.values)
    assert StudyMedia.objects.filter(item__kind="document", status=StudyMedia.Status.READY).count() == 2
    returned = items.get(title="违章作业警示录")
    assert returned.state == "draft" and returned.review_note
    assert seed_library(now=now) == 0
