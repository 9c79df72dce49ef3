"""Writing an output file so that it can never destroy a database or an input.

Every command that writes a file goes through `atomic_output`: the file is written
beside the target under a temporary name and renamed over it only once complete, so
an interrupted export leaves the old file as it was; and a target that is the
database being read, any other SQLite database, or an input of the same command is
refused before anything is written (`codings export DB -o DB` once truncated a
database to 69 bytes).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from coder.errors import CoderError

SQLITE_MAGIC = b"SQLite format 3\x00"
# Files SQLite keeps beside a database: overwriting one corrupts the database.
SIDECARS = ("-wal", "-shm", "-journal")


def is_sqlite_file(path: str | Path) -> bool:
    """True for a file that starts with SQLite's header (whatever its name)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output(target: str | Path, *, inputs: tuple[str | Path, ...] = (), backup: bool = False) -> Path:
    """The real path to write, or a CoderError naming why `target` must not be written.

    `inputs` are the files the command reads (its database first); the target may
    be none of them, nor a SQLite sidecar of one, nor any SQLite database at all,
    except with `backup`, where it may only be an older database (a backup) and
    never a database another program has open.
    """
    shown = str(target)
    real = Path(os.path.realpath(target))
    if real.is_dir():
        raise CoderError("is a folder; give a file name to write", where=shown)
    for source in inputs:
        source_real = Path(os.path.realpath(source))
        if real == source_real or _same_file(real, source_real):
            if backup:
                raise CoderError("the backup must be a different file from the database", where=shown)
            raise CoderError(f"is an input of this command ({source}); write to another file", where=shown)
        if any(str(real) == str(source_real) + suffix for suffix in SIDECARS):
            raise CoderError(f"belongs to the database {source}; write to another file", where=shown)
    if real.exists() and not real.is_file():
        # Renaming over a device or pipe (-o /dev/null as root) would replace it with a plain file.
        raise CoderError(
            "is not a regular file (a device or pipe); write to a file, or leave out --output to write to stdout",
            where=shown,
        )
    if backup:
        if real.exists() and real.stat().st_size and not is_sqlite_file(real):
            raise CoderError("exists and is not a database; coder backup replaces only an older backup", where=shown)
        wal = Path(f"{real}-wal")
        if wal.exists() and wal.stat().st_size:
            raise CoderError(
                f"is open in another program ({wal.name} exists); close it or back up to another file", where=shown
            )
    elif real.exists() and is_sqlite_file(real):
        raise CoderError("is a SQLite database; coder never overwrites a database with an export", where=shown)
    if not real.parent.is_dir():
        raise CoderError(f"cannot write: no such folder {real.parent}", where=shown)
    return real


@contextlib.contextmanager
def atomic_output(target: str | Path, *, inputs: tuple[str | Path, ...] = (), backup: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename.

    The temporary name keeps the target's suffix (writers such as matplotlib and
    openpyxl look at it). On any error the temporary file is removed and `target`
    is untouched.
    """
    real = check_output(target, inputs=inputs, backup=backup)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{real.stem}.", suffix=f".tmp{real.suffix}", dir=real.parent)
    except OSError as exc:
        raise CoderError(f"cannot write here: {exc.strerror or exc}", where=str(target)) from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(temporary, real.stat().st_mode & 0o777 if real.exists() else 0o666 & ~umask())
        os.replace(temporary, real)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def write_output(target: str | Path, content: str | bytes, *, inputs: tuple[str | Path, ...] = ()) -> Path:
    """Write text (UTF-8, newlines as given) or bytes to `target` atomically."""
    with atomic_output(target, inputs=inputs) as temporary:
        if isinstance(content, bytes):
            temporary.write_bytes(content)
        else:
            temporary.write_text(content, encoding="utf-8", newline="")
    return Path(target)
