"""A changelist paginator whose count stops at a cap, so a page of a million-row table costs what it does at 1,000."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Count at most ``cap`` + 1 rows (COUNT over a LIMITed subquery); pages beyond the cap are not offered.

    An exact COUNT(*) reads every matching row (or index entry), which grows with the table; operators narrow
    a long list with filters and search instead of paging past 10,000 rows.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "query"):
            return object_list[: self.cap + 1].count()
        return min(len(object_list), self.cap + 1)

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap
