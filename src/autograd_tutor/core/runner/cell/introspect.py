"""In the cell process: the tensor inspector's rows and the autograd graph, as plain data.

Everything returned is JSON-ready (str, int, float, bool, None, list, dict): it goes back to
the UI over the protocol, and the UI process never imports torch. torch is imported inside
the functions so that importing this module stays free (the host imports it before torch is
warm). The app compares two looks with `core/tensor_rows.py`.

Looking must not touch: the learner's state and warnings are left as they were. Hence
`.grad` is only read on leaves and on tensors that `retain_grad()` (reading it elsewhere
makes torch warn, and the cell's warning capture would blame the learner), and values are
summarised from detached tensors under `no_grad`, so no graph is built by the inspector.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from autograd_tutor.core.runner.shared.payloads import MAX_TENSOR_ROWS

SUMMARY_LIMIT = 60
# Print the values of small tensors; beyond that (or when the text is too long) show stats.
_EXACT_MAX_NUMEL = 64
# A mean over a huge tensor would make every inspection slow; show the shape only.
_STATS_MAX_NUMEL = 20_000_000
_DTYPE_SUFFIX = re.compile(r",\s*dtype=torch\.\w+")


def _shape(t: Any) -> list[int]:
    return [int(n) for n in t.shape]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarize(t: Any, limit: int = SUMMARY_LIMIT) -> str:
    """`tensor([1., 2., 3.])` for small tensors, else `shape [100, 3], mean 0.12`."""
    import torch

    try:
        with torch.no_grad():
            d = t.detach()
            if d.layout != torch.strided or d.device.type == "meta":
                return _clip(f"shape {_shape(d)}, {d.layout}, {d.device.type}", limit)
            if d.numel() <= _EXACT_MAX_NUMEL:
                # One line; the dtype has its own column in the inspector.
                text = _DTYPE_SUFFIX.sub("", " ".join(repr(d).split()))
                if len(text) <= limit:
                    return text
            return _clip(_stats(d), limit)
    except Exception as exc:  # a tensor subclass may refuse; never break the inspector
        return _clip(f"<{type(exc).__name__}>", limit)


def _stats(d: Any) -> str:
    import torch

    shape = f"shape {_shape(d)}"
    n = d.numel()
    if n == 0:
        return f"{shape}, empty"
    if n > _STATS_MAX_NUMEL:
        return shape
    if d.dtype == torch.bool:
        return f"{shape}, {int(d.sum())} True"
    if d.is_complex():
        return f"{shape}, mean |z| {float(d.abs().mean()):.3g}"
    return f"{shape}, mean {float(d.double().mean()):.3g}"


def _version(t: Any) -> int:
    try:
        return int(t._version)
    except RuntimeError:  # inference tensors have no version counter
        return -1


def readable_grad(t: Any) -> Any:
    """`t.grad` where reading it is silent (leaves, retain_grad), else None."""
    if t.is_leaf or t.retains_grad:
        return t.grad
    return None


def _grad_fn_name(t: Any) -> str | None:
    fn = t.grad_fn
    return None if fn is None else type(fn).__name__


def _row(name: str, t: Any) -> dict[str, Any]:
    grad = readable_grad(t)
    grad_text = None if grad is None else summarize(grad)
    value = summarize(t)
    dtype = str(t.dtype).removeprefix("torch.")
    grad_fn = _grad_fn_name(t)
    # Cheap identity + version data, plus the summaries: an in-place change bumps _version,
    # a new tensor under the same name has a new id, and the summaries catch a new tensor
    # that happens to reuse a freed tensor's id.
    key = (
        id(t),
        _version(t),
        t.requires_grad,
        grad_fn,
        id(t.grad_fn) if grad_fn else 0,
        id(grad) if grad is not None else 0,
        _version(grad) if grad is not None else 0,
        tuple(t.shape),
        dtype,
        value,
        grad_text,
    )
    return {
        "name": name,
        "shape": _shape(t),
        "dtype": dtype,
        "requires_grad": bool(t.requires_grad),
        "is_leaf": bool(t.is_leaf),
        "grad": grad_text,
        "grad_fn": grad_fn,
        "value": value,
        "fingerprint": hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest(),
    }


def _public_tensors(namespace: dict[str, Any]) -> list[tuple[str, Any]]:
    import torch

    return sorted(
        (name, value)
        for name, value in namespace.items()
        if isinstance(name, str) and not name.startswith("_") and isinstance(value, torch.Tensor)
    )


def tensor_rows(namespace: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per public tensor (Parameters included) in the namespace, sorted by name."""
    rows = []
    # The relay takes at most MAX_TENSOR_ROWS rows: more would only be cut there.
    for name, t in _public_tensors(namespace)[:MAX_TENSOR_ROWS]:
        try:
            rows.append(_row(name, t))
        except Exception as exc:  # keep the other rows if one odd tensor fails
            rows.append(
                {
                    "name": name,
                    "shape": [],
                    "dtype": "?",
                    "requires_grad": False,
                    "is_leaf": True,
                    "grad": None,
                    "grad_fn": None,
                    "value": _clip(f"<cannot inspect: {exc}>", SUMMARY_LIMIT),
                    "fingerprint": f"error-{id(t)}",
                }
            )
    return rows


# ----------------------------------------------------------------------------- graph


def graph(namespace: dict[str, Any], name: str, *, max_nodes: int = 200) -> dict[str, Any]:
    """The autograd graph behind `namespace[name]`, root first.

    Nodes: the root tensor (kind "tensor"), one "op" per grad_fn node (AccumulateGrad
    included), one "leaf" per leaf tensor reached through AccumulateGrad.variable. Edges
    `[a, b]` point the way gradients flow: from an op to the op or leaf it passes them to.
    An op whose output is a tensor in the namespace carries that tensor's name as `var`.
    `note`/`reason` explain a graph that has nothing to walk; `truncated` says max_nodes hit.
    """
    import torch

    root = namespace.get(name)
    result: dict[str, Any] = {"root": name, "nodes": [], "edges": [], "truncated": False}
    if not isinstance(root, torch.Tensor):
        missing = name not in namespace
        result["reason"] = "missing" if missing else "not-tensor"
        result["note"] = f"no variable named {name}" if missing else f"{name} is not a tensor"
        return result

    public = _public_tensors(namespace)
    tensor_names: dict[int, str] = {}
    op_names: dict[int, tuple[Any, str]] = {}  # id(grad_fn) -> (grad_fn kept alive, name)
    for var, t in public:
        tensor_names.setdefault(id(t), var)
        fn = t.grad_fn
        if fn is not None:
            op_names.setdefault(id(fn), (fn, var))
    # The name the learner asked about wins over an alias.
    tensor_names[id(root)] = name
    if root.grad_fn is not None:
        op_names[id(root.grad_fn)] = (root.grad_fn, name)

    nodes: list[dict[str, Any]] = result["nodes"]
    edges: list[list[str]] = result["edges"]
    index: dict[int, str] = {}
    alive: list[Any] = []  # hold every visited object so that ids stay unique during the walk

    def add(obj: Any, node: dict[str, Any]) -> tuple[str | None, bool]:
        """(node id, newly added); (None, False) once max_nodes is reached."""
        if id(obj) in index:
            return index[id(obj)], False
        if len(nodes) >= max_nodes:
            result["truncated"] = True
            return None, False
        node["id"] = f"n{len(nodes)}"
        index[id(obj)] = node["id"]
        alive.append(obj)
        nodes.append(node)
        return node["id"], True

    def tensor_node(t: Any, kind: str) -> dict[str, Any]:
        grad = readable_grad(t)
        return {
            "label": tensor_names.get(id(t), "unnamed leaf" if kind == "leaf" else "tensor"),
            "kind": kind,
            "var": tensor_names.get(id(t)),
            "requires_grad": bool(t.requires_grad),
            "grad": None if grad is None else summarize(grad),
            "shape": _shape(t),
        }

    def op_node(fn: Any) -> dict[str, Any]:
        owner = op_names.get(id(fn))
        var = owner[1] if owner else None
        t = namespace.get(var) if var else None
        grad = readable_grad(t) if t is not None else None
        return {
            "label": type(fn).__name__,
            "kind": "op",
            "var": var,
            "requires_grad": True,
            "grad": None if grad is None else summarize(grad),
            "shape": _shape(t) if t is not None else None,
        }

    if root.grad_fn is None:
        add(root, tensor_node(root, "leaf"))
        if root.requires_grad:
            result["reason"] = "leaf"
            result["note"] = (
                f"{name} is a leaf: it was created, not computed, so it has no grad_fn; "
                "backward() stores its gradient in .grad"
            )
        else:
            result["reason"] = "no-grad"
            result["note"] = (
                f"{name} does not require grad: autograd recorded no graph for it "
                "(no input required grad, or it was computed under no_grad / detached)"
            )
        return result

    root_id, _ = add(root, tensor_node(root, "tensor"))
    fn_id, _ = add(root.grad_fn, op_node(root.grad_fn))
    if root_id is None or fn_id is None:
        return result
    edges.append([root_id, fn_id])
    stack = [(root.grad_fn, fn_id)]
    while stack:
        fn, fid = stack.pop()
        if type(fn).__name__ == "AccumulateGrad":
            leaf = getattr(fn, "variable", None)
            if leaf is not None:
                leaf_id, _ = add(leaf, tensor_node(leaf, "leaf"))
                if leaf_id is not None:
                    edges.append([fid, leaf_id])
            continue
        new = []
        for child, _ in getattr(fn, "next_functions", ()):
            if child is None:  # an input that does not require grad
                continue
            cid, is_new = add(child, op_node(child))
            if cid is None:
                continue
            edges.append([fid, cid])
            if is_new:
                new.append((child, cid))
        stack.extend(reversed(new))  # depth first, inputs in order
    return result
