"""Fixtures of the practice tests: a private evidence folder, a 安监处 verifier, a project in each state."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from org.models import Member, Post
from practice import projects as services
from practice.models import VerifyingDepartment
from tests.factories import MeetingFactory, UserFactory, member_with_login
from tests.supervision.conftest import SAMPLES

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHOTO = SAMPLES / "Canon_40D.jpg"
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):
    """Every test writes its evidence under its own temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    return tmp_path / "evidence"


def photo(name="dust.jpg"):
    return SimpleUploadedFile(name, PHOTO.read_bytes(), content_type="image/jpeg")


@pytest.fixture
def safety_dept(db):
    return VerifyingDepartment.objects.get(name="安监处")


@pytest.fixture
def verifier(safety_dept):
    """A user of the 安监处, not on any team."""
    user = UserFactory(username="anjian", first_name="张验收")
    safety_dept.users.add(user)
    return user


@pytest.fixture
def group_leader(branch, group):
    """The 党小组长 of ``group``."""
    return member_with_login(branch=branch, group=group, username="zuzhang", role=Post.Role.GROUP_LEADER, name="孙组长")


def member_of(user) -> Member:
    return Member.objects.get(user=user)


def open_project(*, branch, group, user, leader, now=NOW, **overrides):
    values = {
        "branch": branch,
        "group": group,
        "title": "综采工作面降尘",
        "problem": "综采工作面粉尘浓度超标",
        "source": "safety",
        "leader": leader,
        "started_on": now.date(),
        "metric": "粉尘浓度",
        "unit": "mg/m³",
        "baseline_value": Decimal("10"),
        "target_value": Decimal("6"),
        "user": user,
        "now": now,
    }
    values.update(overrides)
    return services.project_open(**values)


def reported(project, *, user, verifier, department, now=NOW):
    services.project_start(project=project, user=user, now=now)
    return services.project_report(
        project=project,
        measured_value=Decimal("6"),
        money_estimate=Decimal("120000"),
        outcome="粉尘浓度下降 40 %",
        files=[photo()],
        department=department,
        verifier=verifier,
        user=user,
        now=now + dt.timedelta(days=30),
    )


@pytest.fixture
def theme_day(branch, secretary):
    """A 主题党日 of ``branch`` that was held and is being recorded (editable)."""
    return MeetingFactory(branch=branch, types=["theme_day"], topic="安全我先行", status="held")
