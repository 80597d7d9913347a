"""Writing files so that a crash never leaves half of one: write beside, then rename."""
import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_write(path):
    """Yield a binary file; on success it replaces ``path`` in one step, on error it vanishes.

    The temporary file lives in the target's directory (a rename is atomic only within one
    file system) and is flushed to disk before the rename, so after a power cut or a SIGKILL
    ``path`` holds either its old contents or the new ones.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=directory)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; a plain file is not
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def remove_leftovers(path):
    """Delete the temporaries that writes of ``path`` killed mid-way (SIGKILL, power cut) left
    behind. Only for a file that no other process is writing now."""
    directory = os.path.dirname(os.path.abspath(path))
    prefix = _temporary_prefix(path)
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        if name.startswith(prefix) and name.endswith(".tmp"):
            os.unlink(os.path.join(directory, name))


def _temporary_prefix(path):
    return "." + os.path.basename(path) + "-"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
