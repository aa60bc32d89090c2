"""A pager without a total, for lists that grow with the group (190,000 meetings at 1,000 branches).

``Paginator`` counts every matching row to print "共 N 条" and the last page number: on an
indexed ordering that COUNT is the most expensive query of the page. ``page_without_total``
fetches one row more than a page instead, to know whether a next page exists ("下一页"),
and prints "第 N 页" without a total. It has the attributes ``templates/_pagination.html``
reads; a page number that is not a number is page 1, a page past the end is empty (the
template says so and links back to page 1), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _NoTotal:
    per_page: int
    count = None  # the template prints no total
    num_pages = None


@dataclass
class PageWithoutTotal:
    object_list: list
    number: int
    has_next: bool
    paginator: _NoTotal
    without_total: bool = True
    # A total known without counting on this request (an aggregate the page makes anyway, or
    # ``cached_count``): printed as "共 N 条", never used to compute the page.
    total: int | None = None

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def past_the_end(self) -> bool:
        return not self.object_list and self.number > 1


MAX_PAGE = 10_000


def cached_count(qs) -> int:
    """``qs.count()``, kept LIST_COUNT_CACHE_SECONDS per distinct SQL (the filters are in the key,
    so a filtered list never shows another filter's total); 0 counts every time."""
    import hashlib

    from django.conf import settings
    from django.core.cache import cache

    ttl = settings.LIST_COUNT_CACHE_SECONDS
    if ttl <= 0:
        return qs.count()
    sql, params = qs.order_by().query.sql_with_params()
    key = "list-count:" + hashlib.sha256(repr((qs.db, sql, params)).encode()).hexdigest()
    return cache.get_or_set(key, qs.count, ttl)


def page_without_total(qs, raw_number, per_page: int, *, total: int | None = None) -> PageWithoutTotal:
    """Page ``raw_number`` (a string from the query string, or None) of ``qs``, with one query."""
    try:
        number = int(str(raw_number or "1").strip())
    except ValueError:
        number = 1
    number = min(max(number, 1), MAX_PAGE)
    start = (number - 1) * per_page
    rows = list(qs[start : start + per_page + 1])
    return PageWithoutTotal(
        object_list=rows[:per_page],
        number=number,
        has_next=len(rows) > per_page,
        paginator=_NoTotal(per_page=per_page),
        total=total,
    )
