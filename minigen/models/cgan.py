"""Conditional GAN (Mirza & Osindero, 2014) with a projection discriminator (Miyato & Koyama, 2018).

Both networks see the class label y. The generator is the DCGAN generator with the label's
one-hot code appended to z: G([z, onehot(y)]). The discriminator is SNGAN's (spectral norm,
hinge loss) with its score split in two, D(x, y) = ψ(φ(x)) + ⟨e(y), φ(x)⟩
(``networks.ProjectionDiscriminator``): the projection term is what makes D judge "a real
digit *of class y*". The conditioning itself lives in gan.py, shared with the self-conditioned
models (which use k-means clusters instead of labels).

``minigen sample CKPT --label 3`` draws one class; the pictures show one row per class.
"""
import minigen

from .sngan import SNGAN


class ConditionalGAN(SNGAN):
    name = "cgan"
    conditional = True
    clusters = 0   # it has the labels
    defaults = {"steps": 7500, "batch_size": 64, "lr": 2e-4}   # 10 minutes on 2 CPU cores

    def __init__(self, data_shape, lr=2e-4, num_classes=10, **options):
        if num_classes < 2:
            raise ValueError(f"cgan needs labelled data with at least 2 classes, got {num_classes}")
        super().__init__(data_shape, lr, num_classes, **options)

    def sample(self, count, labels=None):
        """Samples of the given classes (a sequence), all of one class (an int), or by default
        every class in turn in equal runs: 0, 0, ..., 1, 1, ... (a row per class in a grid)."""
        if labels is None:
            labels = [i * self.num_classes // count for i in range(count)]
        elif isinstance(labels, int):
            labels = [labels] * count
        return super().sample(count, minigen.tensor(labels, device=self.device))
