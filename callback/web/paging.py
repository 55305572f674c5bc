"""Numbers from addresses: ids in paths and page numbers, bounded so no database ever sees an overflow.

SQLite stores 64-bit integers and PostgreSQL's ids are 32-bit `integer`s: a path such as
`/cases/99999999999999999999` or `?page=99999999999999999999` must be a 404 or a 400, never a driver error.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, abort, request
from sqlalchemy import Select
from werkzeug.routing import IntegerConverter, Map

from callback.extensions import db

# The largest id either database hands out (PostgreSQL `integer`), and the largest page anyone may ask for.
MAX_ID = 2**31 - 1
MAX_PAGE = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a whole number from 0 to MAX_ID; anything larger matches no route (404)."""

    def __init__(
        self, url_map: Map, fixed_digits: int = 0, min: int | None = 0, max: int | None = MAX_ID
    ) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max)


def whole_number(raw: str | None, maximum: int) -> int | None:
    """Return the ASCII whole number `raw` spells if at most `maximum`, else None ("²" and "1e9" too)."""
    text = (raw or "").strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None


def page_arg(name: str = "page") -> int:
    """Read a page's `?page=` as the pages' own links write it: junk means page 1, beyond MAX_PAGE is 400."""
    raw = request.args.get(name, "").strip()
    if raw.isascii() and raw.isdigit() and whole_number(raw, MAX_PAGE) is None:
        abort(400)
    return max(whole_number(raw, MAX_PAGE) or 1, 1)


def init_app(app: Flask) -> None:
    """Bound every `<int:…>` path parameter; call before the blueprints register their routes."""
    app.url_map.converters["int"] = IdConverter


class Sliceable(Protocol):
    """A list already in memory that slices by position (a list, or a DataFrame's `.iloc`)."""

    def __getitem__(self, window: slice, /) -> Any: ...


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, which page it is of how many, the rows in all and the page size."""

    items: Sequence[Any]
    page: int
    pages: int
    total: int
    per_page: int


def paginate(
    query: Select[*tuple[Any, ...]] | Sliceable,
    *,
    total: int,
    per_page: int,
    page: int | None = None,
    rows: Callable[[Any], Iterable[Any]] | None = None,
) -> Page:
    """Return the page of `query` (ordered by the caller) that a list shows; the caller counts `total`.

    Without `page` it is the request's `?page=` (page_arg) clamped to 1…pages: a page past the last one (an
    old link, a list that shrank) shows the last page, so the list never says "nothing here" while its header
    counts rows. An explicit `page` (the API's, already validated) is used as given: a page past the end
    is empty, as the API's contract says. `rows` runs the limited query: `db.session.scalars` unless told
    (`db.session.execute` for tuples, or a function of it when the page is read some other way). A Sliceable
    (a DataFrame's `.iloc`) is sliced by position instead.
    """
    pages = max((total + per_page - 1) // per_page, 1)
    if page is None:
        page = min(page_arg(), pages)
    start = (page - 1) * per_page
    if isinstance(query, Select):
        limited: Any = query.limit(per_page).offset(start)
    else:
        limited = query[start : start + per_page]
    run = db.session.scalars if rows is None else rows
    return Page(items=list(run(limited)), page=page, pages=pages, total=total, per_page=per_page)
