"""Index the minutes of records that never went through the checks, so copies of them are found."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from meetings.models import Meeting
from supervision.services.integrity import minutes_index


class Command(BaseCommand):
    help = "为未经检查的已召开会议建立会议记录相似度索引（导入历史记录后运行一次）。可重复运行。"

    def handle(self, *args, **options):
        now = timezone.now()
        pending = (
            Meeting.objects.filter(status__in=Meeting.HELD_STATUSES, integrity_check__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        count = 0
        for pk in pending.iterator(chunk_size=500):
            minutes_index(meeting=Meeting(pk=pk), now=now)
            count += 1
        self.stdout.write(self.style.SUCCESS(f"已为 {count} 次会议的记录建立索引。"))
