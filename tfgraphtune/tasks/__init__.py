"""Task kinds: one module per kind, each defining a `Task` subclass with a ``name``.

Adding a task kind means adding one module here: `task_names` and `get_task` find every
concrete `Task` subclass in this package's modules.
"""

from __future__ import annotations

import importlib
import pkgutil

from tfgraphtune.tasks.base import FitInputs, Task, TaskData

_REGISTRY: dict[str, type[Task]] = {}


def _discover() -> dict[str, type[Task]]:
    if not _REGISTRY:
        for info in pkgutil.iter_modules(__path__):
            module = importlib.import_module(f"{__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Task)
                    and "name" in vars(value)
                    and not getattr(value, "__abstractmethods__", None)
                ):
                    _REGISTRY[value.name] = value
    return _REGISTRY


def task_names() -> list[str]:
    """The names of every task kind, sorted."""
    return sorted(_discover())


def get_task(name: str) -> Task:
    """A new `Task` of the kind called `name`.

    Raises:
      ValueError: No such task kind; the message lists the known ones.
    """
    tasks = _discover()
    if name not in tasks:
        raise ValueError(f"unknown task {name!r}; expected one of {sorted(tasks)}.")
    return tasks[name]()


__all__ = ["FitInputs", "Task", "TaskData", "get_task", "task_names"]
