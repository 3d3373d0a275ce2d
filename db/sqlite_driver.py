"""SQLAlchemy's aiosqlite driver, with one trip to the driver's thread per statement.

aiosqlite runs every SQLite call on its own thread; each call is a round trip through a queue
and the event loop (about 0.1 ms of CPU). SQLAlchemy's adapter makes three or four of them per
statement: open a cursor, execute, fetch the rows, close the cursor (its code notes this is to
be reworked: sqlalchemy#10415). This adapter does the four steps in one function on aiosqlite's
thread, so every statement is one trip. Nothing else changes: same SQL, same transactions,
same errors (raised from the same sqlite3 calls).

``create_engine`` uses it for ``sqlite+aiosqlite`` URLs (the configuration does not change).
It relies on two things the libraries do not document: aiosqlite's ``Connection._execute``
(run a function on its thread; SQLAlchemy's own adapter uses the same queue) and SQLAlchemy's
adapter classes. ``tests/db/test_sqlite_driver.py`` checks the behaviour the bot relies on,
and the whole suite runs on it.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

NAME = "sqlite+partage_aiosqlite"

#: What one statement returns from the driver's thread.
_Outcome = tuple[Any, list[Any], int | None, int]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On aiosqlite's thread: one statement, from cursor to closed cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _one_trip(self, operation: Any, parameters: Any, many: bool) -> None:
        try:
            connection = self._connection
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(_run, connection._conn, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        self._rows = deque(rows)
        self.lastrowid, self.rowcount = lastrowid, rowcount

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._one_trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._one_trip(operation, seq_of_parameters, many=True)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:  # streamed results keep SQLAlchemy's cursor, which fetches on demand
            return super().cursor(server_side=True)
        return _Cursor(self)


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> Any:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:  # async_fallback: left as is
            return adapted
        return _Connection(self, adapted._connection)


class Dialect(SQLiteDialect_aiosqlite):
    driver = "partage_aiosqlite"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> _DBAPI:
        return _DBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register("sqlite.partage_aiosqlite", __name__, "Dialect")
