"""Loading our .sql files and binding their %(name)s parameters for asyncpg."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAMED = re.compile(r"%\((\w+)\)s")


@cache
def sql_file(package: str, name: str) -> str:
    """The text of an .sql file shipped inside a package."""
    return resources.files(package).joinpath(name).read_text()


@cache
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """A %(name)s query (psycopg style, as our .sql files are written) in asyncpg's $n style."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _NAMED.sub(number, sql).replace("%%", "%"), tuple(names)
