"""``/api/logs``: list, view, hourly stats and delete-all, for superusers only.

Filter and sort go through the records plugin's ``table_filter`` service (PocketBase's filter
language over ``_logs``' columns, ``data`` also by path), as PocketBase's logs API does.
"""

from __future__ import annotations

from typing import Any

from pbk_sdk.auth import require_superuser
from pbk_sdk.errors import ApiError
from pbk_sdk.interfaces import TABLE_FILTER, App, TableQuery

from .retention import reclaim_space
from .schema import COLUMNS, LOGS, LOGS_TABLE, item

LOG_ROUTES = ("/api/logs", "/api/logs/stats", "/api/logs/{log_id}")
BAD_STATS_FILTER = "Invalid filter format."
#: The hour of ``created`` the stats group by (each engine's expression its hourly index holds;
#: SQLite's grouping also sorts, PostgreSQL is asked to).
HOUR = "strftime('%Y-%m-%d %H:00:00', created)"
HOUR_POSTGRES = "substr(created, 1, 13) || ':00:00'"


def _where(query: TableQuery) -> str:
    return f" WHERE {query.where}" if query.where else ""


class LogsResource:
    """``GET`` and ``DELETE /api/logs``, ``GET /api/logs/stats`` (suffix ``stats``) and
    ``GET /api/logs/{log_id}`` (suffix ``item``)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _compile(self, req: Any, *, sort: bool = True) -> TableQuery:
        table_filter = self.app.services.get(TABLE_FILTER, "records")
        return table_filter.compile(
            LOGS_TABLE,
            filter=req.get_param("filter") or "",
            sort=(req.get_param("sort") or "") if sort else "",
        )

    async def on_get(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        page = self.app.services.get(TABLE_FILTER, "records").page(
            {key: req.get_param(key) or "" for key in ("page", "perPage", "skipTotal")}
        )
        query = self._compile(req)
        source = f'FROM "{LOGS}" AS main{_where(query)}'
        order = f" ORDER BY {query.order_by}" if query.order_by else ""
        select = f"SELECT {COLUMNS} {source}{order} LIMIT ? OFFSET ?"
        select_params = (*query.params, *query.order_params, page.size, page.offset)

        def run(conn: Any) -> tuple[int, list[tuple[Any, ...]]]:
            total = -1 if page.skip_total else conn.execute(f"SELECT COUNT(*) {source}", query.params).get
            return total, conn.execute(select, select_params).fetchall()

        total, rows = await self.app.aux_db.read(run)
        resp.media = page.envelope([item(row) for row in rows], total)

    async def on_delete(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        await self.app.aux_db.write(lambda conn: conn.execute(f'DELETE FROM "{LOGS}"'))
        await reclaim_space(self.app.aux_db)
        resp.status = 204

    async def on_get_stats(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        try:
            query = self._compile(req, sort=False)
        except ApiError as exc:
            raise ApiError(400, BAD_STATS_FILTER) from exc
        postgres = self.app.aux_db.engine == "postgresql"
        sql = (f'SELECT {HOUR_POSTGRES if postgres else HOUR} AS date, count(id) AS total '
               f'FROM "{LOGS}" AS main{_where(query)} GROUP BY date{" ORDER BY date" if postgres else ""}')
        rows = await self.app.aux_db.read(lambda conn: conn.execute(sql, query.params).fetchall())
        resp.media = [{"date": f"{date}.000Z", "total": total} for date, total in rows if date]

    async def on_get_item(self, req: Any, resp: Any, log_id: str) -> None:
        require_superuser(req)
        sql = f'SELECT {COLUMNS} FROM "{LOGS}" WHERE id = ? LIMIT 1'
        rows = await self.app.aux_db.read_inline(lambda conn: conn.execute(sql, (log_id,)).fetchall())
        if not rows:
            raise ApiError(404)
        resp.media = item(rows[0])
