import pytest

from tests.factories import MeetingFactory


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):
    """Report photos go under each test's own temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    return tmp_path / "evidence"


@pytest.fixture
def theme_day(branch, secretary):
    """A 主题党日 of ``branch`` that was held and is being recorded (editable)."""
    return MeetingFactory(branch=branch, types=["theme_day"], topic="安全我先行", status="held")
