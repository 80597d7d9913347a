"""k-means clusters of the training images, the labels of a self-conditioned GAN.

A generator is a continuous map of one Gaussian, but the digits fall into ten separate
classes: an unconditional generator spends much of its latent space on shapes between them,
which are no digit. A self-conditioned GAN (Liu et al., 2020; Sage et al., 2018, with k-means)
removes the need to cross those gaps without using any label: it clusters the training images,
trains as a conditional GAN on the cluster indices, and samples a cluster by its share of the
data before drawing z. Clusters of raw pixels are not classes (a slanted and an upright 1 may
fall apart, a 4 and a 9 together), but each holds similar shapes, which is all the generator
needs; more clusters than classes keeps them tighter.
"""
import numpy as np

ITERATIONS = 25


def kmeans(points, k, rng):
    """Lloyd's k-means of ``points`` (N, D) from a k-means++ start drawn with ``rng``:
    the centroids (k, D) and the share of the points nearest each, float64."""
    points = np.asarray(points, np.float64)
    chosen = [points[rng.integers(len(points))]]
    distance = squared_distances(points, chosen[0][None]).ravel()   # to the nearest chosen centroid
    for _ in range(1, k):   # k-means++: each new centroid far from those chosen, by D² sampling
        chosen.append(points[rng.choice(len(points), p=distance / distance.sum())])
        distance = np.minimum(distance, squared_distances(points, chosen[-1][None]).ravel())
    centroids = np.stack(chosen)
    for _ in range(ITERATIONS):
        nearest = nearest_centroid(points, centroids)
        centroids = np.stack([points[nearest == j].mean(axis=0) if np.any(nearest == j) else centroids[j]
                              for j in range(k)])
    nearest = nearest_centroid(points, centroids)
    return centroids, np.bincount(nearest, minlength=k) / len(points)


def nearest_centroid(points, centroids):
    """The index of the centroid nearest each of ``points`` (N, D)."""
    return np.argmin(squared_distances(points, centroids), axis=1)


def squared_distances(points, centroids):
    """‖p − c‖² for every pair, (N, k), as ‖p‖² − 2 p·c + ‖c‖² (rounding can take that a little
    below 0 for a point on a centroid: clipped, since k-means++ samples by these)."""
    return np.maximum((points ** 2).sum(axis=1)[:, None] - 2 * points @ centroids.T
                      + (centroids ** 2).sum(axis=1)[None, :], 0.0)
