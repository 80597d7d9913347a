"""Train the GAN of minigen.models.gan on ring8, eight Gaussians on a circle, and count its modes.

A GAN is two networks in a game: the discriminator D learns to tell data from the
generator's samples, the generator G learns to fool it. ``model.train_step`` runs one round
(a D step on real and fake, then a G step through the updated D); this script feeds it
batches and measures the result with the toy metrics of docs/METRICS.md. The model first
clusters the data (``model.prepare``): on the toys it conditions both networks on 50 k-means
clusters and draws a cluster by its share when it samples, so that the generator never has to
bridge two modes (docs/toy.md).

    python examples/gan.py [--steps 10000] [--out gan-ring8.png]
"""
import argparse

import minigen
from minigen.data import DataLoader, TOY, toy_dataset
from minigen.metrics import toy_metrics
from minigen.models import GAN
from minigen.plots import save_scatter
from minigen.train import decay_lr

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=10000)
parser.add_argument("--out", default="gan-ring8.png")
args = parser.parse_args()

minigen.manual_seed(0)
train = toy_dataset("ring8")
data = DataLoader(train, batch_size=256, shuffle=True, drop_last=True)
model = GAN(data_shape=(2,), lr=1e-3)
model.prepare(train)
for step, batch in zip(range(args.steps), data.stream()):
    decay_lr(model, 1 - step / args.steps)   # linear decay: the samples settle on the modes
    losses = model.train_step(batch, step)
    if step % 500 == 0:
        print(f"step {step:5d}  " + "  ".join(f"{k} {v:.3f}" for k, v in losses.items()))

samples = model.sample(2500).numpy()
print(toy_metrics(samples, TOY["ring8"]))
save_scatter(samples, args.out, reference=toy_dataset("ring8", 2500).tensors[0].numpy())
print(f"samples drawn in {args.out}")
