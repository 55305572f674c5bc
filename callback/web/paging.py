"""Paging of the lists: the page asked for, kept within the pages there are."""

from flask import request


def page_within(total: int, per_page: int) -> tuple[int, int]:
    """Return (page, pages) for a list of `total` rows: `?page=` clamped to 1…pages.

    A page past the last one (an old link, a list that shrank) shows the last page, so the list never says
    "nothing here" while its header counts rows.
    """
    pages = max((total + per_page - 1) // per_page, 1)
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), pages), pages
