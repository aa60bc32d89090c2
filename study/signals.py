"""Hooks of study that higher apps (and study's own assignments) listen to.

``learning_completed`` is sent once per record, inside the transaction that completes it
(the conditional update that set ``completed_at`` changed exactly one row), with
``sender=LearningRecord``, ``record`` and ``now``. A receiver's writes commit or roll back
with the completion itself.
"""

from django.dispatch import Signal

learning_completed = Signal()
