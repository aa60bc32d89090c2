from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = "督办任务"

    def ready(self):
        from django.db.models.signals import post_save

        from . import todo
        from .models import Task

        # 我的待办's navbar count is cached 60 s; a saved task drops its people's counts (no query).
        post_save.connect(todo.forget_task_people, sender=Task, dispatch_uid="todo-forget-task-people")
