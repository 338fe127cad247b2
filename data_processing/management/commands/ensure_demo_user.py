"""Create (once) the demo user of `make run` and print its API token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create the demo user if missing and print its API token."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", required=True, help="Used only when the user is created.")
        parser.add_argument("--token-only", action="store_true", help="Print just the token.")

    def handle(self, *args: Any, username: str, password: str, token_only: bool, **options: Any) -> None:
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        token, _ = Token.objects.get_or_create(user=user)
        if token_only:
            self.stdout.write(token.key)
        else:
            self.stdout.write(
                f"{'Created' if created else 'Found'} user {username!r}; API token: {token.key}"
            )
