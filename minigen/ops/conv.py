"""2-D convolution and transposed convolution, NCHW, with PyTorch's arguments and weight layouts.

Three kernels (csrc/cpu/conv.cc) make up everything: conv2d's forward, its input gradient
(which *is* the transposed convolution) and its weight gradient. Each op below is one kernel,
and each backward is made of the three ops again, so every gradient can be differentiated:

    Conv2d(x, w)                 dx = ConvTranspose2d(gy, w)     dw = Conv2dGradW(x, gy)
    ConvTranspose2d(x, w)        dx = Conv2d(gy, w)              dw = Conv2dGradW(gy, x)
    Conv2dGradW(x, gy) -> dw     dx = ConvTranspose2d(gy, dgw)   dgy = Conv2d(x, dgw)

The transposed convolution's output size is always passed explicitly, never inferred: the
same input size can come from several output sizes (that is what ``output_padding`` picks).

What the kernels take is a batch, symmetric padding, and sizes that map onto each other under
conv2d. The functional forms below also take what PyTorch takes beyond that, by reshaping or
padding around the kernels: an unbatched (C, H, W) input, ``padding='same'`` (an odd total
padding puts the extra row and column at the bottom and right) and ``'valid'``, and an
``output_padding`` as large as the dilation.
"""
from .. import backend
from ..autograd import Function
from .common import floating, promote
from .shape import pad, reshape, squeeze, unsqueeze


class Conv2d(Function):
    """y = conv2d(x, w): x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW), no bias."""

    @staticmethod
    def forward(ctx, x, w, geometry):
        ctx.save_for_backward(x, w)
        ctx.geometry = geometry
        return backend.kernels(x).conv2d_fwd(x, w, *geometry)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, _ = ctx.needs_input_grad
        return (ConvTranspose2d.apply(gy, w, x.shape[2:], ctx.geometry) if need_x else None,
                Conv2dGradW.apply(x, gy, w.shape, ctx.geometry) if need_w else None,
                None)


class ConvTranspose2d(Function):
    """y = conv2d's input gradient for upstream x: x (N, C_in, H, W), w (C_in, C_out/groups,
    kH, kW), y (N, C_out, *out_hw)."""

    @staticmethod
    def forward(ctx, x, w, out_hw, geometry):
        ctx.save_for_backward(x, w)
        ctx.geometry = geometry
        return backend.kernels(x).conv2d_bwd_input(x, w, out_hw, *geometry)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        return (Conv2d.apply(gy, w, ctx.geometry) if need_x else None,
                Conv2dGradW.apply(gy, x, w.shape, ctx.geometry) if need_w else None,
                None, None)


class Conv2dGradW(Function):
    """dw = conv2d's weight gradient for input x and upstream gy; bilinear in (x, gy)."""

    @staticmethod
    def forward(ctx, x, gy, w_shape, geometry):
        ctx.save_for_backward(x, gy)
        ctx.geometry = geometry
        return backend.kernels(x).conv2d_bwd_weight(x, gy, w_shape, *geometry)

    @staticmethod
    def backward(ctx, ggw):
        x, gy = ctx.saved_tensors
        need_x, need_gy = ctx.needs_input_grad[:2]
        return (ConvTranspose2d.apply(gy, ggw, x.shape[2:], ctx.geometry) if need_x else None,
                Conv2d.apply(x, ggw, ctx.geometry) if need_gy else None,
                None, None)


# --- sizes and checks -------------------------------------------------------------------------

def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution along one axis (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_output_size(size, kernel, stride, padding, dilation, output_padding):
    """Output length of a transposed convolution along one axis (PyTorch's formula)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _pair(op, name, value, minimum):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return pair


def _batched(op, x, w):
    """``x`` as a batch (an unbatched (C, H, W) input becomes a batch of one), and whether it was
    one already."""
    if x.ndim not in (3, 4) or w.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), and a "
                         f"4-D weight, got input {x.shape} and weight {w.shape}")
    return (x, True) if x.ndim == 4 else (unsqueeze(x, 0), False)


def _check_operands(op, x, w, groups, in_channels_of_weight):
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if x.shape[1] != in_channels_of_weight:
        raise ValueError(f"{op}: input {x.shape} has {x.shape[1]} channels but weight {w.shape} "
                         f"with groups={groups} expects {in_channels_of_weight}")


def _geometry(op, stride, padding, dilation):
    return (_pair(op, "stride", stride, 1), _pair(op, "padding", padding, 0),
            _pair(op, "dilation", dilation, 1))


def check_padding_name(op, padding, stride):
    if padding not in ("same", "valid"):
        raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a pair of ints, "
                         f"got {padding!r}")
    if padding == "same" and stride != (1, 1):
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                         f"(stride {stride})")


def _padding_by_name(op, x, kernel_hw, padding, stride, dilation):
    """conv2d's padding='valid' (none) and 'same' (d (k - 1) in all, so that the output has the
    input's size): the input, padded by one at the bottom or right where that total is odd, and
    the symmetric padding that remains, as PyTorch does."""
    check_padding_name(op, padding, stride)
    if padding == "valid":
        return x, (0, 0)
    total = [d * (k - 1) for k, d in zip(kernel_hw, dilation)]
    if total[0] % 2 or total[1] % 2:
        x = pad(x, (0, total[1] % 2, 0, total[0] % 2))
    return x, (total[0] // 2, total[1] // 2)


def _add_bias(y, bias):
    return y if bias is None else y + reshape(bias, 1, -1, 1, 1)


# --- functional forms -------------------------------------------------------------------------

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: input (N, C_in, H, W) or (C_in, H, W), weight
    (C_out, C_in/groups, kH, kW), bias (C_out,) -> (N, C_out, H_out, W_out) or
    (C_out, H_out, W_out), H_out = (H + 2p - d(k - 1) - 1) // s + 1. ``padding`` may also be
    'valid' (0) or 'same' (H_out = H; stride 1 only).

    See: torch.nn.functional.conv2d
    """
    op = "conv2d"
    input, weight, *rest = promote(op, *[t for t in (floating(op, input), weight, bias) if t is not None])
    input, batched = _batched(op, input, weight)
    _check_operands(op, input, weight, groups, weight.shape[1] * groups)
    if weight.shape[0] % groups:
        raise ValueError(f"{op}: groups={groups} does not divide the {weight.shape[0]} output "
                         f"channels of weight {weight.shape}")
    named_padding = padding if isinstance(padding, str) else None
    stride, padding, dilation = _geometry(op, stride, 0 if named_padding else padding, dilation)
    if named_padding:
        input, padding = _padding_by_name(op, input, weight.shape[2:], named_padding, stride, dilation)
    out_hw = tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d in
                   zip(input.shape[2:], weight.shape[2:], stride, padding, dilation))
    if min(out_hw) < 1:
        raise ValueError(f"{op}: kernel {weight.shape[2:]} with dilation {dilation} is larger than "
                         f"the padded input {tuple(n + 2 * p for n, p in zip(input.shape[2:], padding))}")
    _check_bias(op, rest, weight.shape[0])
    y = Conv2d.apply(input, weight, (stride, padding, dilation, groups))
    return _unbatch(_add_bias(y, rest[0] if rest else None), batched)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution (the adjoint of conv2d): input (N, C_in, H, W) or
    (C_in, H, W), weight (C_in, C_out/groups, kH, kW), bias (C_out,) -> (N, C_out, H_out, W_out)
    or (C_out, H_out, W_out) with H_out = (H - 1) s - 2p + d(k - 1) + output_padding + 1.

    See: torch.nn.functional.conv_transpose2d
    """
    op = "conv_transpose2d"
    input, weight, *rest = promote(op, *[t for t in (floating(op, input), weight, bias) if t is not None])
    input, batched = _batched(op, input, weight)
    _check_operands(op, input, weight, groups, weight.shape[0])
    if weight.shape[0] % groups:
        raise ValueError(f"{op}: groups={groups} does not divide the {weight.shape[0]} input "
                         f"channels of weight {weight.shape}")
    stride, padding, dilation = _geometry(op, stride, padding, dilation)
    output_padding = _pair(op, "output_padding", output_padding, 0)
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                         f"stride {stride} or dilation {dilation}")
    out_hw = tuple(conv_transpose_output_size(n, k, s, p, d, o) for n, k, s, p, d, o in
                   zip(input.shape[2:], weight.shape[2:], stride, padding, dilation, output_padding))
    if min(out_hw) < 1:
        raise ValueError(f"{op}: input {input.shape} with kernel {weight.shape[2:]}, stride {stride}, "
                         f"padding {padding} gives an empty output {out_hw}")
    _check_bias(op, rest, weight.shape[1] * groups)
    if all(o < s for o, s in zip(output_padding, stride)):
        y = ConvTranspose2d.apply(input, weight, out_hw, (stride, padding, dilation, groups))
    else:
        y = _cut_from_unpadded(input, weight, out_hw, stride, padding, dilation, groups)
    return _unbatch(_add_bias(y, rest[0] if rest else None), batched)


def _cut_from_unpadded(x, w, out_hw, stride, padding, dilation, groups):
    """The transposed convolution for an output_padding of at least the stride, which conv2d
    cannot map back (the kernel refuses it): computed without padding, on the full size
    (n - 1) s + d (k - 1) + 1, then cut at ``padding`` on the top/left and cut or padded with
    zeros (no tap reaches there) at the bottom/right to ``out_hw``."""
    full_hw = tuple(conv_transpose_output_size(n, k, s, 0, d, 0) for n, k, s, d in
                    zip(x.shape[2:], w.shape[2:], stride, dilation))
    y = ConvTranspose2d.apply(x, w, full_hw, (stride, (0, 0), dilation, groups))
    (ph, pw), (oh, ow), (fh, fw) = padding, out_hw, full_hw
    return pad(y, (-pw, ow + pw - fw, -ph, oh + ph - fh))


def _unbatch(y, batched):
    return y if batched else squeeze(y, 0)


def _check_bias(op, rest, channels):
    if rest and rest[0].shape != (channels,):
        raise ValueError(f"{op}: bias has shape {rest[0].shape} but the output has {channels} "
                         "channels")
