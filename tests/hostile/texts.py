"""Hostile strings, and a lesson that pushes them through every surface a learner or an
author sees: what a cell prints, its value, a warning, an exception's class name and
message, a variable's name (inspector, graph), a plot's title and labels, and the lesson
file's own title, prose, hint and question.

Each sequence would do something to a real terminal if it reached it raw: OSC 52 writes the
clipboard (tmux's paste buffer), OSC 0 sets the window title, OSC 8 makes a link, CSI moves
the cursor and clears the screen, C1 `\\x9b` is a CSI by itself, BEL rings; a lone
surrogate cannot be encoded at all; Rich markup would restyle the text.
"""

from __future__ import annotations

from pathlib import Path

ESC = "\x1b"
OSC52 = f"{ESC}]52;c;cHduZWQ=\x07"  # "pwned" into the clipboard
TITLE = "PWNED-TITLE"
OSC0 = f"{ESC}]0;{TITLE}\x07"
OSC8 = f"{ESC}]8;;http://evil.example/{ESC}\\click{ESC}]8;;{ESC}\\"
CSI = f"{ESC}[2J{ESC}[H"
C1 = "\x9b31m"
MARKUP = "[bold red]markup[/bold red][link=http://evil.example]l[/link]"
BIDI = "\u202eevil\u202c"
SURROGATE = "\ud800"
ALL = OSC52 + OSC0 + OSC8 + CSI + C1 + MARKUP + BIDI
# Characters that must never reach a terminal from any of the strings above.
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\ud800")

_CELLS = f'''
```python
import warnings
import torch
from autograd_tutor import plot

print({ALL!r})
warnings.warn({("warn" + OSC52)!r})
plot.title({("t" + OSC0)!r}); plot.xlabel({("x" + OSC52)!r})
plot.line([1.0, 2.0, 3.0], label={("s" + CSI)!r})
globals()[{("v" + OSC0)!r}] = torch.ones(2, requires_grad=True) * 2


class Sneaky:
    def __repr__(self):
        return {("repr" + OSC52)!r} + chr(0xD800)


Sneaky()
```

```python
Bad = type({("Bad" + OSC0 + MARKUP)!r}, (Exception,), {{}})
raise Bad({("msg" + OSC52 + SURROGATE)!r})
```
'''


def write_lesson(folder: Path) -> Path:
    """A lesson file with the hostile strings in its title, prose and cells."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "01-hostile.en.md"
    front = f"---\ntitle: {('Hostile' + OSC0)!r}\nid: hostile\nlang: en\n---\n"
    body = f"\n# Hostile lesson\n\nProse {OSC52} {CSI} {MARKUP}\n" + _CELLS
    # YAML takes the title in single quotes as it is (escapes are Python's repr, not YAML's):
    # write it with the real characters instead.
    front = front.replace(repr("Hostile" + OSC0), '"Hostile\\e]0;' + TITLE + '\\a"')
    path.write_text(front + body, encoding="utf-8", errors="surrogatepass")
    return path


def raw_characters(text: str) -> list[str]:
    """The characters of RAW that `text` holds (none, for a safe text)."""
    return [repr(c) for c in RAW if c in text]
