"""The activation, dropout, embedding and reshaping modules, the ops behind them (dropout,
embedding, mse_loss) and nn.init, against PyTorch and against numeric differences."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st
from hypothesis.extra import numpy as hnp

import minigen
import minigen.nn as nn
import minigen.nn.functional as F
from minigen.nn import init
from minigen.testing import strategies as mst

from helpers import assert_matches_torch, check_op, to_float64, torch

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
SHAPES = mst.shapes(max_dims=3, max_side=5)


def both(name, *args, **kwargs):
    """The minigen and the PyTorch module of that name, built from the same arguments."""
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def functional_call(module, parameters, *args):
    """``module(*args)`` with the named parameters replaced by the given tensors (as
    ``torch.func.functional_call``), so that the helpers can differentiate with respect to them."""
    saved = dict(module._parameters)
    module._parameters.update(parameters)
    try:
        return module(*args)
    finally:
        module._parameters.update(saved)


# --- construction, repr, state_dict ------------------------------------------------------------

CONSTRUCTIONS = [
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2, True), {}), ("Tanh", (), {}), ("Sigmoid", (), {}),
    ("Flatten", (), {}), ("Flatten", (0, -2), {}), ("Unflatten", (1, (2, 5)), {}),
    ("Unflatten", (-1, [2, -1]), {}), ("Dropout", (), {}), ("Dropout", (0.2,), {"inplace": True}),
    ("Dropout", (1,), {}), ("Embedding", (10, 3), {}),
]


@needs_torch
@pytest.mark.parametrize("name, args, kwargs", CONSTRUCTIONS)
def test_repr_and_state_dict_match_pytorch(name, args, kwargs):
    ours, theirs = both(name, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@needs_torch
def test_a_model_of_the_new_layers_evaluates_like_pytorch_with_the_same_state():
    def model(lib, embedding):
        return lib.nn.Sequential(embedding, lib.nn.Flatten(), lib.nn.Linear(8, 6),
                                 lib.nn.LeakyReLU(0.2, True), lib.nn.Dropout(0.3),
                                 lib.nn.Unflatten(1, (2, 3)), lib.nn.Tanh())

    # An in-place LeakyReLU after a Linear is fine in PyTorch: nothing saved is overwritten.
    ours, theirs = model(minigen, nn.Embedding(5, 4)), model(torch, torch.nn.Embedding(5, 4))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "0.weight", "2.weight", "2.bias"]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.eval(), theirs.eval()
    # in float64, where the Linear's sums of 9 terms below 1 differ by about 1e-15, not by the
    # float32 rounding of each library's (and CPU's) order of summation
    to_float64(ours), theirs.double()
    labels = np.array([[0, 4], [3, 3], [1, 2]])
    np.testing.assert_allclose(ours(minigen.tensor(labels)).detach().numpy(),
                               theirs(torch.tensor(labels)).detach().numpy(), rtol=1e-12, atol=1e-12)


# --- activations -------------------------------------------------------------------------------

@needs_torch
@given(x=mst.arrays(SHAPES, away_from=0.0),
       construction=st.sampled_from([("ReLU",), ("LeakyReLU",), ("LeakyReLU", 0.2), ("Tanh",),
                                     ("Sigmoid",)]))
def test_activation_modules_match_pytorch(x, construction):
    ours, theirs = both(*construction)
    check_op(ours, [x], torch_fn=theirs)


# --- dropout -----------------------------------------------------------------------------------

def seeded_dropout(p, seed=0):
    """F.dropout drawing the same mask on every call (gradcheck calls it many times)."""
    def fn(x):
        minigen.manual_seed(seed)
        return F.dropout(x, p)
    return fn


@given(x=mst.arrays(SHAPES, away_from=0.0), p=st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]))
def test_dropout_gradients(x, p):
    check_op(seeded_dropout(p), [x])


@given(x=mst.arrays(SHAPES, away_from=0.0), p=st.sampled_from([0.1, 0.5, 0.9]),
       dtype=st.sampled_from([minigen.float32, minigen.float64]), seed=st.integers(0, 99))
def test_dropout_output_is_zero_or_the_input_over_1_minus_p(x, p, dtype, seed):
    x = minigen.tensor(x, dtype=dtype, requires_grad=True)
    upstream = minigen.randn(*x.shape, dtype=dtype)
    out = seeded_dropout(p, seed)(x)
    (out * upstream).sum().backward()
    out = out.detach().numpy()
    kept, tol = out != 0, np.finfo(dtype).eps
    assert out.dtype == dtype
    np.testing.assert_allclose(out[kept], x.detach().numpy()[kept] / (1 - p), rtol=tol)
    # the gradient goes through the same mask: gy / (1 - p) where kept, 0 where dropped
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, upstream.numpy() / (1 - p), 0), rtol=tol)


def test_dropout_drops_a_fraction_p_and_keeps_the_mean():
    minigen.manual_seed(1)
    out = F.dropout(minigen.ones(200_000), 0.3).numpy()
    assert abs(np.mean(out == 0) - 0.3) < 0.01
    assert abs(out.mean() - 1) < 0.01


def test_dropout_is_reproducible_under_manual_seed():
    x = minigen.randn(50)
    minigen.manual_seed(7)
    first, second = F.dropout(x).numpy(), F.dropout(x).numpy()
    minigen.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x).numpy(), first)
    assert not np.array_equal(first, second)


@needs_torch
def test_dropout_is_the_identity_in_eval_mode_and_at_p_0():
    x = minigen.randn(3, 4)
    ours, theirs = both("Dropout", 0.5)
    ours.eval(), theirs.eval()
    assert ours(x) is x and F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    assert_matches_torch(ours, theirs, [x.numpy()])


def test_dropout_at_p_1_gives_zeros_and_zero_gradients():
    x = minigen.randn(4, 3, requires_grad=True)
    out = nn.Dropout(1.0)(x)
    out.sum().backward()
    assert not out.detach().numpy().any() and not x.grad.numpy().any()


@needs_torch
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_0_1_is_an_error_as_in_pytorch(p):
    message = f"dropout probability has to be between 0 and 1, but got {p}"
    for make in (nn.Dropout, torch.nn.Dropout,
                 lambda p: F.dropout(minigen.ones(2), p, training=False)):
        with pytest.raises(ValueError, match=message):
            make(p)


# --- embedding ---------------------------------------------------------------------------------

@st.composite
def lookups(draw):
    """(indices, weight): int64 indices of any rank (repeats likely) into a small float64 table."""
    rows, dim = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    indices = draw(hnp.arrays(np.int64, mst.shapes(max_dims=3, max_side=4),
                              elements=st.integers(0, rows - 1)))
    return indices, draw(mst.arrays((rows, dim)))


@needs_torch
@given(lookup=lookups())
def test_embedding_gathers_rows_and_scatters_gradients(lookup):
    indices, weight = lookup
    check_op(lambda w: F.embedding(minigen.tensor(indices), w), [weight], lambda w: w[indices],
             lambda w: torch.nn.functional.embedding(torch.tensor(indices), w))


@needs_torch
@given(lookup=lookups())
def test_embedding_module_matches_pytorch(lookup):
    indices, weight = lookup
    ours, theirs = both("Embedding", *weight.shape)
    assert_matches_torch(
        lambda w: functional_call(ours, {"weight": w}, minigen.tensor(indices)),
        lambda w: torch.func.functional_call(theirs, {"weight": w}, (torch.tensor(indices),)),
        [weight])


@needs_torch
def test_embedding_gradient_accumulates_over_repeated_indices_as_in_pytorch():
    ours, theirs = both("Embedding", 4, 3)
    ours.load_state_dict({"weight": theirs.weight.detach().numpy()})
    to_float64(ours), theirs.double()
    indices = np.array([[1, 1], [1, 3]])
    upstream = np.random.default_rng(0).standard_normal((2, 2, 3))
    (ours(minigen.tensor(indices)) * minigen.tensor(upstream)).sum().backward()
    (theirs(torch.tensor(indices)) * torch.tensor(upstream)).sum().backward()
    grad = ours.weight.grad.numpy()
    # float64 sums of up to 3 of these values (|upstream| < 3), in any order: within
    # 2 gamma_2 * 9 = 4e-15 of each other
    np.testing.assert_allclose(grad, theirs.weight.grad.numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(grad[1], upstream[0, 0] + upstream[0, 1] + upstream[1, 0], rtol=0,
                               atol=1e-14)
    assert not grad[[0, 2]].any()


def test_embedding_weight_is_standard_normal():
    minigen.manual_seed(0)
    weight = nn.Embedding(400, 50).weight.detach().numpy()
    assert weight.dtype == np.float32
    assert abs(weight.mean()) < 0.03 and abs(weight.std() - 1) < 0.03


def test_embedding_errors_name_the_index_and_the_dtype():
    table = nn.Embedding(5, 2)
    for bad in (5, -1):
        with pytest.raises(IndexError, match=rf"embedding: index {bad} is out of range for "
                                             r"num_embeddings=5 \(expected 0 <= index < 5\)"):
            table(minigen.tensor([[0, bad]]))
    with pytest.raises(TypeError, match="indices must be an int64 tensor, got minigen.float32"):
        table(minigen.tensor([1.0]))
    with pytest.raises(TypeError, match="got minigen.bool"):
        table(minigen.tensor([True]))
    with pytest.raises(TypeError, match="got list"):
        table([1, 2])
    with pytest.raises(ValueError, match=r"weight must be 2-D .* got shape \(5,\)"):
        F.embedding(minigen.tensor([1]), minigen.zeros(5))


# --- flatten and unflatten ---------------------------------------------------------------------

@needs_torch
@given(data=st.data())
def test_flatten_matches_pytorch(data):
    x = data.draw(mst.arrays(mst.shapes(min_dims=1, max_dims=4, max_side=4)))
    dims = st.integers(-x.ndim, x.ndim - 1)
    start_dim, end_dim = data.draw(dims), data.draw(dims)
    assume(start_dim % x.ndim <= end_dim % x.ndim)
    ours, theirs = both("Flatten", start_dim, end_dim)
    check_op(ours, [x], torch_fn=theirs)


@needs_torch
@given(data=st.data())
def test_unflatten_matches_pytorch(data):
    x = data.draw(mst.arrays(mst.shapes(min_dims=1, max_dims=3, max_side=6)))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    length = x.shape[dim]
    first = data.draw(st.sampled_from([k for k in range(1, length + 1) if length % k == 0]))
    sizes = data.draw(st.permutations([first, length // first, 1]))
    if data.draw(st.booleans()):
        sizes[data.draw(st.integers(0, 2))] = -1
    ours, theirs = both("Unflatten", dim, data.draw(st.sampled_from([tuple, list]))(sizes))
    check_op(ours, [x], torch_fn=theirs)


@needs_torch
def test_unflatten_of_an_empty_dimension_infers_like_pytorch():
    x = np.zeros((2, 0))
    assert_matches_torch(*both("Unflatten", 1, (-1, 5)), [x])
    assert nn.Unflatten(1, (-1, 5))(minigen.tensor(x)).shape == (2, 0, 5)


def test_unflatten_undoes_flatten():
    x = minigen.randn(2, 3, 4, 5)
    np.testing.assert_array_equal(nn.Unflatten(1, x.shape[1:])(nn.Flatten()(x)).numpy(), x.numpy())


@pytest.mark.parametrize("sizes", [(2, 4), (-1, -1), (-1, 3), (-2, -5), (0, -1)])
def test_unflatten_sizes_that_do_not_split_the_dimension_are_an_error(sizes):
    with pytest.raises(ValueError, match=rf"Unflatten: sizes \({sizes[0]}, {sizes[1]}\) do not multiply "
                                         r"up to the size 10 of dimension 1 of the input of shape \(3, 10\)"):
        nn.Unflatten(1, sizes)(minigen.zeros(3, 10))


@needs_torch
@pytest.mark.parametrize("sizes", [5, (2.0, 5)])
def test_unflatten_size_must_be_a_tuple_of_ints_as_in_pytorch(sizes):
    for lib in (minigen, torch):
        with pytest.raises(TypeError, match="unflattened_size must be (a )?tuple of ints"):
            lib.nn.Unflatten(1, sizes)


def test_flatten_and_unflatten_dimension_errors():
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        nn.Flatten(2, 1)(minigen.zeros(2, 3, 4))
    with pytest.raises(IndexError, match="Unflatten: dimension 2 is out of range"):
        nn.Unflatten(2, (1, 3))(minigen.zeros(2, 3))
    with pytest.raises(IndexError, match="Unflatten: a 0-D tensor"):
        nn.Unflatten(0, (1,))(minigen.tensor(1.0))


# --- mse_loss ----------------------------------------------------------------------------------

@needs_torch
@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_mse_loss(data, reduction):
    shape = data.draw(mst.shapes(max_dims=3, max_side=4))
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    check_op(lambda a, b: F.mse_loss(a, b, reduction=reduction),
             [data.draw(mst.arrays(shape)), data.draw(mst.arrays(shape))],
             lambda a, b: reduce((a - b) ** 2),
             lambda a, b: torch.nn.functional.mse_loss(a, b, reduction=reduction))


def test_mse_loss_checks_shapes_and_reduction():
    with pytest.raises(ValueError, match=r"mse_loss: target has shape \(3,\) but input has shape \(2,\)"):
        F.mse_loss(minigen.zeros(2), minigen.zeros(3))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', not 'max'"):
        F.mse_loss(minigen.zeros(2), minigen.zeros(2), reduction="max")


# --- init --------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name, args, kwargs", [
    ("Linear", (5, 7), {}), ("Conv2d", (3, 8, (3, 5)), {}), ("Conv2d", (4, 6, 3), {"groups": 2}),
    ("ConvTranspose2d", (4, 6, 3), {}), ("ConvTranspose2d", (4, 6, (2, 3)), {"groups": 2}),
])
def test_fans_of_layer_weights_match_pytorch(name, args, kwargs):
    ours, theirs = both(name, *args, **kwargs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert (init._calculate_fan_in_and_fan_out(ours.weight)
            == torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.kaiming_uniform_(nn.Parameter(np.zeros(3)))


@needs_torch
@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None),
    ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu", None)])
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


@needs_torch
@pytest.mark.parametrize("nonlinearity, param", [("softmax", None), ("leaky_relu", True),
                                                 ("leaky_relu", "0.2")])
def test_calculate_gain_rejects_what_pytorch_rejects(nonlinearity, param):
    for lib in (init, torch.nn.init):
        with pytest.raises(ValueError):
            lib.calculate_gain(nonlinearity, param)


# (function, arguments, bounded: a uniform distribution whose bounds should match too)
INITS = [
    ("uniform_", {"a": -2.0, "b": 3.0}, True),
    ("normal_", {"mean": 1.0, "std": 2.0}, False),
    ("xavier_uniform_", {"gain": 2.0}, True),
    ("xavier_normal_", {"gain": 0.5}, False),
    ("kaiming_uniform_", {}, True),
    ("kaiming_uniform_", {"a": 0.2, "mode": "fan_out", "nonlinearity": "leaky_relu"}, True),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, False),
    ("kaiming_normal_", {"nonlinearity": "tanh"}, False),
]


@needs_torch
@pytest.mark.parametrize("name, kwargs, bounded", INITS)
def test_init_distributions_match_pytorch(name, kwargs, bounded):
    """Same mean, standard deviation (and bounds) as PyTorch's, on a conv weight of 27648
    elements, whose fans (432 in, 576 out) tell the fan modes apart."""
    minigen.manual_seed(0)
    torch.manual_seed(0)
    shape = (64, 48, 3, 3)
    ours = getattr(init, name)(nn.Parameter(np.zeros(shape)), **kwargs).detach().numpy()
    theirs = getattr(torch.nn.init, name)(torch.empty(shape), **kwargs).numpy()
    std = theirs.std()
    assert abs(ours.mean() - theirs.mean()) < 6 * std / np.sqrt(ours.size)
    assert ours.std() == pytest.approx(std, rel=0.03)
    if bounded:
        np.testing.assert_allclose([ours.min(), ours.max()], [theirs.min(), theirs.max()], atol=0.01 * std)


@pytest.mark.parametrize("fill, value", [(lambda t: init.constant_(t, 0.25), 0.25),
                                         (init.zeros_, 0.0), (init.ones_, 1.0)])
def test_constant_fills(fill, value):
    weight = nn.Parameter(np.zeros((3, 4)))
    assert fill(weight) is weight
    np.testing.assert_array_equal(weight.detach().numpy(), np.full((3, 4), value, np.float32))


def test_kaiming_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', not 'fan_avg'"):
        init.kaiming_normal_(nn.Parameter(np.zeros((2, 2))), mode="fan_avg")


# --- PyTorch's further arguments: padding_idx, pretrained tables, device and dtype, inplace ------

@needs_torch
@pytest.mark.parametrize("padding_idx", [0, 3, -1])
def test_embedding_padding_row_starts_at_zero_and_is_never_learned(padding_idx):
    ours, theirs = both("Embedding", 5, 3, padding_idx=padding_idx)
    row = padding_idx % 5
    np.testing.assert_array_equal(ours.weight.detach().numpy()[row], np.zeros(3))
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({"weight": theirs.weight.detach().numpy()})
    indices = np.array([[0, 4, 3, 4], [1, 3, 2, 0]])
    ours(minigen.tensor(indices)).pow(2).sum().backward()
    theirs(torch.tensor(indices)).pow(2).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ours.weight.grad.numpy()[row], np.zeros(3))


def test_embedding_padding_idx_gradients_are_the_plain_ones_without_the_padding_row():
    """Not a gradcheck: the padding row is read, so the numeric derivative there is not zero;
    PyTorch zeroes it by design. Both derivatives are the plain lookup's, that row zeroed."""
    weight = minigen.tensor(np.random.default_rng(0).standard_normal((4, 2)), requires_grad=True)
    indices = minigen.tensor([[1, 2, 1], [3, 0, 2]])

    def gradients(padding_idx):
        loss = (F.embedding(indices, weight, padding_idx=padding_idx) ** 3).sum()
        g, = minigen.autograd.grad(loss, weight, create_graph=True)
        gg, = minigen.autograd.grad(g.sum(), weight)
        return g.detach().numpy(), gg.numpy()

    for plain, padded in zip(gradients(None), gradients(1)):
        plain[1] = 0
        np.testing.assert_array_equal(padded, plain)


def test_embedding_from_pretrained_is_frozen_unless_asked():
    table = minigen.randn(4, 2)
    frozen, learned = nn.Embedding.from_pretrained(table), nn.Embedding.from_pretrained(table, freeze=False)
    assert not frozen.weight.requires_grad and learned.weight.requires_grad
    np.testing.assert_array_equal(frozen(minigen.tensor([2])).numpy()[0], table.numpy()[2])


@pytest.mark.parametrize("make", [
    lambda **kw: nn.Linear(3, 2, **kw), lambda **kw: nn.Conv2d(2, 3, 3, **kw),
    lambda **kw: nn.ConvTranspose2d(2, 3, 3, **kw), lambda **kw: nn.BatchNorm2d(3, **kw),
    lambda **kw: nn.Embedding(4, 2, **kw),
])
def test_layers_take_device_and_dtype(make):
    layer = make(device="cpu", dtype=minigen.float64)
    state = list(layer.parameters()) + list(layer.buffers())
    assert {t.dtype for t in state if t.dtype != minigen.int64} == {minigen.float64}
    assert {str(t.device) for t in state} == {"cpu"}
    assert make().weight.dtype == minigen.float32


@needs_torch
def test_batch_norm_without_momentum_keeps_the_cumulative_average():
    ours, theirs = both("BatchNorm1d", 3, momentum=None)
    ours, theirs = to_float64(ours), theirs.double()
    rng = np.random.default_rng(4)
    for _ in range(4):
        x = rng.standard_normal((6, 3))
        ours(minigen.tensor(x))
        theirs(torch.tensor(x))
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, args", [("relu", ()), ("leaky_relu", (0.1,)), ("dropout", (0.5,))])
def test_inplace_gives_the_same_values_and_leaves_the_input(name, args):
    fn, x = getattr(F, name), minigen.tensor([-1.0, 2.0, -3.0, 4.0])
    before = x.numpy().copy()
    minigen.manual_seed(0)
    y = fn(x, *args, inplace=True)
    minigen.manual_seed(0)
    np.testing.assert_array_equal(y.numpy(), fn(x, *args).numpy())
    np.testing.assert_array_equal(x.numpy(), before)
