"""Thin Celery tasks of the bulletin. PLACEHOLDER: delivery is being written in this session."""

from celery import shared_task


@shared_task
def deliver_notifications(ids):
    raise NotImplementedError


@shared_task
def sweep_outbox():
    raise NotImplementedError
