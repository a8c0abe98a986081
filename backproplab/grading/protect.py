"""Keep the grading files as they were: a student's cell runs with the grader's permissions and
could rewrite the checks (or the solutions) that grade everyone else.

A :class:`FileGuard` holds the files in memory when the batch starts. :meth:`FileGuard.restore`
hashes them again; a file changed or deleted is written back, a new one is moved away, and the
changed versions are kept in a temporary folder, so that nothing is lost if the "student" was
in fact a colleague editing the course during the batch.
"""

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FileGuard"]


def _digest(data):
    return hashlib.sha256(data).hexdigest()


@dataclass
class FileGuard:
    """The protected files: ``roots`` is a list of (folder, glob pattern) pairs."""

    roots: list
    contents: dict  # path (str) -> bytes

    @classmethod
    def snapshot(cls, roots):
        roots = [(str(Path(folder).resolve()), pattern) for folder, pattern in roots]
        guard = cls(roots, {})
        guard.contents = {str(p): p.read_bytes() for p in guard._files()}
        return guard

    def _files(self):
        for folder, pattern in self.roots:
            yield from (p for p in sorted(Path(folder).glob(pattern))
                        if p.is_file() and "__pycache__" not in p.parts)

    def restore(self):
        """Put every protected file back as it was; returns one message per change."""
        expected = {path: _digest(data) for path, data in self.contents.items()}
        present = {str(p) for p in self._files()}
        changes, backup = [], None
        for path in sorted(present | set(expected)):
            current = Path(path).read_bytes() if path in present else None
            if current is not None and expected.get(path) == _digest(current):
                continue
            if current is not None:  # keep the changed version
                backup = backup or Path(tempfile.mkdtemp(prefix="backproplab-changed-"))
                kept = backup / Path(path).relative_to("/")
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, kept)
            if path not in expected:
                Path(path).unlink()
                changes.append(f"{path} appeared and was moved to {backup}")
            else:
                Path(path).write_bytes(self.contents[path])
                what = "was deleted" if current is None else \
                    f"was modified (the modified copy is in {backup})"
                changes.append(f"{path} {what}; restored")
        return changes
