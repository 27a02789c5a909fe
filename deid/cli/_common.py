"""Options and error handling shared by the commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from deid.errors import DeidError

F = TypeVar("F", bound=Callable[..., Any])


def domain_errors(func: F) -> F:
    """Turn :class:`DeidError` into a one-line ``click.ClickException`` (exit code 1)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DeidError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]
