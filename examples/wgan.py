"""Train a WGAN (weight clipping) on grid25, 25 Gaussians on a grid, and count its modes.

The critic scores samples instead of classifying them; its scores estimate the
Wasserstein distance only if it is 1-Lipschitz, which WGAN enforces by clipping each weight
to [-0.01, 0.01]. Five critic steps (batches) per generator step.

    python examples/wgan.py [--steps 20000] [--out wgan-grid25.png]
"""
import argparse

import minigen
from minigen.data import DataLoader, TOY, toy_dataset
from minigen.metrics import toy_metrics
from minigen.models import WGAN
from minigen.plots import save_scatter

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=20000)
parser.add_argument("--out", default="wgan-grid25.png")
args = parser.parse_args()

minigen.manual_seed(0)
data = DataLoader(toy_dataset("grid25"), batch_size=256, shuffle=True, drop_last=True)
model = WGAN(data_shape=(2,), lr=5e-5)
for step, batch in zip(range(args.steps), data.stream()):
    losses = model.train_step(batch, step)
    if step % 2000 == 0:
        print(f"step {step:5d}  critic loss {losses['loss_c']:.4f}")

samples = model.sample(2500).numpy()
print(toy_metrics(samples, TOY["grid25"]))
save_scatter(samples, args.out, reference=toy_dataset("grid25", 2500).tensors[0].numpy())
print(f"samples drawn in {args.out}")
