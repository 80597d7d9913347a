"""Reverse-mode automatic differentiation.

Every differentiable op is a ``Function``: ``forward`` computes on arrays, ``backward`` builds
the input gradients from minigen ops on Tensors. Because backward is made of ops, running it
with the graph switched on (``create_graph=True``) records a new graph that can be
differentiated again: this is how gradients of gradients (WGAN-GP's penalty) work.

Calling ``Function.apply`` records a ``Context`` (the node PyTorch calls ``grad_fn``) holding
the inputs and what ``forward`` saved. ``backward``/``grad`` walk those nodes from the output
in topological order, summing the gradients that reach each node before running it.
"""
import contextlib
import threading

import numpy as np

from . import backend, dtypes

__all__ = ["Function", "Context", "backward", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled"]


# --- grad mode -------------------------------------------------------------------------------

class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled():
    return _mode.enabled


@contextlib.contextmanager
def set_grad_enabled(enabled):
    previous, _mode.enabled = _mode.enabled, bool(enabled)
    try:
        yield
    finally:
        _mode.enabled = previous


def no_grad():
    """Context manager: ops inside record no graph (as ``torch.no_grad``)."""
    return set_grad_enabled(False)


def enable_grad():
    """Context manager: record the graph again inside a ``no_grad`` block."""
    return set_grad_enabled(True)


# --- Function and its node -------------------------------------------------------------------

class Context:
    """What one call of a Function keeps for its backward; it is the output's ``grad_fn``.

    ``forward`` stores plain values as attributes (``ctx.negative_slope = 0.2``) and arrays
    through ``save_for_backward``. An array that is one of the inputs or the output is kept
    as that Tensor, so a second differentiation sees how it depends on the inputs; any other
    array (a mask, say) is kept as a constant.
    """

    def __init__(self, function):
        self.function = function
        self.inputs = ()             # one entry per forward argument: a Tensor, or None
        self.needs_input_grad = ()   # which inputs want a gradient in the current backward
        self._to_save = ()
        self._saved = ()
        self._released = False

    def save_for_backward(self, *arrays):
        self._to_save = arrays

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(
                f"Trying to backward through {self.name()} a second time, after its saved "
                "values were freed. Pass retain_graph=True to the first backward() or grad() "
                "call if you need to go through the graph again.")
        return self._saved

    def release(self):
        self._saved = ()
        self._released = True

    def name(self):
        return self.function.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"


class Function:
    """Base class of differentiable ops; subclass it to write your own.

    ``forward(ctx, *args)`` receives arrays where the caller passed Tensors (other arguments
    unchanged) and returns one array. ``backward(ctx, grad_output)`` receives a Tensor and
    returns one gradient Tensor (or None) per forward argument, built from minigen ops.

    Example::

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad_output):
                x, = ctx.saved_tensors
                return grad_output * 3 * x ** 2

        y = Cube.apply(minigen.randn(4, requires_grad=True))
    """

    crosses_devices = False  # True only for the copy between devices: all other ops take one device

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        ctx = Context(cls)
        arrays = []
        any_requires_grad = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                any_requires_grad = any_requires_grad or a._requires_grad
            else:
                arrays.append(a)
        if not cls.crosses_devices:
            backend.require_same_device(cls.__name__, [a for a in arrays if backend.is_array(a)])
        raw = cls.forward(ctx, *arrays)
        # NumPy returns scalars from 0-d arithmetic; a Tensor always holds an array.
        out = Tensor._make(raw if backend.is_array(raw) else np.asarray(raw))
        if any_requires_grad and _mode.enabled and dtypes.is_floating(out.dtype):
            ctx.inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
            ctx._saved = _tensors_for(ctx._to_save, args, raw, out)
            ctx._to_save = ()
            out._requires_grad = True
            out.grad_fn = ctx
        return out


def _tensors_for(arrays, args, raw_out, out):
    """Map the arrays forward saved back to the Tensors they came from (see Context)."""
    owners = {id(a._data): a for a in args if isinstance(a, Tensor)}
    owners.setdefault(id(raw_out), out)
    return tuple(a if a is None else owners[id(a)] if id(a) in owners else Tensor._make(a)
                 for a in arrays)


# --- the engine ------------------------------------------------------------------------------

def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves they reach."""
    tensors, grads = _roots(tensors, grad_tensors, "backward")
    retain_graph = create_graph if retain_graph is None else retain_graph
    leaf_grads = _run(tensors, grads, None, retain_graph, create_graph)
    for leaf, g in leaf_grads.values():
        g = g if create_graph else g.detach()
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return the gradients of ``outputs`` with respect to ``inputs``, leaving ``.grad`` alone.

    Only the part of the graph between ``outputs`` and ``inputs`` is run. With
    ``create_graph=True`` the returned gradients carry a graph of their own.
    """
    outputs, grads = _roots(outputs, grad_outputs, "grad")
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(
                f"grad: input {i} does not require grad; call requires_grad_() on it before "
                "computing the outputs")
    retain_graph = create_graph if retain_graph is None else retain_graph
    found = _run(outputs, grads, inputs, retain_graph, create_graph)
    result = []
    for i, t in enumerate(inputs):
        entry = found.get(id(t))
        if entry is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} was not used to compute the outputs. Pass "
                "allow_unused=True if a None gradient is what you want for it.")
        g = None if entry is None else entry[1]
        if entry is not None and g is None:  # reached, but every path's gradient was zero
            g = Tensor._make(backend.array_module(t._data).zeros_like(t._data))
        result.append(g if g is None or create_graph else g.detach())
    return tuple(result)


def _roots(tensors, grads, caller):
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grads is None or isinstance(grads, Tensor):
        grads = (grads,) * len(tensors) if grads is None else (grads,)
    grads = tuple(grads)
    if len(grads) != len(tensors):
        raise ValueError(f"{caller}: got {len(grads)} gradients for {len(tensors)} tensors")
    seeds = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not t.requires_grad:
            raise RuntimeError(
                f"{caller}: tensor {i} does not require grad and has no grad_fn; make the "
                "inputs require grad (requires_grad=True) before computing it")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"{caller}: a gradient can only be created implicitly for a scalar "
                    f"output, but tensor {i} has shape {t.shape}; pass the gradient "
                    "explicitly (gradient=... for backward, grad_outputs=... for grad)")
            g = Tensor._make(backend.array_module(t._data).ones_like(t._data))
        elif not isinstance(g, Tensor):
            g = Tensor(g, dtype=t.dtype, device=t.device)
        if g.shape != t.shape:
            raise RuntimeError(
                f"{caller}: gradient {i} has shape {g.shape} but its tensor has shape {t.shape}")
        seeds.append(g)
    return tensors, seeds


def _run(roots, seeds, targets, retain_graph, create_graph):
    """Propagate ``seeds`` back from ``roots``.

    Returns ``{id(tensor): (tensor, gradient)}`` for the leaves reached (``targets is None``)
    or for the ``targets`` reached. A target the graph reaches but no gradient arrives at (a
    backward returned None: the derivative is zero) maps to ``(tensor, None)``. A node runs
    once all the nodes that feed it gradient have.
    """
    target_ids = None if targets is None else {id(t) for t in targets}
    wanted = _wanted_nodes(roots, target_ids)
    pending = {}  # id(node) -> number of wanted nodes still to send it gradient
    found = {}
    for node in wanted.values():
        for t in node.inputs:
            if t is not None and t.grad_fn is not None and id(t.grad_fn) in wanted:
                pending[id(t.grad_fn)] = pending.get(id(t.grad_fn), 0) + 1
            if target_ids is not None and t is not None and id(t) in target_ids:
                found[id(t)] = (t, None)

    node_grads = {}
    for t, g in zip(roots, seeds):
        _deliver(t, g, node_grads, found, target_ids, wanted)
    ready = [r.grad_fn for r in roots
             if r.grad_fn is not None and id(r.grad_fn) in wanted and not pending.get(id(r.grad_fn))]
    ready = list({id(n): n for n in ready}.values())

    with set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            gy = node_grads.pop(id(node))
            node.needs_input_grad = tuple(
                t is not None and t.requires_grad and (
                    target_ids is None or id(t) in target_ids
                    or (t.grad_fn is not None and id(t.grad_fn) in wanted))
                for t in node.inputs)
            input_grads = _call_backward(node, gy)
            if not retain_graph:
                node.release()
            for t, g in zip(node.inputs, input_grads):
                if t is None or not t.requires_grad:
                    continue
                if g is not None:
                    _deliver(t, g, node_grads, found, target_ids, wanted)
                parent = t.grad_fn
                if parent is not None and id(parent) in wanted:
                    pending[id(parent)] -= 1
                    if pending[id(parent)] == 0 and id(parent) in node_grads:
                        ready.append(parent)
    return found


def _deliver(t, g, node_grads, found, target_ids, wanted):
    """Add gradient ``g`` of tensor ``t`` where it is needed: a result, a node's input, or both."""
    if target_ids is None:
        if t.grad_fn is None:
            _accumulate(found, t, g)
    elif id(t) in target_ids:
        _accumulate(found, t, g)
    node = t.grad_fn
    if node is not None and id(node) in wanted:
        node_grads[id(node)] = g if id(node) not in node_grads else node_grads[id(node)] + g


def _accumulate(found, t, g):
    entry = found.get(id(t))
    found[id(t)] = (t, g if entry is None or entry[1] is None else entry[1] + g)


def _wanted_nodes(roots, target_ids):
    """The nodes whose backward must run: all of them for ``backward``; for ``grad`` only
    those from which a target can be reached."""
    order = []  # nodes in depth-first post-order: every node after the nodes it feeds into
    seen = set()
    stack = [(r.grad_fn, False) for r in roots if r.grad_fn is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((t.grad_fn, False) for t in node.inputs
                     if t is not None and t.grad_fn is not None and id(t.grad_fn) not in seen)
    if target_ids is None:
        return {id(n): n for n in order}
    wanted = {}
    for node in order:  # children come first, so their membership is already known
        if any(t is not None and (id(t) in target_ids or
                                  (t.grad_fn is not None and id(t.grad_fn) in wanted))
               for t in node.inputs):
            wanted[id(node)] = node
    return wanted


def _call_backward(node, gy):
    grads = node.function.backward(node, gy)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(node.inputs):
        raise RuntimeError(
            f"{node.name()} returned {len(grads)} gradients but its forward took "
            f"{len(node.inputs)} arguments; return None for arguments without a gradient")
    for i, (t, g) in enumerate(zip(node.inputs, grads)):
        if g is not None and t is not None and g.shape != t.shape:
            raise RuntimeError(
                f"{node.name()} returned a gradient of shape {g.shape} for input {i}, "
                f"which has shape {t.shape}")
    return grads


# Last, so that tensor.py (which needs Function through minigen.ops) can import this module
# whichever of the two is imported first.
from .tensor import Tensor  # noqa: E402
