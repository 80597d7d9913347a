"""Every function of minigen._C called with bad arguments, drawn by hypothesis.

Each example builds one valid call from SPECS (consistent shapes with sizes 0, 1 and odd ones,
float32 or float64), applies up to three MUTATIONS to it (a wrong ndim or dimension, a zero-size
or huge dimension, a wrong dtype, a non-contiguous, read-only or misaligned array, an output that
is or overlaps another argument, a bad stride / padding / dilation / groups / step / thread count,
a non-array, an unknown impl) and holds the call to one rule (`check`):
- it raises TypeError (pybind11's answer to an argument of the wrong Python type), or ValueError
  whose message starts with the op's name and names an argument the mutations touched; or
- it returns, and then the call was a valid one (every array float32 or float64 alike, shapes
  that fit, hyper-parameters in range: `Spec.valid`, written here independently of the bindings),
  its outputs equal bit for bit those of the same call on clean copies (fresh, C-contiguous,
  writeable, separate arrays), and the inputs no output shares memory with are unchanged.
A crash (segfault, abort) ends the run: develop with `python3 -X faulthandler -m pytest`.
"""
import os
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from minigen import _C

from helpers import CPU_ISAS

# A kernel test module: scripts/sanitize.py and CI's pass on the AVX2 micro-kernels run these.
pytestmark = pytest.mark.kernels

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
MAX_THREADS = max(256, os.cpu_count() or 1)  # what set_num_threads takes (csrc/bind.cc)
IMPLS = ("ref", "fast")


# --- valid calls ------------------------------------------------------------------------------


def values(rng, shape, dtype):
    """Values in [0, 1): valid everywhere (probabilities for bce_fwd, variances, Adam's v)."""
    return rng.random(shape).astype(dtype)


@dataclass
class Spec:
    """One function of _C: how to draw a valid call and how to tell one."""

    build: Callable  # (draw, rng, dtype) -> kwargs of a valid call
    outputs: tuple  # the array arguments the function writes (some also read)
    valid: Callable = lambda kw: True  # whether shapes and hyper-parameters fit (dtypes aside)
    bad_params: dict = None  # name -> strategy of wrong (or odd) values for a non-array argument

    def arrays(self, kw):
        return [k for k, v in kw.items() if isinstance(v, np.ndarray)]


small = st.integers(0, 5)
shapes = st.lists(small, max_size=3).map(tuple)
impls = st.sampled_from(IMPLS)
finite = st.floats(-3, 3)
odd_floats = st.sampled_from([float("nan"), float("inf"), -1e300, 0.0, "0.1", None])
bad_impls = st.sampled_from(["REF", "", "fast ", "simd", None, 1])
huge_ints = [2**31 - 1, 2**31, 2**63, -(2**31), -(2**63) - 1]


def same_shapes(*names):
    return lambda kw: len({kw[n].shape for n in names}) == 1


def elementwise(ins, outs, **scalars):
    """A Spec for an op on arrays of one shape: inputs `ins`, outputs `outs`."""

    def build(draw, rng, dtype):
        shape = draw(shapes)
        kw = {n: values(rng, shape, dtype) for n in ins + outs}
        kw.update({n: draw(s) for n, s in scalars.items()})
        kw["impl"] = draw(impls)
        return kw

    bad = {n: odd_floats for n in scalars} | {"impl": bad_impls}
    return Spec(build, tuple(outs), same_shapes(*ins, *outs), bad)


def penalty_fwd(draw, rng, dtype):
    return dict(grads=values(rng, (draw(small), draw(small)), dtype), target=draw(finite),
                out=values(rng, (), dtype), impl=draw(impls))


def penalty_bwd(draw, rng, dtype):
    grads = values(rng, (draw(small), draw(small)), dtype)
    return dict(grads=grads, target=draw(finite), grad_out=draw(finite),
                grad_in=values(rng, grads.shape, dtype), impl=draw(impls))


def norm_valid(big, small_):
    def valid(kw):
        x = kw["x"]
        return (x.ndim == 3 and all(kw[n].shape == x.shape for n in big)
                and all(kw[n].shape == x.shape[1:2] for n in small_))
    return valid


def norm_fwd(draw, rng, dtype):
    x_shape = (draw(small), draw(small), draw(small))
    c = (x_shape[1],)
    return dict(x=values(rng, x_shape, dtype), weight=values(rng, c, dtype),
                bias=values(rng, c, dtype), eps=1e-5, y=values(rng, x_shape, dtype),
                mean=values(rng, c, dtype), var=values(rng, c, dtype), impl=draw(impls))


def norm_bwd(draw, rng, dtype):
    x_shape = (draw(small), draw(small), draw(small))
    c = (x_shape[1],)
    return dict(x=values(rng, x_shape, dtype), grad_out=values(rng, x_shape, dtype),
                weight=values(rng, c, dtype), mean=values(rng, c, dtype),
                var=values(rng, c, dtype), eps=1e-5, grad_in=values(rng, x_shape, dtype),
                grad_weight=values(rng, c, dtype), grad_bias=values(rng, c, dtype),
                impl=draw(impls))


# Convolutions: the names of the three arrays in their forward roles (input, weight, output),
# and the one written.
CONV_ROLES = {
    "conv2d_fwd": (("x", "w", "y"), "y"),
    "conv2d_bwd_input": (("gx", "w", "gy"), "gx"),
    "conv2d_bwd_weight": (("x", "gw", "gy"), "gw"),
}


def conv_out_size(size, k, stride, pad, dil):
    """conv2d's output size, or None where no window fits."""
    span = dil * (k - 1) + 1
    return None if span > size + 2 * pad else (size + 2 * pad - span) // stride + 1


def conv_shapes(draw):
    """(x shape, w shape, y shape, hyper-parameters) of a valid conv2d, sizes 0 to 5."""
    # one draw of many numbers: each st.data() draw costs about 0.7 ms, a tuple's part 0.1 ms
    ints = lambda lo, hi, count=2: st.tuples(*[st.integers(lo, hi)] * count)  # noqa: E731
    (groups, c_in, c_out, n), stride, pad, dil, k, extra = draw(st.tuples(
        st.tuples(st.integers(1, 3), st.integers(0, 2), st.integers(0, 2), small),
        ints(1, 3), ints(0, 3), ints(1, 3), ints(1, 3), ints(0, 3)))
    c_in, c_out = groups * c_in, groups * c_out
    # the smallest input a window fits in, and up to 3 more
    size = [max(0, d * (kk - 1) + 1 - 2 * p) + e for kk, p, d, e in zip(k, pad, dil, extra)]
    out = [conv_out_size(*a) for a in zip(size, k, stride, pad, dil)]
    params = dict(stride=stride, padding=pad, dilation=dil, groups=groups)
    return (n, c_in, *size), (c_out, c_in // groups, *k), (n, c_out, *out), params


def conv_valid(name):
    def valid(kw):
        x, w, y = (kw[r] for r in CONV_ROLES[name][0])
        s, p, d, g = kw["stride"], kw["padding"], kw["dilation"], kw["groups"]
        if not (x.ndim == w.ndim == y.ndim == 4 and min(s + d + (g,)) >= 1 and min(p) >= 0):
            return False
        n, c_in, h, wd = x.shape
        c_out, c_g, kh, kw_ = w.shape
        out = [conv_out_size(*a) for a in zip((h, wd), (kh, kw_), s, p, d)]
        return (c_in % g == 0 and c_out % g == 0 and c_g == c_in // g and None not in out
                and y.shape == (n, c_out, *out))
    return valid


def conv(name):
    def build(draw, rng, dtype):
        *shapes_, params = conv_shapes(draw)
        kw = {r: values(rng, s, dtype) for r, s in zip(CONV_ROLES[name][0], shapes_)}
        return kw | params | {"impl": draw(impls)}

    pair = st.tuples(st.sampled_from([0, -1, 1, 2, 5, *huge_ints]), st.sampled_from([0, 1, 3]))
    odd_pair = st.one_of(pair, pair.map(lambda p: p[::-1]),
                         st.sampled_from([3, (1, 1, 1), None, (1.0, 1.0)]))
    bad = dict(stride=odd_pair, padding=odd_pair, dilation=odd_pair,
               groups=st.sampled_from([0, -1, 2, 3, 4, *huge_ints, 1.0]), impl=bad_impls)
    return Spec(build, (CONV_ROLES[name][1],), conv_valid(name), bad)


def gemm_build(draw, rng, dtype):
    m, n, k, trans_a, trans_b, impl = draw(st.tuples(small, small, small, st.booleans(),
                                                     st.booleans(), impls))
    return dict(a=values(rng, (k, m) if trans_a else (m, k), dtype),
                b=values(rng, (n, k) if trans_b else (k, n), dtype),
                c=values(rng, (m, n), dtype), trans_a=trans_a, trans_b=trans_b,
                alpha=draw(finite), beta=draw(st.sampled_from([0.0, 1.0, -0.5])), impl=impl,
                isa="auto" if impl == "ref" else draw(st.sampled_from(["auto", "portable"])))


def gemm_valid(kw):
    a, b, c = kw["a"], kw["b"], kw["c"]
    if not a.ndim == b.ndim == c.ndim == 2:
        return False
    (m, k), (kb, n) = a.shape[::-1 if kw["trans_a"] else 1], b.shape[::-1 if kw["trans_b"] else 1]
    # (an ISA the CPU lacks raises, so any that returns is supported)
    isa_ok = kw["isa"] == "auto" or (kw["isa"] in ("avx512", "avx2", "portable")
                                     and kw["impl"] == "fast")
    return k == kb and c.shape == (m, n) and isa_ok


def adam_build(draw, rng, dtype):
    shape = draw(shapes)
    kw = {n: values(rng, shape, dtype) for n in ("param", "grad", "exp_avg", "exp_avg_sq")}
    kw["max_exp_avg_sq"] = values(rng, shape, dtype) if draw(st.booleans()) else None
    return kw | dict(step=draw(st.integers(1, 100)), lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                     impl=draw(impls))


def adam_valid(kw):
    arrays = [kw[n] for n in ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
              if kw[n] is not None]
    return len({a.shape for a in arrays}) == 1 and kw["step"] >= 1


def threads_build(draw, rng, dtype):
    return dict(n=draw(st.integers(1, 3)))


def isa_build(draw, rng, dtype):
    return dict(isa=draw(st.sampled_from(["auto", *CPU_ISAS])))


SPECS = {
    "leaky_relu_fwd": elementwise(["x"], ["out"], negative_slope=finite),
    "leaky_relu_bwd": elementwise(["x", "grad_out"], ["grad_in"], negative_slope=finite),
    "bce_fwd": elementwise(["input", "target"], ["out"]),
    "bce_bwd": elementwise(["input", "target", "grad_out"], ["grad_in"]),
    "bce_logits_fwd": elementwise(["logits", "target"], ["out"]),
    "bce_logits_bwd": elementwise(["logits", "target", "grad_out"], ["grad_in"]),
    "gradient_penalty_fwd": Spec(
        penalty_fwd, ("out",), lambda kw: kw["grads"].ndim == 2 and kw["out"].ndim == 0,
        dict(target=odd_floats, impl=bad_impls)),
    "gradient_penalty_bwd": Spec(
        penalty_bwd, ("grad_in",),
        lambda kw: kw["grads"].ndim == 2 and kw["grad_in"].shape == kw["grads"].shape,
        dict(target=odd_floats, grad_out=odd_floats, impl=bad_impls)),
    "batch_norm_fwd": Spec(norm_fwd, ("y", "mean", "var"),
                           norm_valid(["y"], ["weight", "bias", "mean", "var"]),
                           dict(eps=odd_floats, impl=bad_impls)),
    "batch_norm_bwd": Spec(norm_bwd, ("grad_in", "grad_weight", "grad_bias"),
                           norm_valid(["grad_out", "grad_in"],
                                      ["weight", "mean", "var", "grad_weight", "grad_bias"]),
                           dict(eps=odd_floats, impl=bad_impls)),
    **{name: conv(name) for name in CONV_ROLES},
    "gemm": Spec(gemm_build, ("c",), gemm_valid,
                 dict(trans_a=st.sampled_from([None, 2, "yes"]), alpha=odd_floats,
                      beta=odd_floats, impl=bad_impls,
                      isa=st.sampled_from(["avx1024", "", "AVX2", "avx2", "avx512", None]))),
    "adam_step": Spec(adam_build, ("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
                      adam_valid,
                      dict(step=st.sampled_from([0, -1, 2**62, *huge_ints, 1.5]),
                           lr=odd_floats, beta1=odd_floats, eps=odd_floats, impl=bad_impls)),
    "set_num_threads": Spec(threads_build, (), lambda kw: 1 <= kw["n"] <= MAX_THREADS,
                            dict(n=st.sampled_from([0, -1, 257, 100_000, *huge_ints, 1.5,
                                                    None]))),
    "get_num_threads": Spec(lambda draw, rng, dtype: {}, (), bad_params={}),
    "set_cpu_isa": Spec(isa_build, (), lambda kw: kw["isa"] in ["auto", *CPU_ISAS],
                        dict(isa=st.sampled_from(["avx1024", "", "AVX2", "avx2", "avx512", None]))),
    "get_cpu_isa": Spec(lambda draw, rng, dtype: {}, (), bad_params={}),
}


# The functions of _C that are settings of the CPU kernels, not kernels (_cuda has none of them).
SETTINGS = {"set_num_threads", "get_num_threads", "set_cpu_isa", "get_cpu_isa"}


# --- mutations: each changes kw in place and returns the names of the arguments it touched -----

HUGE = [2**29, 2**33, 2**40, 2**50]
BAD_DTYPES = ["int32", "int64", "float16", "complex128", "bool", "object", ">f4", ">f8"]


MAX_COPY = 1_000_000  # elements: an array past this is a huge view, never copied


def pick_array(draw, spec, kw, names=None):
    """One of the array arguments `names` (default: all) that huge_dim has not made huge."""
    names = sorted(n for n in (names if names is not None else spec.arrays(kw))
                   if np.prod([max(d, 1) for d in kw[n].shape]) <= MAX_COPY)
    return draw(st.sampled_from(names)) if names else None


def change_ndim(draw, rng, spec, kw):
    """One axis more (of size 1), or the last two merged into one."""
    name = pick_array(draw, spec, kw)
    if name is None:
        return set()
    a = kw[name]
    if a.ndim >= 2 and draw(st.booleans()):
        kw[name] = a.reshape(a.shape[:-2] + (a.shape[-2] * a.shape[-1],))
    else:
        kw[name] = a.reshape((1,) + a.shape if draw(st.booleans()) else a.shape + (1,))
    return {name}


def change_dim(draw, rng, spec, kw):
    """One dimension of one array to 0, 1, 2, 3 or 7 (maybe the size it had)."""
    name = pick_array(draw, spec, kw, [n for n in spec.arrays(kw) if kw[n].ndim > 0])
    if name is None:
        return set()
    shape = [min(d, 7) for d in kw[name].shape]  # (after huge_dim: a small array again)
    shape[draw(st.integers(0, len(shape) - 1))] = draw(st.sampled_from([0, 1, 2, 3, 7]))
    kw[name] = values(rng, shape, kw[name].dtype)
    return {name}


def huge_dim(draw, rng, spec, kw):
    """A dimension of 2**29 to 2**50: in a zero-size array, or a zero-stride view of one value
    (neither holds more than a few bytes)."""
    name = pick_array(draw, spec, kw)
    if name is None:
        return set()
    a, big = kw[name], draw(st.sampled_from(HUGE))
    shape = [min(d, 7) for d in a.shape] + [1] * (2 - a.ndim)  # (a huge one already: small)
    i, j = draw(st.permutations(range(len(shape))))[:2]
    shape[i] = big
    if draw(st.booleans()):
        shape[j] = 0
        kw[name] = np.empty(shape, a.dtype)
    else:
        kw[name] = np.lib.stride_tricks.as_strided(np.zeros(1, a.dtype), shape, [0] * len(shape))
    return {name}


def wrong_dtype(draw, rng, spec, kw):
    """Any other dtype, the other float among them."""
    name = pick_array(draw, spec, kw)
    if name is None:
        return set()
    a = kw[name]
    other = np.float64 if a.dtype == np.float32 else np.float32
    kw[name] = values(rng, a.shape, draw(st.sampled_from([other, *BAD_DTYPES])))
    return {name}


def strided(a):
    buf = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    buf[..., ::2] = a
    return buf[..., ::2]


def misaligned(a):
    view = np.frombuffer(bytearray(a.nbytes + 1), a.dtype, a.size, offset=1).reshape(a.shape)
    view[...] = a
    return view


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


# The same values (or, for the zero-stride view, its first row repeated) in another layout; each
# works on arrays of at least one dimension, of any dtype (misaligned: no object arrays).
LAYOUTS = {
    "strided": strided,
    "fortran": np.asfortranarray,
    "reversed": lambda a: np.flip(np.flip(a, 0).copy(), 0),
    "zero stride": lambda a: np.lib.stride_tricks.as_strided(a, a.shape, (0,) + a.strides[1:]),
    "misaligned": misaligned,
    "read-only": read_only,
}


def other_layout(draw, rng, spec, kw):
    name = pick_array(draw, spec, kw)
    if name is None:
        return set()
    a = kw[name]
    layout = draw(st.sampled_from(sorted(LAYOUTS)))
    if a.ndim == 0 and layout != "read-only" or a.dtype.hasobject and layout == "misaligned":
        layout = "read-only"
    kw[name] = LAYOUTS[layout](a)
    return {name}


def alias(draw, rng, spec, kw):
    """An output made another array argument itself, or a view of the same buffer that starts
    `shift` elements after it (0: the same start, maybe a different size)."""
    out = pick_array(draw, spec, kw, [n for n in spec.outputs if isinstance(kw.get(n), np.ndarray)])
    other = out and pick_array(draw, spec, kw, [n for n in spec.arrays(kw) if n != out])
    if other is None:
        return set()
    a, b = kw[other], kw[out]
    if draw(st.booleans()) or a.dtype != b.dtype:
        kw[out] = a
    else:
        shift = draw(st.integers(0, max(a.size - 1, 0)))
        buf = np.empty(max(a.size, shift + b.size), a.dtype)
        kw[out] = buf[shift:shift + b.size].reshape(b.shape)
        kw[out][...] = b
        kw[other] = buf[:a.size].reshape(a.shape)
        kw[other][...] = a  # the input keeps its values; the output's may change (gemm's c)
    return {out, other}


def bad_param(draw, rng, spec, kw):
    if not spec.bad_params:
        return set()
    name = draw(st.sampled_from(sorted(spec.bad_params)))
    kw[name] = draw(spec.bad_params[name])
    return {name}


def not_an_array(draw, rng, spec, kw):
    name = pick_array(draw, spec, kw)
    if name is None:
        return set()
    kw[name] = draw(st.sampled_from([kw[name].tolist(), None, 1.0, "x", kw[name].dtype.type(0)]))
    return {name}


def unknown_keyword(draw, rng, spec, kw):
    kw["bogus"] = 1
    return {"bogus"}


MUTATIONS = [change_ndim, change_dim, huge_dim, wrong_dtype, other_layout, alias, bad_param,
             not_an_array, unknown_keyword]


# --- the rule every call is held to ------------------------------------------------------------

TOO_BIG = object()  # stands for a clean copy of an array too large to make (a huge view)


def clean_copy(v):
    """A fresh, C-contiguous, aligned, writeable copy of an array; anything else as it is."""
    if not isinstance(v, np.ndarray):
        return v
    return TOO_BIG if v.size > MAX_COPY else np.array(v, order="C", copy=True)


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def check(name, kw, touched, array_names):
    """Call _C.`name`(**kw): it must raise TypeError, raise ValueError naming the op and one of
    the `touched` arguments, or return the result the same call gives on clean copies."""
    spec, fn = SPECS[name], getattr(_C, name)
    clean = {k: clean_copy(v) for k, v in kw.items()}
    try:
        result = fn(**kw)
    except TypeError:
        event("TypeError")  # (pytest --hypothesis-show-statistics counts the outcomes)
        return
    except ValueError as e:
        event("ValueError")
        message = str(e)
        assert message.startswith(name + ": "), message
        assert any(re.search(rf"\b{re.escape(n)}\b", message) for n in touched), (message, touched)
        return
    event("returned")
    # It returned: the call must have been a valid one ...
    for n in array_names:
        assert isinstance(kw[n], np.ndarray) or n == "max_exp_avg_sq" and kw[n] is None, n
        assert clean[n] is not TOO_BIG, f"{n} of shape {kw[n].shape} accepted"
    dtypes = {kw[n].dtype for n in array_names if kw[n] is not None}
    assert len(dtypes) <= 1 and dtypes <= set(FLOATS), dtypes
    assert kw.get("impl", "ref") in IMPLS, kw["impl"]
    assert spec.valid(kw), {n: getattr(v, "shape", v) for n, v in kw.items()}
    # ... with the result the same call gives on clean copies, its inputs left as they were.
    expected = fn(**clean)
    assert result == expected
    for n in spec.outputs:
        if kw.get(n) is not None:
            assert same_bits(kw[n], clean[n]), n
    written = [kw[n] for n in spec.outputs if kw.get(n) is not None]
    for n in array_names:
        if n not in spec.outputs and not any(np.shares_memory(kw[n], w) for w in written):
            assert same_bits(kw[n], clean[n]), f"input {n} changed"
    if name == "set_num_threads":  # the count must work, not only be stored
        assert _C.get_num_threads() == kw["n"]
        x = np.ones(100_000)  # past the kernel's threshold for threads (csrc/cpu/activation.cc)
        _C.leaky_relu_fwd(x, x, 0.5, "fast")
    if name == "set_cpu_isa":  # the limit must take effect: the GEMM runs at most that wide
        assert _C.get_cpu_isa() == (CPU_ISAS[0] if kw["isa"] == "auto" else kw["isa"])


def mutated_call(name, draw):
    """A valid call of _C.`name` with 1-3 mutations: (its kwargs, the arguments the mutations
    touched, the names of its array arguments). test_cuda_bindings makes the same calls."""
    spec = SPECS[name]
    dtype = draw(st.sampled_from(FLOATS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kw = spec.build(draw, rng, dtype)
    array_names = spec.arrays(kw) + (["max_exp_avg_sq"] if name == "adam_step" else [])
    touched = set()
    # (valid calls alone are the kernel tests' business: at least one mutation)
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        touched |= mutation(draw, rng, spec, kw)
    return kw, touched, sorted(set(array_names))


def fuzz_one(name, draw):
    check(name, *mutated_call(name, draw))


# --- the tests ---------------------------------------------------------------------------------

# Examples per function: the "fuzz" profile's max_examples (tests/conftest.py) times this weight.
# The convolutions have the most arguments and hyper-parameters to get wrong; the thread count
# functions have one argument or none.
WEIGHTS = {name: 1.0 for name in SPECS} | {name: 1.5 for name in CONV_ROLES} | {
    "set_num_threads": 0.25, "get_num_threads": 0.25, "set_cpu_isa": 0.25, "get_cpu_isa": 0.25}


def examples(name, profile="fuzz"):
    return max(1, round(settings.get_profile(profile).max_examples * WEIGHTS[name]))


def test_every_function_is_fuzzed():
    public = {n for n in dir(_C) if not n.startswith("_")}
    assert set(SPECS) == public


def test_ci_runs_at_least_10000_examples():
    assert sum(examples(name, "fuzz-ci") for name in SPECS) >= 10_000


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_call_raises_or_is_right(name, restore_threads, restore_isa):
    @settings(settings.get_profile("fuzz"), max_examples=examples(name))
    @given(data=st.data())
    def run(data):
        fuzz_one(name, data.draw)

    run()


def conv_call(h, k, stride, padding, out):
    f64 = lambda *shape: np.zeros(shape)  # noqa: E731
    return dict(x=f64(1, 1, h, h), w=f64(1, 1, k, k), y=f64(1, 1, out, out), stride=stride,
                padding=padding, dilation=(1, 1), groups=1, impl="fast")


def norm_call(**arrays):
    x = np.ones((2, 3, 4))
    kw = dict(x=x, weight=np.ones(3), bias=np.zeros(3), eps=1e-5, y=np.empty_like(x),
              mean=np.empty(3), var=np.empty(3))
    return kw | arrays


INT_MAX = 2**31 - 1
var_is_mean = np.empty(3)
x_holding_mean = np.ones((2, 3, 4))

# Calls the fuzzer found that crashed or returned garbage before csrc/ refused them.
REGRESSIONS = [
    # H + 2 * pad = 2**32 made the padded image 2**64 elements, 0 in int64: segfault
    pytest.param("conv2d_fwd", conv_call(2, 1, (INT_MAX, INT_MAX), (INT_MAX, INT_MAX), 3),
                 r"the padded input .* overflows int64", id="conv-padding-overflows"),
    # 2**32 elements of padded image: std::bad_alloc, or overcommitted memory the kernel zeroes
    pytest.param("conv2d_fwd", conv_call(1, 1, (2**16, 2**16), (2**15, 2**15), 2),
                 r"scratch memory", id="conv-padding-too-large"),
    # mean and var the same array: the mean was lost, the variance handed back as both
    pytest.param("batch_norm_fwd", norm_call(mean=var_is_mean, var=var_is_mean),
                 r"var overlaps mean", id="norm-mean-is-var"),
    # mean a view of x's first elements (same start, smaller): passed the overlap check
    pytest.param("batch_norm_fwd", norm_call(x=x_holding_mean, mean=x_holding_mean.ravel()[:3]),
                 r"mean overlaps x", id="norm-mean-inside-x"),
    # the next parallel region started 100,000 threads: segfault (2**31 - 1: libgomp abort)
    pytest.param("set_num_threads", dict(n=100_000), r"n must be <=", id="threads-too-many"),
    # 2**40 rows of nothing: the kernels looped for hours (the fast one allocated 8 TB first)
    pytest.param("gradient_penalty_fwd", dict(grads=np.empty((2**40, 0)), target=1.0,
                                              out=np.empty(())),
                 r"grads has shape \(1099511627776, 0\)", id="penalty-empty-rows"),
]


@pytest.mark.parametrize("name, kw, message", REGRESSIONS)
def test_regressions_raise(name, kw, message, restore_threads, restore_isa):
    with pytest.raises(ValueError, match=f"^{name}: .*{message}"):
        getattr(_C, name)(**kw)
