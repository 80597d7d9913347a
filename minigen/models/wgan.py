"""WGAN (Arjovsky et al., 2017): a critic estimating the Wasserstein-1 distance.

The critic has no Sigmoid: its scores are unbounded, and it maximises
mean(C(real)) − mean(C(fake)) while the generator maximises mean(C(fake)). The estimate
needs C to be 1-Lipschitz; this model enforces it crudely by clipping every critic weight
to [−0.01, 0.01] after each step (WGAN-GP replaces that with a gradient penalty). The
critic is trained ``n_critic`` = 5 times per generator step, with RMSprop at lr 5e-5
(momentum-based optimisers were unstable with clipping, the paper reports).

On images the networks are DCGAN's at half W2's widths, the critic with BatchNorm as in the
paper and without a Sigmoid, and self-conditioning on 20 clusters of the digits as in dcgan;
on 2D points, MLPs. One training step is one batch, that is one critic step: the default
12,000 are 2,400 generator steps. Unlike dcgan, the samples come from the generator itself,
not from an average of its weights: clipping learns slowly, and over so few generator steps
the average (decay 0.999) lagged behind, FCD 127 against the generator's 97 at step 12,000
(docs/samples.md).
"""
import minigen

from .. import optim
from .base import frozen, take
from .gan import GAN


class WGAN(GAN):
    name = "wgan"
    default_data = "digits"
    defaults = {"steps": 12000, "batch_size": 64, "lr": 5e-5}
    points_defaults = {"steps": 20000, "batch_size": 256}
    image_latent_dim = 100
    n_critic = 5
    clip = 0.01
    loss = "wasserstein"   # the critic outputs a score
    clusters = 20          # on images, as dcgan
    # on the toys the recipe from before self-conditioning, not measured with it (docs/toy.md)
    points_recipe = {**GAN.points_recipe, "clusters": 0, "lr_decay": False}

    @property
    def convolutional(self):
        return self.is_image

    def make_optimizer(self, parameters, lr):
        return optim.RMSprop(parameters, lr=lr)

    def train_step(self, batch, step):
        real, labels = batch[0], self.labels_of(batch)
        generator_step = (step + 1) % self.n_critic == 0
        with minigen.set_grad_enabled(generator_step):   # G's graph only when G learns
            fake = self.decode(self.latent(len(real)), labels)

        self.opt_d.zero_grad()
        losses = self.critic_losses(real, fake.detach(), labels)
        losses["loss_c"].backward()
        self.opt_d.step()
        self.after_critic_step()

        if generator_step:
            self.opt_g.zero_grad()
            with frozen(self.discriminator):
                losses["loss_g"] = -self.discriminate(fake, labels).mean()
                losses["loss_g"].backward()
            self.opt_g.step()
            self.update_average()
        return take(losses)

    def critic_losses(self, real, fake, labels=None):
        """The critic's loss, mean C(fake) − mean C(real), plus any terms worth logging."""
        return {"loss_c": self.discriminate(fake, labels).mean() - self.discriminate(real, labels).mean()}

    @minigen.no_grad()
    def after_critic_step(self):
        for p in self.discriminator.parameters():
            p.data = p.clamp(-self.clip, self.clip)
