from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = "督办任务"

    def ready(self):
        from django.db.models.signals import post_save

        # meetings sits below tasks: it calls these through its hook registry, never imports us.
        from meetings import hooks, panels

        from . import admin_makeup, follow, sources, todo  # noqa: F401  (admin_makeup registers its admin screens)
        from . import panels as tasks_panels
        from .models import Task

        panels.register(tasks_panels.meeting_page)

        hooks.register_decision_check(follow.decision_owner_problem)
        hooks.register_on_submitted(follow.create_decision_tasks)
        hooks.register_on_decisions_withdrawn(follow.cancel_withdrawn_decisions)
        hooks.register_on_submitted(follow.create_makeup_tasks)
        hooks.register_agenda_prefill(follow.decisions_agenda_prefill)
        hooks.register_on_minutes_opened(follow.record_minutes_opened)
        sources.register_report_rule(Task.Source.MAKEUP, follow.makeup_report_problems)

        # 我的待办's navbar count is cached 60 s; a saved task drops its people's counts (no query).
        post_save.connect(todo.forget_task_people, sender=Task, dispatch_uid="todo-forget-task-people")
