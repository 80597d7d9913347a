"""What every model offers the trainer, the command line and the examples.

A model is a ``Module`` that owns its networks *and* its optimisers, because the training
step is where the models differ most: a GAN alternates two optimisers, a WGAN steps its
critic several times per generator step, an autoencoder has one loss. The trainer only
feeds batches to ``train_step`` and saves what ``state_dict`` and ``optimizers`` return.

One step is one batch. Models that update a network only every few batches (WGAN's
n_critic) count the batches themselves through the ``step`` argument.
"""
import contextlib
import math

import minigen

from .. import nn


class GenerativeModel(nn.Module):
    name = None                      # the registry key: ``minigen train NAME``
    default_data = "digits"
    data_kinds = ("image", "points")  # which kinds of dataset the model can learn
    image_range = (-1.0, 1.0)        # the range image data is scaled to for this model
    conditional = False              # whether batches must carry class labels
    can_sample = True                # whether ``sample`` draws new data (not for plain AEs)
    lr_decay = False                 # whether the trainer decays lr linearly to 0 over the run
    defaults = {"steps": 2000, "batch_size": 64, "lr": 2e-4}   # the trainer's, on images
    points_defaults = {}             # what differs on the 2-D toy data

    def __init__(self, data_shape, lr, num_classes=0):
        super().__init__()
        self.data_shape = tuple(data_shape)
        self.lr = lr
        self.num_classes = num_classes

    @classmethod
    def settings(cls, kind):
        """The trainer's defaults (steps, batch_size, lr) for ``"image"`` or ``"points"`` data."""
        return {**cls.defaults, **(cls.points_defaults if kind == "points" else {})}

    @property
    def device(self):
        """Where the networks are (``model.to('cuda')`` moves them): noise and labels are made there."""
        return next(self.parameters()).device

    @property
    def condition_count(self):
        """How many values the labels the networks see can take (0: unconditioned)."""
        return self.num_classes if self.conditional else 0

    @property
    def is_image(self):
        return len(self.data_shape) == 3

    @property
    def data_size(self):
        return math.prod(self.data_shape)

    def config(self):
        """The constructor's arguments: enough to rebuild the model from a checkpoint."""
        return {"data_shape": list(self.data_shape), "lr": self.lr, "num_classes": self.num_classes}

    def prepare(self, train):
        """Learn what the model needs from the training set (a TensorDataset) before its first
        step; nothing by default (a self-conditioned GAN clusters it)."""

    def optimizers(self):
        """The model's optimisers by name, for checkpoints."""
        raise NotImplementedError

    def learning_rates(self):
        """Each optimiser's learning rate before any decay, by the names of ``optimizers``."""
        return {name: self.lr for name in self.optimizers()}

    def train_step(self, batch, step):
        """Learn from one batch (a tuple: data, then labels if any); return the losses."""
        raise NotImplementedError

    def decode(self, z, labels=None):
        """Map latent codes to data space (the generator, or the decoder)."""
        raise NotImplementedError

    def latent(self, count):
        """``count`` draws of the latent prior."""
        return minigen.randn(count, self.latent_dim, device=self.device)

    @minigen.no_grad()
    def sample(self, count, labels=None):
        """``count`` new samples in data space, drawn with the networks in eval mode."""
        with evaluating(self):
            return self.decode(self.latent(count), labels)

    def evaluate(self, held_out):
        """Model-specific figures on held-out data (a tuple of Tensors); none by default."""
        return {}


@contextlib.contextmanager
def evaluating(module):
    """Run the block with ``module`` in eval mode, then restore its previous mode."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@contextlib.contextmanager
def frozen(module):
    """Let gradients flow *through* ``module`` without computing its parameters' gradients.

    A GAN's generator step back-propagates through the discriminator but must not spend time
    on (or leave behind) gradients for the discriminator's weights.
    """
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)


def take(losses):
    """Loss Tensors to Python floats, the form ``train_step`` reports them in."""
    return {name: value.item() for name, value in losses.items()}
