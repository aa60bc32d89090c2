"""The demo library's videos: made by ffmpeg at seed time, processed, published; skipped without ffmpeg."""

import pytest
from django.utils import timezone

from org.models import Post
from study import demo_media, media
from study.models import StudyItem, StudyMedia
from tests.factories import member_with_login
from tests.study.videos import needs_ffmpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people(branch, supervisor):
    member_with_login(branch=branch, username="shuji", role=Post.Role.SECRETARY)
    member_with_login(branch=branch, username="xianjin", name="张先进")


@pytest.fixture(autouse=True)
def _study_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }


@needs_ffmpeg
def test_the_demo_gets_short_real_videos_processed_and_published_once(demo_people):
    made, skipped = demo_media.seed_videos(now=timezone.now())

    assert (made, skipped) == (3, "")
    items = StudyItem.objects.filter(title__in=[t for t, *_ in demo_media.LESSONS]).select_related("media", "column")
    assert {i.column.name for i in items} == {"微党课", "警示教育"}
    for item in items:
        assert item.state == StudyItem.State.PUBLISHED
        assert item.media.status == StudyMedia.Status.READY, item.media.error
        assert item.media.duration_seconds == pytest.approx(6, abs=0.2)
        assert item.media.playable
    webm = next(i for i in items if i.media.content_type == "video/webm")
    assert webm.media.playable.name.endswith(".mp4") and webm.media.poster
    assert demo_media.seed_videos(now=timezone.now()) == (0, "")  # again: nothing new


def test_without_ffmpeg_the_demo_videos_are_skipped_with_a_message(demo_people, monkeypatch):
    monkeypatch.setattr(media, "ffmpeg_available", lambda: False)

    assert demo_media.seed_videos(now=timezone.now()) == (0, demo_media.SKIPPED_MESSAGE)
    assert not StudyItem.objects.filter(title=demo_media.MARKER).exists()
