"""The tasks app's tables: ``core`` (tasks and dispatches), ``reports`` (timeline, reports, policy), ``makeup`` (补学)."""

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
