"""Re-index every processed meeting image by its views, then run its checks: idempotent, in batches."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from supervision.models import Evidence
from supervision.services.integrity import evidence_reindex


class Command(BaseCommand):
    help = "为已处理的全部会议图片（照片、签到表、扫描件、其他材料）重建复制检查索引并重新检查。可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=200, help="每批处理的图片数")

    def handle(self, *args, **options):
        ids = list(
            Evidence.objects.filter(meeting__isnull=False, kind=Evidence.Kind.IMAGE, status=Evidence.Status.READY)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        total, done, batch = len(ids), 0, max(1, options["batch"])
        for start in range(0, total, batch):
            for pk in ids[start : start + batch]:
                done += evidence_reindex(evidence_id=pk, now=timezone.now())
            self.stdout.write(f"进度：{min(start + batch, total)}/{total}")
        self.stdout.write(self.style.SUCCESS(f"已为 {done} 张图片重建索引。"))
