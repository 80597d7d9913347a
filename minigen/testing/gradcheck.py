"""Check analytic gradients against central differences, in float64.

``gradcheck(fn, inputs)`` builds the Jacobian of ``fn`` twice: column by column from
central differences ``(f(x + eps e_j) - f(x - eps e_j)) / 2 eps``, and row by row from
backward passes with one-hot cotangents. ``fast_mode=True`` compares one random
direction instead: ``<t, Jᵀ c>`` from backward against ``<(f(x + eps t) - f(x - eps t)) / 2 eps, c>``
from differences, for a random input direction ``t`` and cotangent ``c``.

``gradgradcheck(fn, inputs)`` applies the same check to the function
``(inputs, grad_outputs) -> grad(fn(inputs), inputs, grad_outputs, create_graph=True)``
with random ``grad_outputs``: it checks the backward's own backward.
"""
import numpy as np

from .. import autograd, backend, dtypes
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numeric one."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False,
              raise_exception=True, seed=0):
    """True when the gradients of ``fn`` at ``inputs`` match central differences.

    ``fn`` takes the ``inputs`` (Tensors, and any other values) and returns a Tensor or a
    tuple of Tensors. Inputs that require grad must be float64: in float32 the rounding of
    ``f(x ± eps)`` swamps the difference being measured, so the check would be noise.
    On a mismatch it raises ``GradcheckError`` naming the input, the output, the worst
    entry and both values (or returns False with ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    wrt = _differentiable(inputs)
    rng = np.random.default_rng(seed)
    outputs = _outputs(fn, inputs)
    try:
        if fast_mode:
            _check_direction(fn, inputs, wrt, outputs, eps, atol, rtol, rng)
        else:
            _check_jacobians(fn, inputs, wrt, outputs, eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  fast_mode=False, raise_exception=True, seed=0):
    """True when the second derivatives of ``fn`` match differences of its first ones.

    ``grad_outputs`` (one per output of ``fn``) default to random float64 tensors; they are
    differentiated too, since a backward is a function of both ``x`` and ``gy``.
    """
    inputs = _as_tuple(inputs)
    wrt = _differentiable(inputs)
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape), dtype=dtypes.float64,
                                    requires_grad=True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    count = len(inputs)

    def first_derivatives(*args):
        xs, gys = args[:count], args[count:]
        outs = _as_tuple(fn(*xs))
        used = [(o, g) for o, g in zip(outs, gys) if o.requires_grad]
        if not used:
            return ()
        grads = autograd.grad([o for o, _ in used], [xs[i] for i in wrt],
                              [g for _, g in used], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps, atol, rtol, fast_mode,
                     raise_exception, seed)


# --- the two comparisons ----------------------------------------------------------------------

def _check_jacobians(fn, inputs, wrt, outputs, eps, atol, rtol):
    for i in wrt:
        numeric = _numeric_jacobian(fn, inputs, i, outputs, eps)  # per output: (out, in)
        analytic = _analytic_jacobian(inputs, i, outputs)
        for k, (num, ana) in enumerate(zip(numeric, analytic)):
            bad = ~np.isclose(ana, num, rtol=rtol, atol=atol, equal_nan=True)
            if bad.any():
                row, col = np.unravel_index(np.argmax(np.where(bad, np.abs(ana - num), -1)),
                                            num.shape)
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i} "
                    f"(shape {inputs[i].shape}): {int(bad.sum())} of {bad.size} entries differ;"
                    f" worst at output element {row}, input element {col}: "
                    f"analytic {ana[row, col]:.10g}, numeric {num[row, col]:.10g}\n"
                    f"numeric:\n{num}\nanalytic:\n{ana}")


def _check_direction(fn, inputs, wrt, outputs, eps, atol, rtol, rng):
    directions = {i: rng.standard_normal(inputs[i].shape) for i in wrt}
    cotangents = [rng.standard_normal(o.shape) for o in outputs]
    plus = _outputs(fn, _perturbed(inputs, directions, eps))
    minus = _outputs(fn, _perturbed(inputs, directions, -eps))
    numeric = sum(float(np.sum((_host(p) - _host(m)) / (2 * eps) * c))
                  for p, m, c in zip(plus, minus, cotangents))
    grads = _vjp(inputs, wrt, outputs, cotangents)
    analytic = sum(float(np.sum(g * directions[i])) for i, g in zip(wrt, grads))
    if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
        raise GradcheckError(
            f"directional derivative mismatch: analytic <t, J^T c> = {analytic:.10g}, numeric "
            f"= {numeric:.10g}\ninputs: {[_host(inputs[i]) for i in wrt]}\n"
            f"directions t: {list(directions.values())}\ncotangents c: {cotangents}")


# --- Jacobians --------------------------------------------------------------------------------

def _numeric_jacobian(fn, inputs, i, outputs, eps):
    x = _host(inputs[i])
    columns = [np.empty((o.numel(), x.size)) for o in outputs]
    for j in range(x.size):
        direction = {i: np.zeros(x.shape)}
        direction[i].flat[j] = 1.0
        plus = _outputs(fn, _perturbed(inputs, direction, eps))
        minus = _outputs(fn, _perturbed(inputs, direction, -eps))
        for jac, p, m in zip(columns, plus, minus):
            jac[:, j] = ((_host(p) - _host(m)) / (2 * eps)).ravel()
    return columns


def _analytic_jacobian(inputs, i, outputs):
    jacobians = []
    for k, out in enumerate(outputs):
        jac = np.zeros((out.numel(), inputs[i].numel()))
        for row in range(out.numel()):
            cotangents = [np.zeros(o.shape) for o in outputs]
            cotangents[k].flat[row] = 1.0
            g, = _vjp(inputs, (i,), outputs, cotangents)
            jac[row] = g.ravel()
        jacobians.append(jac)
    return jacobians


def _vjp(inputs, wrt, outputs, cotangents):
    """Gradients of ``sum_k <outputs[k], cotangents[k]>`` w.r.t. ``inputs[i]``, i in wrt."""
    used = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not used:
        return [np.zeros(inputs[i].shape) for i in wrt]
    grads = autograd.grad([o for o, _ in used], [inputs[i] for i in wrt],
                          [Tensor(c, dtype=o.dtype, device=o.device) for o, c in used],
                          retain_graph=True, allow_unused=True)
    result = []
    for i, g in zip(wrt, grads):
        if g is not None and (g.shape != inputs[i].shape or g.dtype != inputs[i].dtype):
            raise GradcheckError(
                f"the gradient for input {i} has shape {g.shape} and dtype {g.dtype}, but "
                f"the input has shape {inputs[i].shape} and dtype {inputs[i].dtype}")
        result.append(np.zeros(inputs[i].shape) if g is None else _host(g))
    return result


# --- plumbing ---------------------------------------------------------------------------------

def _host(t):
    """A tensor's values as a NumPy array: the checks do their arithmetic on the CPU."""
    return backend.to_numpy(t._data)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable(inputs):
    wrt = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype != dtypes.float64:
                raise ValueError(
                    f"gradcheck: input {i} requires grad but is {dtypes.name(x.dtype)}. "
                    "Use float64 inputs (x.double()): in float32 the rounding error of "
                    "f(x + eps) - f(x - eps) is as large as the difference being measured, "
                    "so the numeric gradient would be noise.")
            wrt.append(i)
    if not wrt:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    return wrt


def _outputs(fn, inputs):
    outputs = _as_tuple(fn(*inputs))
    for k, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {k} of fn is a {type(o).__name__}, not a Tensor")
    return outputs


def _perturbed(inputs, directions, eps):
    """``inputs`` with ``eps * directions[i]`` added to input i, as fresh leaves that still
    require grad (``gradgradcheck``'s function differentiates them inside)."""
    return tuple(
        Tensor(_host(x) + eps * directions[i], dtype=x.dtype, requires_grad=x.requires_grad,
               device=x.device)
        if i in directions else x
        for i, x in enumerate(inputs))
