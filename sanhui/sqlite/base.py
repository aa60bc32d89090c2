"""Django's SQLite backend, told how many query parameters this SQLite really accepts.

Django 5.2 assumes SQLite's historical limit of 999 bound parameters, so ``bulk_create``
of 1,000 tasks (about 30 columns each) becomes some 30 INSERTs and a dispatch's query count
grows with the number of branches. SQLite has allowed 32,766 since 3.32, and Debian's build
250,000; the connection reports its own limit (``getlimit``, Python 3.11), which is what
Django 6.0 reads too. Everything else is Django's backend unchanged.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int:
        self.connection.ensure_connection()
        return self.connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
