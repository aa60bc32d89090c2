"""The tasks app's tables: ``core`` (tasks and dispatches), ``reports`` (timeline, reports, policy)."""

from .core import Dispatch, Task
from .reports import TaskEvent, TaskPolicy, TaskReport, TaskReportFile

__all__ = ["Dispatch", "Task", "TaskEvent", "TaskPolicy", "TaskReport", "TaskReportFile"]
