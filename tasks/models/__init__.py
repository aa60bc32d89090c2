"""The tasks app's tables: ``core`` (tasks and dispatches) and the modules of each task source."""

from .core import Dispatch, Task
from .makeup import MakeupRule, MakeupSkip, MakeupStudy

__all__ = ["Dispatch", "MakeupRule", "MakeupSkip", "MakeupStudy", "Task"]
