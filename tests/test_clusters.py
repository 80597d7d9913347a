"""Self-conditioning on k-means clusters (models/clusters.py, gan.py): the clustering, the labels
a batch gets, the labels samples draw, and the command line on a self-conditioned model."""
import numpy as np

import minigen
from minigen import checkpoint
from minigen.cli import main
from minigen.models import DCGAN, GAN
from minigen.models.clusters import kmeans, nearest_centroid
from minigen.data.catalog import load_dataset


def blobs(rng, sizes, spread=0.05):
    """Points around far-apart centres, ``sizes[i]`` of them around centre i, with their labels."""
    centres = rng.normal(0, 10, (len(sizes), 6))
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return centres[labels] + rng.normal(0, spread, (len(labels), 6)), labels


def test_kmeans_finds_separated_blobs_with_their_shares():
    points, labels = blobs(np.random.default_rng(0), [50, 120, 30, 200])
    centroids, shares = kmeans(points, 4, np.random.default_rng(1))
    nearest = nearest_centroid(points, centroids)
    # one cluster per blob: the clustering is the labelling up to a renaming
    assert len(set(zip(labels, nearest))) == 4
    np.testing.assert_allclose(np.sort(shares), np.sort([50, 120, 30, 200]) / 400)
    for j in range(4):   # each centroid is the mean of its members
        np.testing.assert_allclose(centroids[j], points[nearest == j].mean(axis=0))


def test_kmeans_is_reproducible_from_the_generator():
    points, _ = blobs(np.random.default_rng(0), [40, 40, 40])
    first, second = (kmeans(points, 5, np.random.default_rng(7)) for _ in range(2))
    np.testing.assert_array_equal(first[0], second[0])


def clustered_model():
    minigen.manual_seed(0)
    model = DCGAN((1, 28, 28))
    model.prepare(load_dataset("digits").train)
    return model


def test_a_batch_is_labelled_by_its_nearest_cluster_and_samples_draw_clusters_by_share():
    model = clustered_model()
    train = load_dataset("digits").train
    centroids, shares = model.cluster_centroids.numpy(), model.cluster_shares.numpy()
    assert centroids.shape == (DCGAN.clusters, 784) and np.isclose(shares.sum(), 1.0)
    images = train.tensors[0][::37]
    expected = nearest_centroid(images.numpy().reshape(len(images), -1).astype(np.float64), centroids)
    np.testing.assert_array_equal(model.labels_of((images,)).numpy(), expected)
    draws = 20000
    counts = np.bincount(model.random_labels(draws).numpy(), minlength=DCGAN.clusters)
    # every share within 5 binomial standard deviations
    assert np.all(np.abs(counts - draws * shares) <= 5 * np.sqrt(draws * shares * (1 - shares)) + 1)


def test_the_clusters_are_part_of_the_checkpointed_state():
    state = clustered_model().state_dict()
    assert {"cluster_centroids", "cluster_shares"} <= set(state)


def test_a_self_conditioned_run_samples_and_interpolates_without_labels(tmp_path):
    out = tmp_path / "dcgan"
    assert main(["train", "dcgan", "--steps", "2", "--batch-size", "16", "--out", str(out), "--quiet",
                 "--sample-every", "1000"]) == 0
    assert main(["sample", str(out / "checkpoint.npz"), "--count", "10"]) == 0
    assert main(["interpolate", str(out / "checkpoint.npz"), "--rows", "2", "--columns", "3"]) == 0
    assert (out / "sampled.png").stat().st_size > 0 and (out / "interpolation.png").stat().st_size > 0


def test_a_checkpoint_from_before_the_clusters_names_the_keys_it_lacks(tmp_path, capsys):
    """A dcgan checkpoint written before self-conditioning (no cluster or average keys) is refused
    with a message naming what changed, not loaded half-way."""
    out = tmp_path / "dcgan"
    assert main(["train", "dcgan", "--steps", "1", "--batch-size", "8", "--out", str(out), "--quiet",
                 "--sample-every", "1000"]) == 0
    saved = checkpoint.load(out / "checkpoint.npz")
    saved["model"] = {key: value for key, value in saved["model"].items()
                      if not key.startswith(("cluster_", "generator_ema."))}
    checkpoint.save(out / "checkpoint.npz", saved)
    capsys.readouterr()
    assert main(["eval", str(out / "checkpoint.npz")]) == 1
    message = capsys.readouterr().err
    assert "does not fit dcgan" in message and "cluster_centroids" in message


class ClusteredPointsGAN(GAN):
    points_recipe = {**GAN.points_recipe, "clusters": 12}


def test_on_points_the_clusters_find_the_modes_and_condition_both_networks():
    minigen.manual_seed(0)
    model = ClusteredPointsGAN((2,), lr=1e-3)
    source = load_dataset("ring8")
    model.prepare(source.train)
    centroids = model.cluster_centroids.numpy()
    # 12 clusters of 8 well-separated modes: every centroid lies near a mode, every mode has one
    distances = np.linalg.norm(centroids[:, None] - source.distribution.means[None], axis=2)
    assert np.all(distances.min(axis=1) < 5 * source.distribution.std)
    assert len(set(distances.argmin(axis=1))) == 8
    assert model.generator[0].in_features == model.latent_dim + 12
    points = source.train.tensors[0][:64]
    losses = model.train_step((points,), 0)
    assert all(np.isfinite(list(losses.values())))
    assert model.sample(10).shape == (10, 2)


def test_points_keep_their_own_recipe_whatever_the_images_use():
    image_recipe = type("ImageRecipe", (GAN,), {"clusters": 20, "ema": 0.999, "spectral_norm": True})
    on_points = image_recipe((2,))
    assert on_points.clusters == GAN.points_recipe["clusters"] == 50 and on_points.lr_decay
    assert on_points.generator_ema is None and not on_points.spectral_norm
    assert image_recipe((1, 28, 28)).clusters == 20


def test_w1s_mlps_on_images_take_their_own_recipe_and_the_convolutional_gans_do_not():
    mlp = GAN((1, 28, 28), lr=2e-4)
    assert mlp.clusters == 20 and mlp.lr_decay and mlp.generator_ema is not None
    assert mlp.lr_g == 2e-4 and mlp.lr_d == 2e-5   # D at a tenth of G's rate
    assert GAN((1, 28, 28), lr=2e-4, lr_d=1e-3).lr_d == 1e-3   # unless asked otherwise
    convolutional = DCGAN((1, 28, 28), lr=2e-4)
    assert not convolutional.lr_decay and convolutional.lr_d == 2e-4
