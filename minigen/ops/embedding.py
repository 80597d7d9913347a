"""The embedding lookup: a gather of weight rows (``Index``), whose gradient adds each upstream
row into the row it was read from, so repeated indices accumulate."""
from .. import dtypes
from ..tensor import Tensor
from .indexing import Index
from .pointwise import where


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """The rows of ``weight`` (num_embeddings, embedding_dim) that the int64 tensor ``input``
    names: shape ``input.shape + (embedding_dim,)``. The row ``padding_idx`` (may be negative)
    is read but gets no gradient, as in PyTorch. ``max_norm`` (which renormalises rows of the
    weight in place), ``scale_grad_by_freq`` and ``sparse`` gradients are not supported and
    raise ``ValueError``; ``norm_type`` only matters with ``max_norm``.

    Non-int64 indices raise ``TypeError``; an index outside [0, num_embeddings) raises
    ``IndexError`` naming it.

    Example::

        >>> embedding(minigen.tensor([[2, 0]]), minigen.randn(3, 4)).shape
        (1, 2, 4)

    See: torch.nn.functional.embedding
    """
    refuse_unsupported_embedding_options("embedding", max_norm, scale_grad_by_freq, sparse)
    if not isinstance(input, Tensor) or input.dtype != dtypes.int64:
        got = dtypes.name(input.dtype) if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"embedding: indices must be an int64 tensor, got {got}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
                         f"got shape {weight.shape}")
    indices, rows = input._data, weight.shape[0]
    outside = (indices < 0) | (indices >= rows)
    if outside.any():
        raise IndexError(f"embedding: index {indices[outside][0]} is out of range for "
                         f"num_embeddings={rows} (expected 0 <= index < {rows})")
    gathered = Index.apply(weight, (indices,))
    if padding_idx is None:
        return gathered
    at_padding = (indices == padding_row("embedding", padding_idx, rows))[..., None]
    return where(at_padding, gathered.detach(), gathered)


def padding_row(op, padding_idx, rows):
    """``padding_idx`` as a row of a table of ``rows`` rows (negative counts from the end)."""
    if not isinstance(padding_idx, int) or not -rows <= padding_idx < rows:
        raise ValueError(f"{op}: padding_idx must be an int in [-{rows}, {rows}) for "
                         f"num_embeddings={rows}, got {padding_idx!r}")
    return padding_idx % rows


def refuse_unsupported_embedding_options(op, max_norm, scale_grad_by_freq, sparse):
    for name, value, default in (("max_norm", max_norm, None),
                                 ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value != default:
            raise ValueError(f"{op}: {name}={value!r} is not supported (only {name}={default!r})")
