"""Keep the grading files as they were when the batch started.

A student's cell runs with the grader's permissions and could rewrite the checks (or the
solutions) that grade everyone. Two defences, both built on a :class:`Snapshot` (files kept in
memory when the batch starts):

- each submission's kernel imports ``backproplab`` from its own copy, written from the
  snapshot into its temporary directory: a cell that edits the grading code it can see edits
  that copy only, which is compared with the snapshot afterwards, then thrown away;
- the course's own files (a :class:`FileGuard`) are hashed around every submission; the batch
  (``batch.py``) finds out which submission wrote them and restores what it wrote, and only
  that, so that a colleague editing the course during a batch does not lose their work.
"""

import hashlib
import shutil
import tempfile
from pathlib import Path

__all__ = ["Snapshot", "FileGuard"]


class Snapshot:
    """The files matching ``pattern`` under ``root`` (no __pycache__), in memory."""

    def __init__(self, root, pattern):
        self.root, self.pattern = Path(root).resolve(), pattern
        self.files = {name: path.read_bytes() for name, path in self.paths().items()}

    def paths(self, root=None):
        """{relative name: path} of the matching files under ``root`` (default: the original)."""
        root = Path(root) if root else self.root
        return {str(p.relative_to(root)): p for p in sorted(root.glob(self.pattern))
                if p.is_file() and "__pycache__" not in p.parts}

    def changes(self, root=None):
        """The files under ``root`` that differ from the snapshot: ["parts/x.py (modified)"]."""
        now = {name: path.read_bytes() for name, path in self.paths(root).items()}
        return [f"{name} ({_change(name, now, self.files)})"
                for name in sorted(set(now) | set(self.files))
                if now.get(name) != self.files.get(name)]

    def write(self, root):
        """Write the snapshot's files under ``root`` (a fresh copy)."""
        for name, data in self.files.items():
            path = Path(root) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def _change(name, now, before):
    return "deleted" if name not in now else "added" if name not in before else "modified"


class FileGuard:
    """The course's grading files, as several snapshots taken when the batch starts."""

    def __init__(self, snapshots):
        self.snapshots = list(snapshots)
        self.original = self.digest()

    def _original(self):
        """{absolute path: original bytes}."""
        return {snap.root / name: data for snap in self.snapshots
                for name, data in snap.files.items()}

    def stamps(self):
        """{absolute path: (modification time, content hash)} of the files there now: a file
        written again with the same content still gets a new stamp."""
        return {path: (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
                for snap in self.snapshots for path in snap.paths().values()}

    def digest(self):
        """One hash of the names and contents of all the files there now."""
        h = hashlib.sha256()
        for path, (_, content) in sorted(self.stamps().items()):
            h.update(f"{path}\0{content}\0".encode())
        return h.hexdigest()

    def changes(self):
        """The files that differ from the snapshots: ["/course/solutions/01.ipynb (modified)"]."""
        return [f"{snap.root / change}" for snap in self.snapshots for change in snap.changes()]

    def restore(self, paths):
        """Put ``paths`` back as they were (deleting those that did not exist). The versions
        replaced are copied to a new temporary folder; returns one message per file."""
        original, backup, messages = self._original(), None, []
        for path in sorted(paths):
            existed = path.exists()
            if existed:
                backup = backup or Path(tempfile.mkdtemp(prefix="backproplab-changed-"))
                kept = backup / path.relative_to(path.anchor)
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, kept)
            if path in original:
                path.write_bytes(original[path])
            elif existed:
                path.unlink()
            what = "restored" if path in original else "removed"
            messages.append(f"{path} {what}" + (f" (the changed version is in {backup})"
                                                if existed else ""))
        return messages
