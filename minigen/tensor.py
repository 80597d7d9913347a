"""The Tensor: an array, plus what autograd needs to differentiate through it.

A Tensor holds an array (``_data``) and, when it was produced by a differentiable op while
grad mode was on, the node that produced it (``grad_fn``). Leaves that ``requires_grad``
collect gradients in ``.grad``. Arithmetic and the methods below are thin calls into
``minigen.ops``; all the mathematics lives there.
"""
import numpy as np

from . import backend, dtypes


class Tensor:
    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "__weakref__")

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        if isinstance(data, Tensor):
            data = data._data
        target = backend.device_of(data) if device is None else backend.device(device)
        dtype = _infer_dtype(data) if dtype is None else dtypes.canonical(dtype)
        # always a copy, like torch.tensor; data on another device is copied across
        self._data = backend.array_module(target).array(
            backend.to_device(data, target) if backend.is_array(data) else data, dtype=dtype)
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, array):
        """Wrap an array the library just computed: no copy, no checks."""
        t = object.__new__(cls)
        t._data = array
        t._requires_grad = False
        t.grad = None
        t.grad_fn = None
        return t

    # --- autograd state ----------------------------------------------------------------------

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; use detach() to get a "
                "leaf from this result")
        if value and not dtypes.is_floating(self.dtype):
            raise RuntimeError(
                f"only floating point tensors can require gradients, not {dtypes.name(self.dtype)}")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def detach(self):
        """The same values, cut from the graph (shares memory, like PyTorch)."""
        return Tensor._make(self._data)

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        autograd.backward(self, gradient, retain_graph, create_graph)

    # --- description -------------------------------------------------------------------------

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return backend.device_of(self._data)

    @property
    def data(self):
        """The values without the graph; assigning to it replaces them (``p.data -= lr * g``
        updates a parameter outside autograd, as in PyTorch)."""
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor) or value.shape != self.shape or value.dtype != self.dtype:
            raise ValueError(f"data: expected a Tensor of shape {self.shape} and dtype "
                             f"{dtypes.name(self.dtype)}, got {value!r:.80}")
        self._data = value._data

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return self._data.size

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("numpy() of a tensor that requires grad: call detach().numpy()")
        if self.device != backend.CPU:
            raise TypeError(f"numpy() of a tensor on {self.device}: copy it to the CPU first with "
                            ".cpu().numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self.numpy() if dtype is None else self.numpy().astype(dtype)

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use "
                ".any() or .all() style reductions on its numpy() instead")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if dtypes.is_floating(self.dtype) or self.numel() != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self._data)

    __hash__ = object.__hash__  # identity, as in PyTorch, although == is elementwise

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self._data), separator=", ", precision=4, prefix="tensor(",
                               floatmode="fixed" if dtypes.is_floating(self.dtype) else "maxprec")
        extras = []
        if self.dtype not in (dtypes.default_float, dtypes.int64, dtypes.bool_):
            extras.append(f"dtype={dtypes.name(self.dtype)}")
        if self.device != backend.CPU:
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # --- conversion --------------------------------------------------------------------------

    def to(self, dtype_or_device=None, dtype=None, device=None):
        """``to(dtype)`` casts, ``to('cuda')`` / ``to('cpu')`` copies to that device (itself when
        it is there already), ``to(device, dtype)`` does both; all differentiably, as in PyTorch."""
        if isinstance(dtype_or_device, (str, backend.Device)):
            device = dtype_or_device
        elif dtype_or_device is not None:
            dtype = dtype_or_device
        out = self if device is None else ops.to_device(self, device)
        return out if dtype is None else ops.cast(out, dtype)

    def cuda(self):
        return self.to(backend.CUDA)

    def cpu(self):
        return self.to(backend.CPU)

    def float(self):
        return ops.cast(self, dtypes.float32)

    def double(self):
        return ops.cast(self, dtypes.float64)

    def long(self):
        return ops.cast(self, dtypes.int64)

    # --- arithmetic --------------------------------------------------------------------------

    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __abs__(self):
        return ops.abs(self)

    # Comparisons give bool tensors and no gradient.
    def __lt__(self, other):
        return ops.lt(self, other)

    def __le__(self, other):
        return ops.le(self, other)

    def __gt__(self, other):
        return ops.gt(self, other)

    def __ge__(self, other):
        return ops.ge(self, other)

    def __eq__(self, other):
        return ops.eq(self, other)

    def __ne__(self, other):
        return ops.ne(self, other)

    def __getitem__(self, key):
        return ops.index(self, key)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # --- methods mirroring the functional ops --------------------------------------------------

    def add(self, other):
        return ops.add(self, other)

    def sub(self, other):
        return ops.sub(self, other)

    def mul(self, other):
        return ops.mul(self, other)

    def div(self, other):
        return ops.div(self, other)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def neg(self):
        return ops.neg(self)

    def matmul(self, other):
        return ops.matmul(self, other)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)

    def clamp(self, min=None, max=None):
        return ops.clamp(self, min, max)

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    def sum(self, dim=None, keepdim=False):
        return ops.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.mean(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return ops.max(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.var(self, dim, unbiased, keepdim, correction=correction)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def view(self, *shape):
        return ops.reshape(self, *shape)

    def transpose(self, dim0, dim1):
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return ops.permute(self, *dims)

    @property
    def T(self):
        return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        return ops.transpose(self, -2, -1)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        return ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def expand(self, *sizes):
        return ops.expand(self, *sizes)


def array_of(value):
    """The array behind a state dict's value: a Tensor's own array, an array of either device as
    it is, anything else (a list, a number) as a NumPy array."""
    if isinstance(value, Tensor):
        return value._data
    return value if backend.is_array(value) else np.asarray(value)


def _infer_dtype(data):
    """What ``tensor(data)`` infers, as torch does: an array keeps its dtype; Python floats
    become the default float dtype (float32), ints int64, bools bool."""
    if hasattr(data, "dtype"):
        return dtypes.canonical(data.dtype)
    inferred = np.asarray(data).dtype
    return dtypes.default_float if inferred.kind == "f" else dtypes.canonical(inferred)


from . import autograd, ops  # noqa: E402  (both need the Tensor class defined above)
