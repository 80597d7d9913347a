"""Train a DCGAN on the 5,000 digits shipped with minigen and save a grid of generated digits.

The networks (minigen/models/networks.py) are transposed convolutions with BatchNorm and ReLU
up from a 100-dimensional code to 28 × 28, and strided convolutions with LeakyReLU and
spectral norm down to one probability. The model first clusters the training digits
(``model.prepare``): it learns as if the cluster were a label, and samples draw a cluster by
its share of the data (minigen/models/dcgan.py says why). About 0.08 s per step on two CPU
cores: the default 7,500 steps take about 10 minutes (``minigen train dcgan`` is the same run,
with pictures, metrics and checkpoints).

    python examples/dcgan.py [--steps 7500] [--out dcgan-digits.png]
"""
import argparse

import minigen
from minigen.data import DataLoader, digits_dataset
from minigen.models import DCGAN
from minigen.plots import save_image_grid

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=7500)
parser.add_argument("--out", default="dcgan-digits.png")
args = parser.parse_args()

minigen.manual_seed(0)
digits = digits_dataset(value_range=(-1, 1))
data = DataLoader(digits, batch_size=64, shuffle=True, drop_last=True)
model = DCGAN(data_shape=(1, 28, 28), lr=2e-4)
model.prepare(digits)   # the k-means clusters it conditions on
for step, batch in zip(range(args.steps), data.stream()):
    losses = model.train_step(batch, step)
    if step % 500 == 0:
        print(f"step {step:5d}  loss_d {losses['loss_d']:.3f}  loss_g {losses['loss_g']:.3f}")

save_image_grid(model.sample(64).numpy(), args.out, value_range=(-1, 1))
print(f"64 generated digits in {args.out}")
