"""The tasks app's tables: ``core`` (tasks, dispatches), ``reports`` (timeline, reports, policy), ``makeup``."""

from .core import Dispatch, Task
from .makeup import MakeupRule, MakeupSkip, MakeupStudy
from .reports import TaskEvent, TaskPolicy, TaskReport, TaskReportFile

__all__ = [
    "Dispatch",
    "MakeupRule",
    "MakeupSkip",
    "MakeupStudy",
    "Task",
    "TaskEvent",
    "TaskPolicy",
    "TaskReport",
    "TaskReportFile",
]
