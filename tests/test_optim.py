"""Optimisers: SGD, Adam and RMSprop step by step against PyTorch's, their state dict and exact
resuming, in-place updates, and the checks on arguments and on loaded state dicts."""
import io
import json

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import array_shapes

import minigen
import minigen.nn as nn
from minigen import optim

from helpers import torch

TORCH_ONLY_OPTIONS = {"foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay"}


@pytest.fixture(scope="module")
def needs_torch():
    pytest.importorskip("torch", exc_type=ImportError)  # as helpers: a broken install counts as none


# --- hyperparameters, drawn ----------------------------------------------------------------------

def _fraction(*typical, low=0.0, high=0.99):
    return st.sampled_from(typical) | st.floats(low, high)


# Larger steps (RMSprop's is up to 10 lr per element) with weight decay make a run unstable, and an
# unstable run amplifies rounding differences from one step to the next.
LRS = st.sampled_from([1e-3, 1e-2, 0.1]) | st.floats(1e-4, 0.1)
DECAYS = st.sampled_from([0.0, 1e-2]) | st.floats(0, 0.5)
# The squared gradient's average (Adam's beta2, RMSprop's alpha) is kept from the range near 0:
# there the step is about m / |g|, and where g is near 0 (the gradient cancelling against weight
# decay) a last-bit difference in g changes the step arbitrarily. Torch fuses products into FMAs
# and NumPy cannot, so no float32 comparison holds there; nobody trains with such a decay anyway.
SQUARE_DECAYS = _fraction(0.9, 0.99, 0.999, low=0.5, high=0.999)


@st.composite
def sgd_options(draw):
    momentum = draw(_fraction(0.0, 0.9))
    nesterov = momentum > 0 and draw(st.booleans())
    return dict(lr=draw(LRS), momentum=momentum, dampening=0.0 if nesterov else draw(_fraction(0.0, 0.5)),
                weight_decay=draw(DECAYS), nesterov=nesterov, maximize=draw(st.booleans()))


@st.composite
def adam_options(draw):
    # beta1 = 0 (no first moment) is what WGAN-GP uses
    return dict(lr=draw(LRS), betas=(draw(_fraction(0.0, 0.5, 0.9)), draw(SQUARE_DECAYS)),
                eps=draw(st.sampled_from([1e-8, 1e-3])), weight_decay=draw(DECAYS),
                amsgrad=draw(st.booleans()), maximize=draw(st.booleans()))


@st.composite
def rmsprop_options(draw):
    return dict(lr=draw(LRS), alpha=draw(SQUARE_DECAYS), eps=draw(st.sampled_from([1e-8, 1e-3])),
                weight_decay=draw(DECAYS), momentum=draw(_fraction(0.0, 0.9)), centered=draw(st.booleans()),
                maximize=draw(st.booleans()))


OPTIONS = {"SGD": sgd_options(), "Adam": adam_options(), "RMSprop": rmsprop_options()}


# --- helpers -------------------------------------------------------------------------------------

def _parameters(arrays, lib):
    if lib is minigen:
        return [nn.Parameter(minigen.tensor(a, dtype=a.dtype)) for a in arrays]
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def _groups(params, split, lr):
    """Two groups, the second with half the learning rate."""
    return [{"params": params[:split]}, {"params": params[split:], "lr": lr / 2}]


def _set_grads(params, grads, lib):
    for p, g in zip(params, grads):
        p.grad = None if g is None else lib.tensor(g)


def _random_grads(rng, shapes, dtype, steps, none_rate=0.2):
    """``steps`` lists of gradients, one per shape, each None with probability ``none_rate``."""
    return [[None if rng.random() < none_rate else rng.standard_normal(s).astype(dtype) for s in shapes]
            for _ in range(steps)]


def assert_state_dicts_match(ours, theirs, tol):
    """Same structure as torch's state dict (numbering, names, their order), values within tol."""
    assert ours["state"].keys() == theirs["state"].keys()
    for i, state in ours["state"].items():
        ref = theirs["state"][i]
        assert list(state) == list(ref)
        for name, value in state.items():
            if name == "step":
                assert type(value) is int and value == ref[name].item()
            else:
                assert isinstance(value, minigen.Tensor) and value.dtype == ref[name].numpy().dtype
                np.testing.assert_allclose(value.numpy(), ref[name].numpy(), rtol=tol, atol=tol,
                                           err_msg=f"state {i} {name}")
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for group, ref in zip(ours["param_groups"], theirs["param_groups"]):
        assert set(ref) - set(group) <= TORCH_ONLY_OPTIONS
        assert group == {k: ref[k] for k in group}


def assert_plain(value):
    """Every leaf is a Tensor, a number, a bool or None, inside dicts, lists and tuples."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, (int, str))
            assert_plain(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            assert_plain(v)
    else:
        assert value is None or isinstance(value, (minigen.Tensor, int, float, bool)), type(value)


def through_checkpoint(state_dict, as_tensors):
    """What a trainer's checkpoint does: the arrays to an .npz file, the rest to JSON, and back
    (so parameter numbers come back as strings and tuples as lists)."""
    arrays, plain = {}, {"param_groups": state_dict["param_groups"], "state": {}}
    for i, state in state_dict["state"].items():
        plain["state"][i] = {k: v for k, v in state.items() if not isinstance(v, minigen.Tensor)}
        arrays.update({f"{i}.{k}": v.numpy() for k, v in state.items() if isinstance(v, minigen.Tensor)})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    plain = json.loads(json.dumps(plain))
    with np.load(buffer) as loaded:
        for key in loaded.files:
            i, name = key.split(".", 1)
            plain["state"][i][name] = minigen.tensor(loaded[key]) if as_tensors else loaded[key]
    return plain


# Every kind of state each optimiser can keep, for the tests that are not about the update rule.
FULL_STATE = {
    "SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adam": dict(lr=0.01, betas=(0.0, 0.9), amsgrad=True, maximize=True),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
}
SHAPES = [(3, 4), (1,), (5,), (2, 1, 3)]


def _trained(name, steps, seed=0, dtype=np.float64):
    """An optimiser over SHAPES after ``steps`` steps of random gradients, and its parameters."""
    rng = np.random.default_rng(seed)
    params = _parameters([rng.standard_normal(s).astype(dtype) for s in SHAPES], minigen)
    opt = getattr(optim, name)(_groups(params, 2, FULL_STATE[name]["lr"]), **FULL_STATE[name])
    for grads in _random_grads(rng, SHAPES, dtype, steps, none_rate=0):
        _set_grads(params, grads, minigen)
        opt.step()
    return opt, params


# --- the update rules against PyTorch ------------------------------------------------------------

# In float64, which checks the order of operations. Not in float32: its rounding differs by library
# (torch fuses some products into FMAs) and by CPU, and a bound over ten steps would have to allow
# a whole step wherever a gradient nearly cancels against weight decay (Adam's first step is
# g / |g| times lr, which a last bit can flip). test_edge_numerics bounds the float32 Adam kernel.
@pytest.mark.usefixtures("needs_torch")
@pytest.mark.parametrize("name", OPTIONS)
@given(data=st.data())
def test_steps_match_pytorch(name, data):
    dtype, tol = np.float64, 1e-12
    options = data.draw(OPTIONS[name], label="options")
    shapes = data.draw(st.lists(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5),
                                min_size=2, max_size=5), label="shapes")
    split = data.draw(st.integers(1, len(shapes) - 1), label="split")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours, theirs = _parameters(arrays, minigen), _parameters(arrays, torch)
    opt = getattr(optim, name)(_groups(ours, split, options["lr"]), **options)
    ref = getattr(torch.optim, name)(_groups(theirs, split, options["lr"]), foreach=False, **options)
    for step, grads in enumerate(_random_grads(rng, shapes, dtype, steps=10)):
        _set_grads(ours, grads, minigen)
        _set_grads(theirs, grads, torch)
        opt.step()
        ref.step()
        assert all(p.dtype == dtype for p in ours)
        np.testing.assert_allclose(_flat(ours), _flat(theirs), rtol=tol, atol=tol,
                                   err_msg=f"parameters after step {step + 1}")
    assert_state_dicts_match(opt.state_dict(), ref.state_dict(), tol)


def _flat(tensors):
    return np.concatenate([t.detach().numpy().ravel() for t in tensors])


@pytest.mark.usefixtures("needs_torch")
@pytest.mark.parametrize("name", OPTIONS)
def test_defaults_and_repr_match_pytorch(name):
    p = nn.Parameter(minigen.zeros(2))
    opt, ref = getattr(optim, name)([p]), getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert set(ref.defaults) - set(opt.defaults) <= TORCH_ONLY_OPTIONS
    assert opt.defaults == {k: ref.defaults[k] for k in opt.defaults}
    assert set(repr(opt).splitlines()) <= set(repr(ref).splitlines())


def test_repr():
    opt = optim.Adam([nn.Parameter(minigen.zeros(2))], lr=0.5)
    assert repr(opt).splitlines()[:3] == ["Adam (", "Parameter Group 0", "    amsgrad: False"]
    assert "    lr: 0.5" in repr(opt) and repr(opt).endswith("\n)")


@pytest.mark.parametrize("name", OPTIONS)
def test_a_model_learns(name):
    """A linear regression fitted with each optimiser: the loss falls, the model keeps its Parameters."""
    minigen.manual_seed(0)
    model = nn.Linear(3, 1)
    weight, data = model.weight, model.weight._data
    x = minigen.randn(32, 3)
    y = x @ minigen.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    opt = getattr(optim, name)(model.parameters(), lr=0.05)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]
    assert model.weight is weight and model.weight._data is data


# --- state dict ----------------------------------------------------------------------------------

STATE_NAMES = {"SGD": ["momentum_buffer"], "Adam": ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
               "RMSprop": ["step", "square_avg", "momentum_buffer", "grad_avg"]}


@pytest.mark.parametrize("name", OPTIONS)
def test_state_dict_format(name):
    opt, _ = _trained(name, steps=2, dtype=np.float32)
    state_dict = opt.state_dict()
    assert_plain(state_dict)
    assert [g["params"] for g in state_dict["param_groups"]] == [[0, 1], [2, 3]]
    assert state_dict["param_groups"][1]["lr"] == FULL_STATE[name]["lr"] / 2
    if name == "Adam":
        assert state_dict["param_groups"][0]["betas"] == (0.0, 0.9)
    assert list(state_dict["state"]) == [0, 1, 2, 3]
    for i, shape in enumerate(SHAPES):
        state = state_dict["state"][i]
        assert list(state) == STATE_NAMES[name]
        assert all(v.shape == shape and v.dtype == np.float32 for k, v in state.items() if k != "step")
        assert state.get("step", 2) == 2


@pytest.mark.parametrize("name", OPTIONS)
def test_state_dict_holds_copies(name):
    opt, params = _trained(name, steps=2)
    saved = opt.state_dict()
    before = {(i, k): np.copy(v.numpy()) for i, s in saved["state"].items() for k, v in s.items()
              if k != "step"}
    opt.step()  # changes the optimiser's state, not the saved copy
    fresh = getattr(optim, name)(_groups(params, 2, 1.0))
    fresh.load_state_dict(saved)
    fresh.step()  # nor does a step of an optimiser that loaded it
    for (i, k), value in before.items():
        np.testing.assert_array_equal(saved["state"][i][k].numpy(), value)


@pytest.mark.parametrize("name", OPTIONS)
@pytest.mark.parametrize("checkpoint", [None, "tensors", "arrays"])
def test_resume_is_exact(name, checkpoint):
    """k steps, save, a fresh optimiser (default options) over fresh copies of the parameters,
    load, go on: bit for bit what an uninterrupted run gives. ``checkpoint`` sends the state
    dict through an .npz file and JSON first, its arrays coming back as Tensors or as arrays."""
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = _random_grads(rng, SHAPES, np.float32, steps=12)
    make, lr = getattr(optim, name), FULL_STATE[name]["lr"]

    def run(opt, params, grads):
        for g in grads:
            _set_grads(params, g, minigen)
            opt.step()

    whole = _parameters(arrays, minigen)
    uninterrupted = make(_groups(whole, 2, lr), **FULL_STATE[name])
    run(uninterrupted, whole, grads)

    first = _parameters(arrays, minigen)
    opt = make(_groups(first, 2, lr), **FULL_STATE[name])
    run(opt, first, grads[:5])
    saved = opt.state_dict()
    if checkpoint:
        saved = through_checkpoint(saved, as_tensors=checkpoint == "tensors")
    second = _parameters([p.detach().numpy() for p in first], minigen)
    resumed = make(_groups(second, 2, 1.0))
    resumed.load_state_dict(saved)
    run(resumed, second, grads[5:])

    for p, q in zip(whole, second):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    expected, got = uninterrupted.state_dict(), resumed.state_dict()
    assert got["param_groups"] == expected["param_groups"]
    assert got["state"].keys() == expected["state"].keys()
    for i, state in expected["state"].items():
        assert got["state"][i].keys() == state.keys()
        for key, value in state.items():
            np.testing.assert_array_equal(np.asarray(got["state"][i][key]), np.asarray(value))


def test_load_state_dict_casts_to_the_parameters_dtype():
    opt, _ = _trained("Adam", steps=1, dtype=np.float64)
    params32 = _parameters([np.zeros(s, np.float32) for s in SHAPES], minigen)
    opt32 = optim.Adam(_groups(params32, 2, 1.0))
    opt32.load_state_dict(opt.state_dict())
    assert all(v.dtype == np.float32 for s in opt32.state_dict()["state"].values()
               for k, v in s.items() if k != "step")


def _drop_group(saved):
    saved["param_groups"].pop()


def _drop_param(saved):
    saved["param_groups"][0]["params"].pop()


def _reshape_state(saved):
    saved["state"][1]["exp_avg"] = minigen.zeros(3)


def _drop_state(saved):
    del saved["state"][0]["exp_avg_sq"]


def _foreign_state(saved):
    saved["state"][9] = saved["state"][0]


def _extra_option(saved):
    saved["param_groups"][0]["momentum"] = 0.9


def _bad_option(saved):
    saved["param_groups"][1]["betas"] = (0.9, 1.0)


def _no_state(saved):
    del saved["state"]


@pytest.mark.parametrize("change, match", [
    (_drop_group, "has 1 parameter groups, this optimizer has 2"),
    (_drop_param, "parameter group 0 has 1 parameters in the state dict, 2 in this optimizer"),
    (_reshape_state, r"'exp_avg' of parameter 1 has shape \(3,\) in the state dict, the parameter "
                     r"has shape \(1,\)"),
    (_drop_state, r"parameter 0 has state \['exp_avg', 'max_exp_avg_sq', 'step'\], Adam with these "
                  r"options keeps \['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'\]"),
    (_foreign_state, "state for parameter 9, which no parameter group lists"),
    (_extra_option, r"parameter group 0 has options \[.*'momentum'.*\], Adam has"),
    (_bad_option, r"betas must be two numbers in \[0, 1\), got \(0.9, 1.0\)"),
    (_no_state, r"the state dict has no \['state'\]"),
])
def test_load_state_dict_rejects_what_does_not_fit(change, match):
    saved = _trained("Adam", steps=1)[0].state_dict()
    change(saved)
    opt, _ = _trained("Adam", steps=1, seed=1)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(saved)
    after = opt.state_dict()  # unchanged: nothing is loaded unless everything fits
    assert after["param_groups"] == before["param_groups"]
    for i, state in before["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(np.asarray(after["state"][i][key]), np.asarray(value))


def test_load_state_dict_rejects_another_optimizers_state():
    with pytest.raises(ValueError, match="parameter group 0 has options"):
        _trained("Adam", steps=1)[0].load_state_dict(_trained("RMSprop", steps=1)[0].state_dict())


# --- steps, gradients, parameters ----------------------------------------------------------------

@pytest.mark.parametrize("name", OPTIONS)
def test_parameters_without_a_gradient_are_left_alone(name):
    params = _parameters([np.ones((2, 3)), np.ones(4)], minigen)
    opt = getattr(optim, name)(params, **FULL_STATE[name])
    params[1].grad = minigen.ones(4, dtype=minigen.float64)
    for _ in range(2):
        opt.step()
    np.testing.assert_array_equal(params[0].detach().numpy(), np.ones((2, 3)))
    assert params[0] not in opt.state and list(opt.state_dict()["state"]) == [1]
    assert not np.array_equal(params[1].detach().numpy(), np.ones(4))


@pytest.mark.parametrize("name", OPTIONS)
def test_step_updates_the_same_objects_in_place(name):
    opt, params = _trained(name, steps=1)
    arrays = [p._data for p in params]
    values = [a.copy() for a in arrays]
    state = {p: dict(opt.state[p]) for p in params}
    opt.step()
    assert [p for g in opt.param_groups for p in g["params"]] == params
    for p, array, value in zip(params, arrays, values):
        assert p._data is array and not np.array_equal(array, value)
        assert all(opt.state[p][k] is v for k, v in state[p].items() if k != "step")


@pytest.mark.parametrize("name", OPTIONS)
def test_a_non_contiguous_parameter_steps_like_a_contiguous_one(name):
    """Adam's kernel reads contiguous memory: a transposed parameter goes through a copy, written
    back into the same array."""
    values = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    transposed = nn.Parameter(minigen.Tensor(values.T))           # a view with swapped strides
    plain = nn.Parameter(minigen.tensor(values.T.copy()))
    array = transposed._data
    assert not array.flags.c_contiguous
    for p in (transposed, plain):
        opt = getattr(optim, name)([p], lr=0.1)
        for _ in range(2):
            p.grad = minigen.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2))
            opt.step()
    assert transposed._data is array
    np.testing.assert_array_equal(transposed.detach().numpy(), plain.detach().numpy())


def test_step_leaves_the_gradients_alone():
    params = _parameters([np.ones(3)], minigen)
    params[0].grad = minigen.tensor([1.0, 2.0, 3.0], dtype=minigen.float64)
    opt = optim.Adam(params, weight_decay=0.1, maximize=True)
    opt.step()
    np.testing.assert_array_equal(params[0].grad.numpy(), [1.0, 2.0, 3.0])


def test_step_calls_the_closure_and_returns_its_loss():
    p = nn.Parameter(minigen.tensor([3.0]))
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    np.testing.assert_allclose(p.detach().numpy(), [3.0 - 0.1 * 6.0], rtol=1e-6)


def test_zero_grad():
    a, b, c = (nn.Parameter(minigen.ones(2)) for _ in range(3))
    opt = optim.SGD([a, b, c])
    a.grad, b.grad = minigen.ones(2), minigen.full((2,), 5.0)
    opt.zero_grad(set_to_none=False)
    assert c.grad is None
    for p in (a, b):
        assert p.grad.dtype == minigen.float32 and p.grad.shape == (2,)
        np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None and c.grad is None


def test_param_groups_take_the_defaults_they_do_not_override():
    a, b, c = (nn.Parameter(minigen.ones(2)) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "momentum": 0.9}], lr=0.1)
    opt.add_param_group({"params": [c], "lr": 0.5})
    assert [(g["lr"], g["momentum"]) for g in opt.param_groups] == [(0.1, 0), (0.1, 0.9), (0.5, 0)]
    assert [g["params"] for g in opt.param_groups] == [[a], [b], [c]]
    with pytest.raises(ValueError, match="given more than once"):
        opt.add_param_group({"params": [a]})


# --- checks on arguments -------------------------------------------------------------------------

def _p():
    return nn.Parameter(minigen.zeros(2))


@pytest.mark.parametrize("make, match", [
    (lambda: optim.SGD([_p()], lr=-0.1), "SGD: lr must be a number >= 0, got -0.1"),
    (lambda: optim.SGD([_p()], lr=float("nan")), "lr must be a number >= 0, got nan"),
    (lambda: optim.SGD([_p()], lr="fast"), "lr must be a number >= 0, got 'fast'"),
    (lambda: optim.SGD([_p()], momentum=-0.5), "momentum must be a number >= 0"),
    (lambda: optim.SGD([_p()], weight_decay=-1), "weight_decay must be a number >= 0"),
    (lambda: optim.SGD([_p()], nesterov=True), "nesterov=True requires a momentum > 0 and dampening = 0"),
    (lambda: optim.SGD([_p()], momentum=0.9, dampening=0.1, nesterov=True), "nesterov.*dampening=0.1"),
    (lambda: optim.SGD([{"params": [_p()], "lr": -1}], lr=0.1), "lr must be a number >= 0, got -1"),
    (lambda: optim.Adam([_p()], betas=(1.0, 0.999)), r"betas must be two numbers in \[0, 1\)"),
    (lambda: optim.Adam([_p()], betas=(0.9, -0.1)), "betas"),
    (lambda: optim.Adam([_p()], betas=(0.9,)), "betas"),
    (lambda: optim.Adam([_p()], betas=0.9), "betas"),
    (lambda: optim.Adam([_p()], eps=-1e-8), "eps must be a number >= 0"),
    (lambda: optim.Adam([_p()], lr=-1e-3), "Adam: lr"),
    (lambda: optim.RMSprop([_p()], alpha=-0.9), "alpha must be a number >= 0"),
    (lambda: optim.RMSprop([_p()], momentum=-0.9), "momentum must be a number >= 0"),
    (lambda: optim.RMSprop([_p()], eps=-1), "RMSprop: eps"),
    (lambda: optim.Adam([{"params": [_p()], "learning_rate": 0.1}]),
     r"Adam has no option \['learning_rate'\]"),
    (lambda: optim.Adam([]), "empty parameter list"),
    (lambda: optim.Adam(iter([])), "empty parameter list"),
])
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_each_parameter_may_be_given_once():
    p, q = _p(), _p()
    with pytest.raises(ValueError, match="a parameter of shape \\(2,\\) is given more than once"):
        optim.SGD([p, q, p])
    with pytest.raises(ValueError, match="given more than once"):
        optim.SGD([{"params": [p]}, {"params": [q, p]}])


def test_what_cannot_be_optimized():
    with pytest.raises(TypeError, match="floating-point Tensors, got dtype minigen.int64"):
        optim.SGD([minigen.tensor([1, 2])])
    with pytest.raises(TypeError, match="floating-point Tensors, got ndarray"):
        optim.SGD([np.zeros(2)])
    with pytest.raises(TypeError, match="got a single Tensor"):
        optim.SGD(_p())
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD([{"params": {_p()}}])
    with pytest.raises(TypeError, match="a param group must be a dict"):
        optim.SGD([_p()]).add_param_group([_p()])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([_p() * 2])


def test_a_gradient_of_another_shape_is_an_error():
    p = _p()
    p.grad = minigen.zeros(3)
    with pytest.raises(ValueError, match=r"a parameter of shape \(2,\) has a gradient of shape \(3,\)"):
        optim.Adam([p]).step()
