"""Rebuild the compliance rollup of every branch (or some) from the meetings: idempotent."""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from meetings.rollups import refresh_rollups


class Command(BaseCommand):
    help = "重建达标汇总（全部支部或指定支部、年份）"

    def add_arguments(self, parser):
        parser.add_argument("--branch", type=int, action="append", dest="branches", help="支部 id，可重复")
        parser.add_argument("--year", type=int, action="append", dest="years", help="年份，可重复")

    def handle(self, *args, branches=None, years=None, **options):
        began = time.monotonic()
        written = refresh_rollups(branch_ids=branches, years=years, now=timezone.now())
        self.stdout.write(f"rollup: {written} cells in {time.monotonic() - began:.1f} s")
