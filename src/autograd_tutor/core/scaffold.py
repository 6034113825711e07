"""`autograd-tutor new TITLE`: a lesson file to start from, that already passes `check`."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from autograd_tutor.core.parser import name_parts

TEMPLATE = """\
---
{front}---

# {title}

Say what the learner will notice. Each ```python block below is a cell; cells share one
namespace, top to bottom. See docs/authoring.md for tags, exercises and predictions.

A predict cell asks the learner first, then shows their guess beside what torch computed
(`check` proves the answer key):

```python predict="x-grad" tensor=[2.0, 4.0, 6.0]
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 2).sum()
y.backward()
x.grad
```

```question
What is `x.grad` after `y.backward()`? Write a list, e.g. `[1, 1, 1]`.
```

```explain
The derivative of x² is 2x, one element at a time: `[2., 4., 6.]`.
```

A cell that must fail shows a classic error on purpose:

```python tags=["raises-exception"]
(x ** 2).backward()  # not a scalar: autograd needs a gradient to start from
```

## Exercise

Make `g` the gradient of `(x ** 3).sum()` with respect to `x`.

```python exercise="cube"
g = None  # TODO
```

```hint
Build the sum of cubes, call backward(), then read x.grad. Zero x.grad first.
```

```python check="cube"
from autograd_tutor.check import say, uses
assert g is not None and torch.allclose(g, 3 * x.detach() ** 2), say(en="g should be 3x^2", zh="g 应为 3x²")
assert uses(".backward"), say(en="let autograd find it: call backward()", zh="请调用 backward()，让自动微分求出它")
```

```python solution="cube"
x.grad = None
(x ** 3).sum().backward()
g = x.grad
```

```python wrong="cube"
# the derivative worked out by hand: the right numbers, but autograd never ran
g = 3 * x.detach() ** 2
```

```python wrong="cube"
# the library call instead of backward()
(g,) = torch.autograd.grad((x ** 3).sum(), x)
```
"""


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug or "lesson"


def write_lesson(title: str, folder: Path, *, lang: str = "en") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    orders = [name_parts(p)[0] or 0 for p in folder.glob("*.md")]
    number = max(orders, default=0) + 1
    slug = slugify(title)
    path = folder / f"{number:02d}-{slug}.{lang}.md"
    if path.exists():
        raise FileExistsError(f"{path} exists already")
    front = yaml.safe_dump(
        {
            "title": title,
            "id": slug,
            "lang": lang,
            "summary": "One sentence on what the learner will be able to do.",
        },
        allow_unicode=True,
        sort_keys=False,
    )
    path.write_text(TEMPLATE.format(front=front, title=title), encoding="utf-8")
    return path
