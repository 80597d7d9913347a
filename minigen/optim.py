"""Optimisers: ``SGD``, ``Adam`` and ``RMSprop`` with PyTorch's update rules, names and defaults.

An optimiser holds ``param_groups`` (lists of parameters, each group with its own options) and
``state`` (per parameter, the running averages its rule keeps, under PyTorch's names). ``step()``
reads each parameter's ``.grad`` and updates the parameter's array in place: models hold their
Parameters, so those objects and their arrays must stay the same. No autograd graph is built:
the update works on the arrays directly, following PyTorch's single-tensor implementations
operation by operation (eps where torch adds it, torch's lerp) so that the numbers agree with
PyTorch's to rounding. Adam, which every model but the WGAN trains with, is one compiled kernel
(a single pass over memory); SGD and RMSprop are NumPy (on the GPU, CuPy) operations in place or
with ``out=`` into one scratch array per parameter. The state lives on its parameter's device.

``state_dict()`` gives PyTorch's format: parameters are numbered in order across the groups,
``{"state": {0: {"step": 3, "exp_avg": Tensor, ...}, ...}, "param_groups": [{"lr": ..., "params":
[0, 1]}, ...]}``, built from Tensors, numbers, tuples and lists only, so a checkpoint can store it
as arrays plus JSON. ``load_state_dict`` checks it against this optimiser before changing anything.
"""
import numbers
from collections import defaultdict

from . import autograd, backend, dtypes
from .tensor import Tensor, array_of

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop"]


class Optimizer:
    """Base class: parameter groups, state, ``step``, ``zero_grad`` and the state dict.

    A subclass passes its options' defaults to ``__init__`` and writes ``_update`` (one step of
    its rule for one parameter) and ``_state_names`` (the per-parameter state it keeps).
    """

    _nonnegative = ("lr", "weight_decay")  # options that must be numbers >= 0

    def __init__(self, params, defaults):
        self.defaults = _options(defaults)
        self._check_options(self.defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts, "
                            "got a single Tensor; pass [tensor]")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    # --- parameter groups ---------------------------------------------------------------------

    def add_param_group(self, param_group):
        """Add a dict with a "params" entry and any options that differ from the defaults."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{self._name}: a param group must be a dict with a 'params' entry, "
                            f"got {param_group!r:.80}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: params must be in an ordered collection such as a list, "
                            "not a set: state_dict numbers the parameters in order")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor) or not dtypes.is_floating(p.dtype):
                got = f"dtype {dtypes.name(p.dtype)}" if isinstance(p, Tensor) else type(p).__name__
                raise TypeError(f"{self._name} can only optimize floating-point Tensors, got {got}")
            if not p.is_leaf:
                raise ValueError(f"{self._name} can't optimize a non-leaf Tensor; pass leaves "
                                 "(Parameters, or detach() the tensor)")
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{self._name} has no option {sorted(unknown)}; its options are "
                             f"{sorted(self.defaults)}")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for p in params:
            if id(p) in seen:
                raise ValueError(f"{self._name}: a parameter of shape {p.shape} is given more than "
                                 "once; each parameter may appear once, in one group")
            seen.add(id(p))
        group = {**self.defaults, **_options(param_group), "params": params}
        self._check_options(group)
        self.param_groups.append(group)

    def _check_options(self, options):
        """Raise ValueError naming an option out of its range (the checks torch makes)."""
        for key in self._nonnegative:
            value = options[key]
            if not isinstance(value, numbers.Real) or not value >= 0:  # `not >=` also catches NaN
                raise ValueError(f"{self._name}: {key} must be a number >= 0, got {value!r}")

    # --- the update -------------------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set them to None, or to new zero tensors.

        Zeros are new tensors rather than the old ones zeroed in place, because a gradient may
        share memory with other tensors (autograd hands the same gradient to several leaves).
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad = None if set_to_none else Tensor._make(
                        backend.array_module(p.grad._data).zeros(p.grad.shape, p.grad.dtype))

    def step(self, closure=None):
        """Update every parameter that has a gradient; ``closure`` (optional) recomputes the loss
        and its value is returned, as in torch."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.shape != p.shape:
                    raise ValueError(f"{self._name}.step: a parameter of shape {p.shape} has a "
                                     f"gradient of shape {p.grad.shape}")
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p._data, group))
                self._update(p._data, _effective_grad(p, group), state, group)
        return loss

    def _state_names(self, group):
        """The names of the per-parameter state kept under ``group``'s options, in torch's order."""
        raise NotImplementedError

    def _init_state(self, param, group):
        """A parameter's state before its first step: a step count of 0 and zero arrays."""
        xp = backend.array_module(param)
        return {name: 0 if name == "step" else xp.zeros(param.shape, param.dtype)   # C-contiguous
                for name in self._state_names(group)}

    def _update(self, param, grad, state, group):
        """One step of the rule: update the array ``param`` and the arrays in ``state`` in place.

        ``grad`` already includes maximize and weight decay and must not be written to.
        """
        raise NotImplementedError

    # --- state dict -------------------------------------------------------------------------

    def state_dict(self):
        """A copy of the state in torch's format (see the module docstring)."""
        state, groups, index = {}, [], 0
        for group in self.param_groups:
            ids = list(range(index, index + len(group["params"])))
            for i, p in zip(ids, group["params"]):
                if self.state.get(p):
                    state[i] = {k: Tensor._make(v.copy()) if backend.is_array(v) else v
                                for k, v in self.state[p].items()}
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
            index += len(ids)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take the state and the groups' options from ``state_dict``, keeping this optimizer's
        parameters (matched by position, as in torch).

        State arrays may be Tensors or NumPy arrays; after a trip through JSON, parameter numbers
        may be strings and tuples lists. Everything is checked before anything changes, so a
        state dict that does not fit raises ValueError and leaves the optimizer as it was.
        """
        missing = {"state", "param_groups"} - set(state_dict)
        if missing:
            raise ValueError(f"{self._name}.load_state_dict: the state dict has no {sorted(missing)}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{self._name}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter groups, this optimizer has {len(self.param_groups)}")
        groups, owner = [], {}  # owner: saved parameter number -> (parameter, its new group)
        for i, (saved, current) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(current["params"]):
                raise ValueError(f"{self._name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict, "
                                 f"{len(current['params'])} in this optimizer")
            options = _options(saved)
            if set(options) != set(self.defaults):
                raise ValueError(f"{self._name}.load_state_dict: parameter group {i} has options "
                                 f"{sorted(options)}, {self._name} has {sorted(self.defaults)}")
            self._check_options(options)
            groups.append({**options, "params": current["params"]})
            owner.update((int(n), (p, groups[-1])) for n, p in zip(saved["params"], current["params"]))
        state = defaultdict(dict)
        for key, saved in state_dict["state"].items():
            if int(key) not in owner:
                raise ValueError(f"{self._name}.load_state_dict: the state dict has state for "
                                 f"parameter {key}, which no parameter group lists")
            p, group = owner[int(key)]
            names = self._state_names(group)
            if saved and set(saved) != set(names):
                raise ValueError(f"{self._name}.load_state_dict: parameter {key} has state "
                                 f"{sorted(saved)}, {self._name} with these options keeps {list(names)}")
            state[p] = {name: self._loaded(p, key, name, saved[name]) for name in names if saved}
        self.param_groups, self.state = groups, state

    def _loaded(self, p, key, name, value):
        """A state value from a state dict, as step() keeps it: an int, or an array like ``p``."""
        if name == "step":
            return int(value)
        array = array_of(value)
        if array.shape != p.shape:
            raise ValueError(f"{self._name}.load_state_dict: {name!r} of parameter {key} has shape "
                             f"{array.shape} in the state dict, the parameter has shape {p.shape}")
        # a copy on the parameter's device: later steps leave the dict alone
        return backend.array_module(p._data).array(backend.to_device(array, p.device), dtype=p.dtype,
                                                   order="C")

    def __repr__(self):
        lines = [self._name + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"


def _refuse_what_changes_the_step(optimizer, **flags):
    """PyTorch's implementation switches: ``foreach`` and ``fused`` choose how the same step is
    computed (minigen has one way, so they are accepted and change nothing); these change what
    is computed, or need CUDA graphs, and are refused unless off."""
    for name, value in flags.items():
        if value:
            raise ValueError(f"{optimizer}: {name}=True is not supported")


def _options(group):
    """A group's options without its parameters, with lists (JSON's tuples) made tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in group.items() if k != "params"}


def _effective_grad(p, group):
    """The gradient the rule sees: negated to maximize, plus weight_decay * param (L2).

    ``p.grad`` itself is never modified; a new array is made only when one of the two applies.
    """
    grad = p.grad._data
    xp = backend.array_module(grad)
    if group["weight_decay"] != 0:
        decayed = xp.multiply(p._data, group["weight_decay"], out=xp.empty_like(p._data))  # 0-d too
        combine = xp.subtract if group["maximize"] else xp.add
        return combine(decayed, grad, out=decayed)
    return xp.negative(grad) if group["maximize"] else grad


def _lerp_(start, end, weight, scratch):
    """``start += weight * (end - start)`` in place, in torch's two forms (exact at weights 0 and 1)."""
    xp = backend.array_module(start)
    xp.subtract(end, start, out=scratch)
    if weight < 0.5:
        scratch *= weight
        start += scratch
    else:
        scratch *= 1 - weight
        xp.subtract(end, scratch, out=start)


def _average_square_(average, grad, decay, scratch):
    """``average = decay * average + (1 - decay) * grad**2`` in place (Adam's and RMSprop's)."""
    xp = backend.array_module(average)
    average *= decay
    xp.multiply(grad, 1 - decay, out=scratch)
    scratch *= grad
    average += scratch


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov) and L2 decay."""

    _nonnegative = ("lr", "momentum", "weight_decay")

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _refuse_what_changes_the_step("SGD", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def _check_options(self, options):
        super()._check_options(options)
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("SGD: nesterov=True requires a momentum > 0 and dampening = 0, got "
                             f"momentum={options['momentum']!r}, dampening={options['dampening']!r}")

    def _state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _init_state(self, param, group):
        return {}  # torch starts the momentum buffer as a copy of the first gradient, not zeros

    def _update(self, param, grad, state, group):
        xp = backend.array_module(param)
        scratch = xp.empty_like(param)
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = xp.array(grad, dtype=param.dtype)
            else:
                buf *= momentum
                buf += xp.multiply(grad, 1 - group["dampening"], out=scratch)
            if group["nesterov"]:
                grad = xp.add(grad, xp.multiply(buf, momentum, out=scratch), out=scratch)
            else:
                grad = buf
        param -= xp.multiply(grad, group["lr"], out=scratch)


class Adam(Optimizer):
    """Adam: steps by bias-corrected averages of the gradient and of its square; optional AMSGrad."""

    _nonnegative = ("lr", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _refuse_what_changes_the_step("Adam", capturable=capturable, differentiable=differentiable,
                                      decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_options(self, options):
        super()._check_options(options)
        betas = options["betas"]
        if not (isinstance(betas, tuple) and len(betas) == 2
                and all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas!r}")

    def _state_names(self, group):
        return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def _update(self, param, grad, state, group):
        # One pass of a compiled kernel (csrc/cpu/optim.cc) with torch's arithmetic, where NumPy
        # would make a dozen passes over the parameter's memory.
        beta1, beta2 = group["betas"]
        state["step"] += 1
        backend.kernels(param).adam_step(param, grad, state["exp_avg"], state["exp_avg_sq"],
                                         state.get("max_exp_avg_sq"), state["step"], group["lr"],
                                         beta1, beta2, group["eps"])


class RMSprop(Optimizer):
    """RMSprop: divides the gradient by a running root mean square; optional momentum and centring."""

    _nonnegative = ("lr", "alpha", "eps", "weight_decay", "momentum")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _refuse_what_changes_the_step("RMSprop", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _state_names(self, group):
        return (("step", "square_avg") + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update(self, param, grad, state, group):
        xp = backend.array_module(param)
        scratch = xp.empty_like(param)
        alpha = group["alpha"]
        state["step"] += 1
        _average_square_(state["square_avg"], grad, alpha, scratch)
        if group["centered"]:  # divide by the standard deviation rather than the root mean square
            _lerp_(state["grad_avg"], grad, 1 - alpha, scratch)
            xp.multiply(state["grad_avg"], state["grad_avg"], out=scratch)
            avg = xp.sqrt(xp.subtract(state["square_avg"], scratch, out=scratch), out=scratch)
        else:
            avg = xp.sqrt(state["square_avg"], out=scratch)
        avg += group["eps"]
        step = xp.divide(grad, avg, out=scratch)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += step
            step = xp.multiply(buf, group["lr"], out=scratch)
        else:
            step *= group["lr"]
        param -= step
