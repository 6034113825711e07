"""Folders of lessons: which files, in what order, in which languages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograd_tutor.core.lesson import Lesson, LessonError
from autograd_tutor.core.parser import name_parts, parse_file


def shipped_lessons() -> Path:
    """The lessons that come with the package (inside the wheel, or beside src/ in a checkout)."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "lessons"
    if installed.is_dir():
        return installed
    return here.parent.parent / "lessons"


SUFFIXES = (".md", ".ipynb", ".py")
# What a folder's .py file must hold to be listed as a lesson: a plain module beside the
# lessons (a helper, a conftest) is not one. A path given as such is opened whatever it is.
_SCRIPT_MARKS = ("# %%", "jupytext", "# +\n", "#" * 20)


def lesson_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in SUFFIXES
        and p.is_file()
        and not p.name.lower().startswith("readme")
        and ".ipynb_checkpoints" not in p.parts  # Jupyter's autosaves of the same notebooks
        and (p.suffix != ".py" or _is_script_lesson(p))
    )


def _is_script_lesson(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:20_000]
    except OSError:
        return False
    return any(mark in head for mark in _SCRIPT_MARKS)


@dataclass
class Entry:
    """One lesson in every language it has; `broken` lists files that do not parse."""

    id: str
    order: tuple[int, str]
    versions: dict[str, Lesson] = field(default_factory=dict)
    broken: list[LessonError] = field(default_factory=list)

    def pick(self, lang: str) -> Lesson | None:
        """The lesson in `lang`, else English, else any language it has."""
        for want in (lang, "en"):
            if want in self.versions:
                return self.versions[want]
        return next(iter(self.versions.values()), None)


def load(paths: list[Path]) -> list[Entry]:
    """Parse every lesson file under `paths`; broken files are kept with their error."""
    entries: dict[str, Entry] = {}
    for path in paths:
        files = lesson_files(path) if path.is_dir() else [path]
        for file in files:
            order, slug, _ = name_parts(file)
            try:
                lesson = parse_file(file)
            except LessonError as err:
                key = f"{file.parent}/{slug}"
                entry = entries.setdefault(key, Entry(slug, (order or 10**6, slug)))
                entry.broken.append(err)
                continue
            key = f"{file.parent}/{lesson.id}"
            entry = entries.setdefault(key, Entry(lesson.id, (lesson.order or 10**6, lesson.id)))
            if lesson.order is not None:
                entry.order = (lesson.order, lesson.id)
            entry.versions[lesson.lang] = lesson
    return sorted(entries.values(), key=lambda e: e.order)
