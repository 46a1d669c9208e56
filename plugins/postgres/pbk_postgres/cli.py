"""``pbk db copy SOURCE DEST``: move a data set between SQLite and PostgreSQL (see ``move``)."""

from __future__ import annotations

import click

from .move import CopyError, copy


@click.group("db")
def db_command() -> None:
    """Move a data set between a SQLite pb_data and PostgreSQL."""


@db_command.command("copy")
@click.argument("source")
@click.argument("dest")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1),
              help="Rows per transaction (the progress saved for a resume).")
@click.option("--no-logs", is_flag=True, help="Leave the request logs (_logs) behind.")
@click.option("--overwrite", is_flag=True, help="Replace the data set DEST already holds.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (none either when stderr is no terminal).")
def copy_command(source: str, dest: str, batch_size: int, no_logs: bool, overwrite: bool, quiet: bool) -> None:
    """Copy every collection, record, setting and migration of SOURCE into DEST.

    SOURCE and DEST are each a data dir (SQLite) or a postgresql:// URL. Stop the servers of
    both first. Stopped midway, the same command continues where it stopped. Uploaded files
    are not copied: they stay in their storage.
    """
    try:
        copy(source, dest, batch=batch_size, logs=not no_logs, overwrite=overwrite, quiet=quiet,
             say=click.echo)
    except CopyError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        raise click.ClickException("interrupted: run the same command again to continue") from None
