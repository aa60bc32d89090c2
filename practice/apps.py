from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "实践活动"

    def ready(self):
        # meetings and tasks sit below practice: they call these through their registries.
        from meetings import panels
        from tasks import sources
        from tasks.models import Task

        from . import panels as practice_panels
        from . import services

        panels.register(practice_panels.meeting_page)
        panels.register_review(practice_panels.review_page)
        sources.register_report_rule(Task.Source.HAZARD, services.hazard_report_problems)
