"""The MNIST metrics: the Fréchet distance against closed forms and an independent square root,
the shipped classifier against its recorded accuracy, and FCD, classifier score and class
histogram on real digits and on samples whose failures are known (noise, one digit, one class)."""
import json
import shutil
from importlib import resources

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import minigen
from minigen.data.catalog import load_dataset
from minigen.data.mnist import load_digits
from minigen.metrics import (FEATURE_DIM, class_histogram, classifier_score, classify, digit_metrics, fcd,
                             fcd_floor, features, frechet_distance, gaussian_fit, load_classifier,
                             probabilities, sqrtm_psd)
from minigen.metrics.classifier import WEIGHTS, save_classifier

PIXELS = (0, 255)


def orthogonal(rng, d):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def psd(rng, d, rank=None):
    """A random (d, d) PSD matrix of the given rank (full by default)."""
    a = rng.standard_normal((d, d if rank is None else rank))
    return a @ a.T


def denman_beavers(a, steps=100):
    """sqrtm of a matrix whose eigenvalues are real and positive, by the Denman–Beavers iteration
    (Y -> A^½, Z -> A^-½): independent of the eigendecomposition the code under test uses."""
    y, z = a.copy(), np.eye(len(a))
    for _ in range(steps):
        y, z = (y + np.linalg.inv(z)) / 2, (z + np.linalg.inv(y)) / 2
    return y


def reference_fd(mu1, s1, mu2, s2):
    """The textbook formula with tr((S1 S2)^½), S1 S2 non-symmetric, both S positive definite."""
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2)
                 - 2 * np.trace(denman_beavers(s1 @ s2)))


# --- the Fréchet distance --------------------------------------------------------------------

@given(d=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_commuting_covariances_give_the_closed_form(d, seed):
    """Same eigenbasis: FD = ||mu1 - mu2||² + sum (sqrt(l1) - sqrt(l2))², zero eigenvalues included."""
    rng = np.random.default_rng(seed)
    q = orthogonal(rng, d)
    l1, l2 = rng.uniform(0, 3, d), rng.uniform(0, 3, d)
    l1[rng.random(d) < 0.3] = 0     # singular covariances
    l2[rng.random(d) < 0.3] = 0
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(l1) - np.sqrt(l2)) ** 2)
    got = frechet_distance(mu1, (q * l1) @ q.T, mu2, (q * l2) @ q.T)
    # A zero eigenvalue is stored as roughly +-1e-16, whose square root is 1e-8: near singular
    # covariances the distance itself is only determined to about sqrt(eps) by its arguments.
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-7 * d)


@given(d=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_non_commuting_covariances_match_an_independent_square_root(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = psd(rng, d) + 0.1 * np.eye(d), psd(rng, d) + 0.1 * np.eye(d)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference_fd(mu1, s1, mu2, s2), rel=1e-7)


@given(d=st.integers(2, 8), k=st.integers(1, 7), seed=st.integers(0, 2**32 - 1))
@example(d=7, k=1, seed=244)
def test_gaussians_in_a_common_subspace_match_their_restriction(d, k, seed):
    """Rank-k covariances on the same k-dim subspace of R^d, not commuting within it: the FD is
    that of the k-dim Gaussians, which are non-singular and go through the reference."""
    k = min(k, d - 1)
    rng = np.random.default_rng(seed)
    basis = orthogonal(rng, d)[:, :k]
    c1, c2 = psd(rng, k) + 0.1 * np.eye(k), psd(rng, k) + 0.1 * np.eye(k)
    m1, m2 = rng.standard_normal(k), rng.standard_normal(k)
    got = frechet_distance(basis @ m1, basis @ c1 @ basis.T, basis @ m2, basis @ c2 @ basis.T)
    # The d - k zero eigenvalues come out of the rotation as about +-1e-16, and their square roots
    # (about 1e-8 each) enter the cross term: as in the closed-form test above, the distance is
    # determined to about sqrt(eps) per dimension (d=7, k=1 once differed by 5e-9).
    assert got == pytest.approx(reference_fd(m1, c1, m2, c2), rel=1e-7, abs=1e-7 * d)


@given(d=st.integers(1, 8), rank1=st.integers(0, 8), rank2=st.integers(0, 8), seed=st.integers(0, 2**32 - 1))
def test_distance_is_zero_on_itself_symmetric_and_non_negative(d, rank1, rank2, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = psd(rng, d, min(rank1, d)), psd(rng, d, min(rank2, d))
    scale = 1 + np.trace(s1) + np.trace(s2)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0, abs=1e-7 * scale)
    forward, backward = frechet_distance(mu1, s1, mu2, s2), frechet_distance(mu2, s2, mu1, s1)
    assert np.isfinite(forward) and forward >= 0
    assert forward == pytest.approx(backward, rel=1e-9, abs=1e-7 * scale)   # sqrt(eps), see above


@given(d=st.integers(1, 10), rank=st.integers(0, 10), seed=st.integers(0, 2**32 - 1))
def test_sqrtm_psd_squares_back(d, rank, seed):
    a = psd(np.random.default_rng(seed), d, min(rank, d))
    root = sqrtm_psd(a)
    np.testing.assert_allclose(root @ root, a, atol=1e-10 * (1 + np.abs(a).max()))
    np.testing.assert_allclose(root, root.T, atol=1e-12 * (1 + np.abs(a).max()))
    assert np.linalg.eigvalsh(root).min() >= -1e-7 * (1 + np.abs(a).max())


def test_gaussian_fit_is_the_sample_mean_and_unbiased_covariance():
    x = np.random.default_rng(0).standard_normal((50, 3)).astype(np.float32)
    mean, cov = gaussian_fit(x)
    assert mean.dtype == cov.dtype == np.float64
    np.testing.assert_allclose(mean, x.mean(axis=0, dtype=np.float64), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(x.astype(np.float64), rowvar=False, ddof=1), rtol=1e-12)
    assert gaussian_fit(x[:, :1])[1].shape == (1, 1)


@pytest.mark.parametrize("call, message", [
    (lambda: frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)), "length"),
    (lambda: frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)), "(2, 2)"),
    (lambda: frechet_distance(np.zeros(2), [[1, 1], [0, 1]], np.zeros(2), np.eye(2)), "symmetric"),
    (lambda: frechet_distance(np.zeros(2), -np.eye(2), np.zeros(2), np.eye(2)), "semi-definite"),
    (lambda: frechet_distance([np.nan, 0], np.eye(2), np.zeros(2), np.eye(2)), "NaN"),
    (lambda: sqrtm_psd(np.ones((2, 3))), "square"),
    (lambda: gaussian_fit(np.zeros((1, 4))), "n >= 2"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


# --- the shipped classifier ------------------------------------------------------------------

@pytest.fixture(scope="module")
def held_out():
    images, labels = load_dataset("digits", image_range=(0.0, 1.0)).held_out.tensors
    return images.numpy(), labels.numpy()


@pytest.fixture(scope="module")
def digits():
    images, labels = load_digits()
    return images[:, None], labels


def test_held_out_accuracy_is_the_recorded_one(held_out):
    images, labels = held_out
    recorded = load_classifier().metadata["held_out_accuracy"]
    accuracy = (probabilities(images, (0, 1)).argmax(axis=1) == labels).mean()
    # one digit of slack: the kernels pick AVX-512, AVX2 or scalar code at run time, whose
    # rounding may differ from the machine that trained the classifier
    assert accuracy >= recorded - 1 / len(labels)
    assert recorded >= 0.97


def test_features_and_probabilities_have_their_shapes(held_out):
    images = held_out[0][:7]
    out = classify(minigen.tensor(images), (0, 1))
    assert out.features.shape == (7, FEATURE_DIM) and out.probabilities.shape == (7, 10)
    assert out.features.dtype == out.probabilities.dtype == np.float64
    assert (out.features >= 0).all()     # after the ReLU
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(features(images, (0, 1)), out.features)


def test_every_value_range_gives_the_same_features(digits):
    pixels = digits[0][:64]
    expected = features(pixels, PIXELS)
    for low, high in ((0, 1), (-1, 1), (-3, 5)):
        scaled = (low + (high - low) * (pixels / 255.0)).astype(np.float32)   # not uint8 * int
        np.testing.assert_allclose(features(scaled, (low, high)), expected, rtol=1e-4, atol=1e-4)


def test_the_weights_file_round_trips(tmp_path, held_out):
    model = load_classifier()
    save_classifier(model, tmp_path / "copy.npz", {"note": "copy"})
    copy = load_classifier(tmp_path / "copy.npz")
    assert copy.metadata["note"] == "copy"
    x = minigen.tensor(held_out[0][:5] * 2 - 1)
    with minigen.no_grad():
        np.testing.assert_array_equal(copy(x).numpy(), model(x).numpy())


def shipped_entries():
    with resources.files("minigen.metrics").joinpath(WEIGHTS).open("rb") as f, np.load(f) as npz:
        return {key: npz[key] for key in npz.files}


def test_a_missing_or_corrupt_weights_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        load_classifier(tmp_path / "nowhere.npz")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="garbage.npz.*not a readable"):
        load_classifier(tmp_path / "garbage.npz")
    with resources.as_file(resources.files("minigen.metrics").joinpath(WEIGHTS)) as shipped:
        shutil.copy(shipped, tmp_path / "whole.npz")
    data = (tmp_path / "whole.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="truncated.npz"):
        load_classifier(tmp_path / "truncated.npz")

    def broken(name, change):
        entries = shipped_entries()
        change(entries)
        np.savez(tmp_path / name, **entries)
        with pytest.raises(ValueError, match=name):
            load_classifier(tmp_path / name)

    broken("no_metadata.npz", lambda e: e.pop("metadata"))
    broken("bad_json.npz", lambda e: e.update(metadata=np.array("{oops")))
    broken("other_version.npz", lambda e: e.update(
        metadata=np.array(json.dumps({**json.loads(str(e["metadata"])), "version": 99}))))
    broken("missing_array.npz", lambda e: e.pop("head.bias"))
    broken("wrong_shape.npz", lambda e: e.update({"head.bias": np.zeros(11, np.float32)}))
    broken("nan_weights.npz", lambda e: e.update({"head.bias": np.full(10, np.nan, np.float32)}))


@pytest.mark.parametrize("images, value_range, message", [
    (np.zeros((4, 28, 28), np.float32), (0, 1), "shape"),
    (np.zeros((4, 3, 28, 28), np.float32), (0, 1), "shape"),
    (np.zeros((0, 1, 28, 28), np.float32), (0, 1), "N >= 1"),
    (np.full((4, 1, 28, 28), np.nan, np.float32), (0, 1), "NaN"),
    (np.zeros((4, 1, 28, 28), np.complex64), (0, 1), "dtype"),
    (np.full((4, 1, 28, 28), 255, np.uint8), (0, 1), "value_range"),
    (np.zeros((4, 1, 28, 28), np.float32), (1, 0), "low < high"),
])
def test_bad_images_are_named(images, value_range, message):
    with pytest.raises(ValueError, match=message):
        features(images, value_range)


# --- FCD, classifier score, class histogram --------------------------------------------------

def halves(digits):
    """The split the metrics document: even positions within each class form the reference half,
    odd ones the comparison half, interleaved class by class."""
    images, labels = digits
    per_class = [np.flatnonzero(labels == c) for c in range(10)]
    reference = np.concatenate([index[0::2] for index in per_class])
    comparison = np.stack([index[1::2] for index in per_class], axis=1).ravel()
    return images[reference], images[comparison]


def test_the_floor_is_the_fcd_of_the_two_halves(digits):
    reference, comparison = halves(digits)
    assert len(reference) == len(comparison) == 2500
    floor = fcd_floor()
    assert floor == pytest.approx(fcd(comparison, reference, PIXELS), rel=1e-9)
    # small beside the spread of the features themselves (2 tr S would be the FCD of independent draws)
    assert 0 < floor < 0.02 * np.trace(gaussian_fit(features(reference, PIXELS))[1])
    metrics = digit_metrics(comparison[:500], PIXELS)
    assert metrics["fcd"] == pytest.approx(metrics["fcd_floor"], rel=1e-9)
    assert metrics["fcd_floor"] == pytest.approx(fcd_floor(500), rel=1e-9) and fcd_floor(500) > floor
    assert metrics["classifier_score"] == pytest.approx(metrics["classifier_score_real"], rel=1e-9)
    assert metrics["n"] == 500 and metrics["classes_missing"] == 0
    assert json.loads(json.dumps(metrics)) == metrics


def test_failed_generators_score_far_above_the_floor(digits):
    images, labels = digits
    rng = np.random.default_rng(0)
    floor = fcd_floor(500)
    noise = rng.uniform(0, 255, (500, 1, 28, 28))
    one_digit = np.repeat(images[:1], 500, axis=0)          # zero covariance: singular
    one_class = images[labels == 3]
    for samples in (noise, one_digit, one_class):
        assert digit_metrics(samples, PIXELS)["fcd"] > 10 * floor


def test_classifier_score_and_histogram_see_the_classes(digits, held_out):
    images, labels = digits
    assert classifier_score(held_out[0], (0, 1)) > 8
    np.testing.assert_allclose(class_histogram(held_out[0], (0, 1)), 0.1, atol=0.02)
    sevens = images[labels == 7]
    assert classifier_score(sevens, PIXELS) < 1.2
    shares = class_histogram(sevens, PIXELS)
    assert shares.sum() == pytest.approx(1) and shares[7] >= 0.97
    metrics = digit_metrics(sevens, PIXELS)
    assert metrics["classes_missing"] == 9 and metrics["class_histogram"] == pytest.approx(shares.tolist())


def test_sample_counts_outside_the_comparable_range_are_refused(digits):
    few = digits[0][:FEATURE_DIM]
    with pytest.raises(ValueError, match=f"at least {FEATURE_DIM + 1} samples"):
        fcd(few, digits[0][:1000], PIXELS)
    with pytest.raises(ValueError, match=f"between {FEATURE_DIM + 1} samples"):
        digit_metrics(few, PIXELS)
    with pytest.raises(ValueError, match="2500"):
        digit_metrics(digits[0][:2501], PIXELS)
    with pytest.raises(ValueError, match="sample count"):
        fcd_floor(100.0)
