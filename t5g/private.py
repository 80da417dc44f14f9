"""Files only T5G's own user may read: var/ (the SQLite database with every session, the SAML key, Flower's and
Redis's passwords) is 0700, and the SQLite database 0600 wherever DATABASE_URL puts it, whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from django.conf import settings
from django.db.backends.signals import connection_created

log = logging.getLogger(__name__)

_done: set[str] = set()


def make_private(path: Path, mode: int) -> None:
    """chmod `path` to `mode` unless it already is; a path not ours (e.g. made by root for us) is left, said once."""
    try:
        if stat.S_IMODE(path.stat().st_mode) != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("cannot make %s private (mode %o): it is not T5G's user's", path, mode)


def private_var_dir() -> None:
    settings.VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(settings.VAR_DIR, 0o700)


def private_sqlite_file(sender, connection, **kwargs) -> None:
    """connection_created: SQLite makes the file on first connect with the umask's mode (0644 usually); its -wal
    and -shm files take the database file's mode."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if name in _done or not name or name == ":memory:" or name.startswith("file:"):
        return
    make_private(Path(name), 0o600)
    _done.add(name)


def install() -> None:
    private_var_dir()
    connection_created.connect(private_sqlite_file, dispatch_uid="t5g.private.sqlite")
