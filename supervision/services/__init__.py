"""Every write of the supervision app, one module per area.

- ``evidence``: upload (validated, streamed, stored under server names), processing by the worker, deletion.
- ``integrity``: the checks that raise flags (capture time, GPS, duplicate photos, similar minutes, late entry,
  missing photo), and a supervisor's decision on a flag.
- ``review``: approve, return with comments, reopen for a spot check.
- ``findings``: findings, rectifications, the overdue sweep. Other apps (assessment) open rectifications here.
"""
