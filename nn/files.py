"""Replacing a file without ever losing it: the one atomic write behind `nn.save`, the outputs of
`ndgrad train` and the MNIST cache.

`atomic_write(path, op)` writes to a temporary file beside the target (same directory, so the
rename never crosses file systems), flushes and fsyncs it, and renames it over the target. A reader,
a crash or a SIGKILL at any moment sees the old file or the new one, never a mix, and a failed write
leaves the old file as it was. Before anything is written, `check_replaceable` refuses targets that
renaming would destroy or that the user protected:

- a target that is not a regular file (a directory, FIFO, device node or socket): renaming a file
  over `/dev/null` would replace the device itself when running as root;
- a write-protected file (no write bit set, or not writable for this user): root could replace it,
  so the check reads the mode bits rather than waiting for EACCES.

A symlink is written through (the file it points to is replaced, the link is kept). Temporary files
are named `.<name>.<pid>-<random>.tmp`; ones whose process is gone (a save killed by SIGKILL or a
power cut) are removed by the next write to the same target. Every error names the target, never
the temporary file.
"""
import contextlib
import os
import re
import secrets
import stat

__all__ = ["atomic_write", "check_replaceable"]

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_replaceable(path, op):
    """The real path that writing `path` replaces (symlinks resolved), after checking that `op`
    may replace it: its directory exists, and it is absent or a regular file that is not
    write-protected. Raises an OSError naming `path` otherwise."""
    path = os.fspath(path)
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        state = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise FileNotFoundError(f"{op}: cannot write {path!r}: directory {directory!r} {state}")
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as error:
        raise _naming(error, path, op) from None
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a regular file")
        error_class = IsADirectoryError if stat.S_ISDIR(status.st_mode) else OSError
        raise error_class(f"{op}: cannot write {path!r}: it is {kind}, and only regular files are replaced")
    if not status.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise PermissionError(f"{op}: cannot write {path!r}: it is write-protected (mode "
                              f"{stat.filemode(status.st_mode)}); make it writable or write elsewhere")
    return target


@contextlib.contextmanager
def atomic_write(path, op):
    """Yield a binary file; on a clean exit it replaces `path` (flushed and fsynced first), on an
    exception it is deleted and `path` is left as it was. `op` names the caller in errors."""
    path = os.fspath(path)
    target = check_replaceable(path, op)
    directory, name = os.path.split(target)
    remove_stale_temporaries(directory, name)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as error:
        raise _naming(error, path, op) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        _keep_owner_and_mode(tmp, target)
        os.replace(tmp, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(error, OSError):
            raise _naming(error, path, op) from None
        raise
    _fsync_directory(directory)


def remove_stale_temporaries(directory, name):
    """Delete the temporary files of earlier writes to `name` whose process no longer runs."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)-[0-9a-f]{{12}}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            match = pattern.fullmatch(entry.name)
            if match and not _process_alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _process_alive(pid):
    if os.name != "posix":   # os.kill(pid, 0) is no probe on Windows; keep what we cannot judge
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:          # e.g. EPERM: it runs, as another user
        return True
    return True


def _keep_owner_and_mode(tmp, target):
    """The new file keeps the old one's permissions (and, where allowed, its owner)."""
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return
    os.chmod(tmp, stat.S_IMODE(status.st_mode))
    if hasattr(os, "chown") and (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):
            os.chown(tmp, status.st_uid, status.st_gid)


def _naming(error, path, op):
    """The same kind of OSError, worded with the target `path` instead of the temporary file."""
    renamed = type(error)(f"{op}: cannot write {path!r}: {error.strerror or error}")
    renamed.errno = error.errno
    return renamed


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); not possible everywhere, and not needed for correctness."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
