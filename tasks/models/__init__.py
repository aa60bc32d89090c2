"""The tasks app's tables: ``core`` (tasks and dispatches) and the modules of each task source."""

from .core import Dispatch, Task

__all__ = ["Dispatch", "Task"]
