"""``Module``, ``Parameter`` and the containers, with PyTorch's names and state_dict keys.

A Module holds Parameters (leaves that require grad), buffers (state saved with the model
but not trained, such as BatchNorm's running statistics) and sub-modules, found by attribute
assignment as in PyTorch: ``self.conv = Conv2d(...)`` registers a child named ``conv``.
"""
from collections import OrderedDict

from .. import backend, dtypes
from ..tensor import Tensor, array_of


class Parameter(Tensor):
    """A tensor that is a module's trainable state: a leaf that requires grad."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        array = (data._data if isinstance(data, Tensor) else
                 backend.array_module(data).asarray(data, dtypes.default_float))
        Tensor.__init__(self, array, dtype=array.dtype, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model: subclass it and write ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        for hook in self._forward_pre_hooks.values():
            hook(self, args)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before every ``forward`` (spectral norm recomputes its
        weight there). Returns a handle whose ``remove()`` unregisters the hook."""
        key = max(self._forward_pre_hooks, default=-1) + 1
        self._forward_pre_hooks[key] = hook
        return _HookHandle(self._forward_pre_hooks, key)

    # --- registration ---------------------------------------------------------------------------

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call Module.__init__() in {type(self).__name__}.__init__ "
                                 "before assigning attributes")
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, (Parameter, Module)):
            self.__dict__.pop(name, None)   # a plain value of that name would hide the entry
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table, {})
            if name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def register_buffer(self, name, tensor):
        """State saved in ``state_dict`` but not trained (``None`` keeps the name, empty)."""
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor

    def register_parameter(self, name, parameter):
        """Register ``parameter`` (or ``None``, for an absent bias) under ``name``."""
        self.__dict__.pop(name, None)
        self._parameters[name] = parameter

    # --- traversal ------------------------------------------------------------------------------

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (module for _, module in self.named_modules())

    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def _named(self, table, recurse):
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is not None:
                    yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse=True):
        return self._named("_parameters", recurse)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse=True):
        return self._named("_buffers", recurse)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse))

    def apply(self, fn):
        """Call ``fn`` on every sub-module, children first, then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients --------------------------------------------------------------------

    def train(self, mode=True):
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            p.grad = None if set_to_none or p.grad is None else p.grad * 0

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, device):
        """Move every parameter, its gradient and every buffer to ``device``, in place (the
        tensors stay the same objects, so an optimiser made before still holds them); returns
        the module, as in PyTorch."""
        device = backend.device(device)
        for module in self.modules():
            for t in (*module._parameters.values(), *module._buffers.values()):
                if t is not None:
                    t._data = backend.to_device(t._data, device)
                    if t.grad is not None:
                        t.grad = Tensor._make(backend.to_device(t.grad._data, device))
        return self

    def cuda(self):
        return self.to(backend.CUDA)

    def cpu(self):
        return self.to(backend.CPU)

    # --- state --------------------------------------------------------------------------------

    def state_dict(self):
        """Every parameter and buffer by its dotted name, as detached tensors (PyTorch's keys)."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            for table in (module._parameters, module._buffers):
                for name, value in table.items():
                    if value is not None:
                        state[f"{prefix}.{name}" if prefix else name] = value.detach()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers, checking names and shapes.

        Returns ``(missing_keys, unexpected_keys)``; with ``strict`` either being non-empty is
        an error, as is any shape mismatch.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for key, target in own.items():
            if key not in state_dict:
                continue
            array = array_of(state_dict[key])
            if array.shape != target.shape:
                raise ValueError(f"load_state_dict: {key} has shape {array.shape} in the state "
                                 f"dict but {target.shape} in the module")
            # in place, on the module's device: the module's tensors stay the same objects
            target._data[...] = backend.to_device(array, target.device)
        return missing, unexpected

    # --- description ----------------------------------------------------------------------------

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class _HookHandle:
    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


class _ModuleSequence(Module):
    """Sub-modules named "0", "1", ... in order, indexable and iterable."""

    def _append(self, module):
        setattr(self, str(len(self._modules)), module)

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent module sees."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self._append(module)

    def append(self, module):
        self._append(module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied one after the other; ``Sequential(a, b)(x) == b(a(x))``."""

    def __init__(self, *modules):
        super().__init__()
        for module in modules:
            self._append(module)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x
