"""Many rows in one statement: on PostgreSQL, column arrays unnested into rows.

A form post writes a few dozen rows (its answers, its rollup counts, its
rate-limit events). Through psycopg an executemany runs as a pipeline of one
Bind/Execute message per row, with Python work for each; on PostgreSQL the
rows go instead as one array per column in a single ``INSERT … SELECT … FROM
unnest(…)``, a statement that does not change with the number of rows, so
SQLAlchemy compiles it once. Measured on form posts: about a tenth more
throughput for the rollup's rows, and as much again for the answers and events
(docs/PERFORMANCE.md). SQLite runs in the process, where an executemany is
already cheap, and keeps it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


@functools.cache
def unnested(table: sa.Table, columns: tuple[str, ...]) -> sa.TableValuedAlias:
    """PostgreSQL: ``unnest(<one array per column>)`` as a table named ``given``,
    its columns those of ``table`` and ``position``, each row's place in the arrays;
    bound with :func:`parameters`."""
    arrays = [
        sa.bindparam(f"{name}_array", type_=postgresql.ARRAY(table.c[name].type))
        for name in columns
    ]
    return (
        sa.func.unnest(*arrays)
        .table_valued(*columns, with_ordinality="position")
        .render_derived(name="given")
    )


@functools.cache
def arrays_insert(table: sa.Table, columns: tuple[str, ...]) -> postgresql.Insert:
    """``INSERT INTO table (columns) SELECT … FROM unnest(<one array per column>)``
    for PostgreSQL, the rows inserted in their given order; add ``on_conflict_…``
    as needed, and bind it with :func:`parameters`. Built once per table and columns.
    """
    given = unnested(table, columns)
    # Rows are locked in this order: callers sort them, so that two transactions
    # touching the same rows cannot deadlock.
    rows = sa.select(*(given.c[name] for name in columns)).order_by(given.c.position)
    return postgresql.insert(table).from_select(list(columns), rows)


def parameters(dialect_name: str, rows: Sequence[dict], columns: tuple[str, ...]):
    """``rows`` as the dialect's many-row statement takes them: one list per column
    for an :func:`arrays_insert` on PostgreSQL, the rows themselves (an
    executemany) elsewhere."""
    if dialect_name == "postgresql":
        return {f"{name}_array": [row[name] for row in rows] for name in columns}
    return rows


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) in one statement on PostgreSQL, by
    executemany elsewhere; in the caller's transaction."""
    if not rows:
        return
    dialect, columns = connection.dialect.name, tuple(rows[0])
    statement = arrays_insert(table, columns) if dialect == "postgresql" else _insert(table)
    connection.execute(statement, parameters(dialect, rows, columns))


@functools.cache
def _insert(table: sa.Table) -> sa.Insert:
    # Built once per table: a new Insert is a new object for SQLAlchemy to hash
    # into its compiled cache's key on every form post.
    return table.insert()
