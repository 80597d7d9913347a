"""The Fréchet distance between two Gaussians, in float64, with a stable matrix square root.

    FD = ||mu1 - mu2||² + tr(S1) + tr(S2) - 2 tr((S1^½ S2 S1^½)^½)

Every square root here is of a symmetric positive semi-definite matrix, so it comes from a
symmetric eigendecomposition with the eigenvalues clipped at 0: real by construction and
well defined for singular covariances (fewer samples than dimensions, dead ReLU features).
The usual ``scipy.linalg.sqrtm(S1 @ S2)`` takes the root of a non-symmetric product, which
goes complex or inaccurate when a covariance is near singular and needs an offset to recover.
"""
import numpy as np


def sqrtm_psd(matrix):
    """The symmetric PSD square root R of a symmetric PSD ``matrix`` A (R @ R = A), float64.

    Eigenvalues within roundoff below 0 count as 0; clearly negative ones raise ValueError.
    """
    eigenvalues, eigenvectors = np.linalg.eigh(_psd("sqrtm_psd", matrix))
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T


def gaussian_fit(features):
    """Mean (d,) and covariance (d, d), ddof=1, of the rows of ``features`` (n, d), n >= 2, in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2 or x.shape[1] == 0:
        raise ValueError(f"gaussian_fit: features must have shape (n, d) with n >= 2, d >= 1, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("gaussian_fit: features contain NaN or infinite values")
    mean = x.mean(axis=0)
    centred = x - mean
    return mean, centred.T @ centred / (len(x) - 1)


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """The Fréchet (2-Wasserstein squared) distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``tr((S1^½ S2 S1^½)^½)`` is the sum of the square roots of the eigenvalues of the symmetric
    PSD matrix ``S1^½ S2 S1^½``; the result is clipped at 0, which only roundoff can cross.
    """
    mu1, mu2 = (np.asarray(mu, dtype=np.float64) for mu in (mu1, mu2))
    if mu1.ndim != 1 or mu1.shape != mu2.shape or len(mu1) == 0:
        raise ValueError(f"frechet_distance: the means must be vectors of one length d >= 1, "
                         f"got shapes {mu1.shape} and {mu2.shape}")
    if not (np.isfinite(mu1).all() and np.isfinite(mu2).all()):
        raise ValueError("frechet_distance: the means contain NaN or infinite values")
    d = len(mu1)
    sigma1 = _psd("frechet_distance", sigma1, d)
    sigma2 = _psd("frechet_distance", sigma2, d)
    root1 = sqrtm_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    cross = np.sqrt(np.clip(eigenvalues, 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * cross, 0.0))


def _psd(op, matrix, d=None):
    """``matrix`` as a float64 symmetric PSD (d, d) array, or a ValueError saying why not."""
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0 or (d is not None and a.shape[0] != d):
        want = f"({d}, {d})" if d is not None else "(d, d)"
        raise ValueError(f"{op}: a covariance must be a square matrix {want}, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{op}: the covariance contains NaN or infinite values")
    scale = max(np.abs(a).max(), np.finfo(np.float64).tiny)
    asymmetry = np.abs(a - a.T).max()
    if asymmetry > 1e-8 * scale:
        raise ValueError(f"{op}: the covariance is not symmetric (max |A - A^T| = {asymmetry:.3g})")
    a = (a + a.T) / 2
    # Roundoff leaves eigenvalues of a PSD matrix as low as about -d * eps * scale.
    lowest = np.linalg.eigvalsh(a)[0]
    if lowest < -1e-8 * scale * a.shape[0]:
        raise ValueError(f"{op}: the covariance is not positive semi-definite (eigenvalue {lowest:.3g})")
    return a
