"""`python -m server create-admin` (the command is wired in server.__main__)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from sqlalchemy import select

from server.accounts.models import User
from server.accounts.passwords import check_new_password
from server.accounts.security import hash_password
from server.accounts.service import OWN_ACCOUNT, normalize_email, register
from server.core.config import Settings
from server.core.db import make_database
from server.core.errors import AppError


async def create_admin(settings: Settings, *, email: str, name: str, password: str) -> str:
    """Create the admin account, or make an existing account an admin with this password."""
    database = make_database(settings)
    try:
        async with database.writer() as session:
            user = await session.scalar(
                select(User).where(User.email == normalize_email(email), OWN_ACCOUNT)
            )
            if user is None:
                user = await register(
                    session, email=email, password=password, name=name, role="admin"
                )
                verb = "created"
            else:
                check_new_password(password, email=user.email, name=user.name)
                user.role = "admin"
                user.password_hash = await hash_password(password)
                verb = "promoted"
            await session.commit()
            return f"{verb} admin {user.email} (id {user.id})"
    finally:
        await database.dispose()


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("The passwords differ.")
    return first


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> None:
    password = _read_password(args)
    if len(password) < 8:
        raise SystemExit("The password needs at least 8 characters.")
    try:
        print(
            asyncio.run(create_admin(settings, email=args.email, name=args.name, password=password))
        )
    except AppError as exc:  # the same password rules as signing up (server.accounts)
        raise SystemExit(exc.detail) from exc
