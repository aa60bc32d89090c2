"""Index the minutes of records that never went through the checks, so copies of them are found."""

from django.core.management.base import BaseCommand
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from meetings.models import Meeting
from supervision.models import MinutesPassage
from supervision.services.integrity import MIN_SHINGLES, minutes_index


class Command(BaseCommand):
    help = (
        "为未经检查的已召开会议建立会议记录相似度索引（导入历史记录后运行一次），"
        "并为升级前已检查、尚无片段索引的记录补建片段索引。可重复运行。"
    )

    def handle(self, *args, **options):
        now = timezone.now()
        # Checked before the passage index existed: long enough minutes, no passages yet, and
        # not waiting for a check (indexing notes a check time, which would skip the due check).
        unindexed = (
            Q(integrity_check__shingle_count__gte=MIN_SHINGLES)
            & ~Exists(MinutesPassage.objects.filter(meeting_id=OuterRef("pk")))
            & ~Q(status=Meeting.Status.SUBMITTED, integrity_check__checked_at__lt=F("submitted_at"))
        )
        pending = (
            Meeting.objects.filter(status__in=Meeting.HELD_STATUSES)
            .filter(Q(integrity_check__isnull=True) | unindexed)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        count = 0
        for pk in pending.iterator(chunk_size=500):
            minutes_index(meeting=Meeting(pk=pk), now=now)
            count += 1
        self.stdout.write(self.style.SUCCESS(f"已为 {count} 次会议的记录建立索引。"))
