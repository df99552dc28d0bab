"""Hot reload of a rule pack without a restart.

:meth:`PackWatcher.poll` re-reads the pack's files and reloads when anything changed (a file's
modification time, size or content, or the set of files). A valid new pack replaces the served
one; an invalid one is reported (``watcher.problems``) while the previous pack keeps serving,
so a half-saved edit never takes the rules down. Polling is cheap enough to call every few
seconds: packs are small, and the contents are hashed only when a file's stat changed (or
changed so recently that the stat cannot be trusted).

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> rule = "rules: [{name: r, areas: [scalper], expression: 'event.props.quantity > %d',"
>>> _ = (folder / "r.yaml").write_text(rule % 5 + " action: review, weight: 0.5}]")
>>> watcher = PackWatcher(folder)
>>> watcher.poll() is not None, watcher.poll()
(True, None)
>>> _ = (folder / "r.yaml").write_text(rule % 9 + " action: reveiw, weight: 0.5}]")
>>> watcher.poll(), len(watcher.problems), watcher.current.rule("r").expression.source
(None, 1, 'event.props.quantity > 5')
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from rampart.contract.outputs import AREAS
from rampart.detect.rules.errors import PackError, PackProblem
from rampart.detect.rules.functions import FUNCTIONS, FunctionRegistry
from rampart.detect.rules.lists import ListStore
from rampart.detect.rules.pack import build_pack, fingerprint, pack_file_paths, read_pack_files
from rampart.detect.rules.pack_model import LoadedPack

Stat = tuple[tuple[str, int, int], ...]
_RACY_NS: Final = 3_000_000_000


class PackWatcher:
    """Serves the latest valid version of the pack at ``path``; call :meth:`poll` to refresh.

    ``current`` is the pack being served (None until one loads); ``problems`` lists what is wrong
    with the files on disk when they do not load (empty when the served pack is up to date).
    Every version of the pack reads the same list store, ``lists`` (the given one, or one of the
    watcher's own), so list entries survive reloads.
    """

    def __init__(
        self,
        path: Path,
        *,
        score_names: Iterable[str] = AREAS,
        lists: ListStore | None = None,
        functions: FunctionRegistry = FUNCTIONS,
    ) -> None:
        self.path = path
        self.score_names = tuple(score_names)
        # One store for every version of the pack, so list contents survive a reload; names
        # are checked only against a store the caller filled.
        self.lists = lists if lists is not None else ListStore()
        self._check_lists = lists is not None
        self.functions = functions
        self.current: LoadedPack | None = None
        self.problems: list[PackProblem] = []
        self._stat: Stat | None = None
        self._fingerprint: str | None = None

    def _stat_files(self) -> Stat:
        stats = []
        for file in pack_file_paths(self.path):
            try:
                info = file.stat()
            except OSError:  # removed between listing and stat: the next poll sees it gone
                continue
            stats.append((str(file), info.st_mtime_ns, info.st_size))
        return tuple(stats)

    @staticmethod
    def _racy(stat: Stat) -> bool:
        """Whether a file changed so recently that a second edit could keep its mtime and size.

        Filesystems with coarse timestamps (1-2 s) hide a same-size edit within the same tick;
        the content hash settles it (git's "racy clean" problem).
        """
        now = time.time_ns()
        return any(now - mtime < _RACY_NS for _, mtime, _ in stat)

    def poll(self) -> LoadedPack | None:
        """Reload if the files changed: the new pack when it is valid, else None.

        None also when nothing changed; a pack that fails keeps the previous one serving and
        sets ``problems``. A pack that fails is not re-validated until its files change again.
        """
        try:
            stat = self._stat_files() if self.path.exists() else ()
        except OSError:
            stat = ()
        if stat == self._stat and not self._racy(stat):
            return None
        self._stat = stat
        try:
            if not self.path.exists():
                raise PackError([PackProblem(str(self.path), "no such file or folder")])
            files = read_pack_files(self.path)
        except OSError as error:
            self._fail(
                [PackProblem(str(self.path), f"cannot read: {os.strerror(error.errno or 0)}")]
            )
            return None
        except PackError as error:
            self._fail(list(error.problems))
            return None
        digest = fingerprint(files)
        if digest == self._fingerprint:
            return None  # touched, not changed
        self._fingerprint = digest
        pack, problems = build_pack(
            self.path,
            files,
            score_names=self.score_names,
            lists=self.lists,
            functions=self.functions,
            check_lists=self._check_lists,
        )
        if pack is None:
            self._fail(problems)
            return None
        self.current, self.problems = pack, []
        return pack

    def _fail(self, problems: list[PackProblem]) -> None:
        self.problems = problems
        # Forget the content hash so restoring the served version counts as a change and
        # clears the problems.
        self._fingerprint = None
