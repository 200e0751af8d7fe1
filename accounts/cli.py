"""Accounts' commands: staff accounts, made here and never by sign-up."""

from __future__ import annotations

from typing import Annotated

import typer

from core.cli import current_settings, database, fail
from core.errors import DomainError

staff_app = typer.Typer(help="Staff accounts (created here, never by sign-up).",
                        no_args_is_help=True)


@staff_app.command("add")
def staff_add(
    identifier: Annotated[str, typer.Argument(help="Phone number or e-mail address")],
    name: Annotated[str, typer.Option(help="Full name")],
    role: Annotated[str, typer.Option(help="officer, leader, planner or administrator")],
    department: Annotated[str | None, typer.Option(help="Department (officers, leaders)")]
    = None,
    ward: Annotated[list[str] | None, typer.Option(help="Ward code served (repeatable)")]
    = None,
) -> None:
    """Create a staff account; prints its temporary password once."""
    from accounts.service import AccountService, GrantSpec
    from core.notify import OutboxNotifier

    settings = current_settings()
    try:
        with database(settings) as engine, engine.begin() as conn:
            service = AccountService(conn, OutboxNotifier(conn), settings.server_key())
            person_id, password = service.create_staff(
                identifier, name, GrantSpec(role, department, tuple(ward or ())))
    except DomainError as exc:
        raise fail(f"not created: {exc.message}") from exc
    typer.echo(f"staff account {person_id} ({role}) created; temporary password: {password}")
