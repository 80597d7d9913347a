"""Train a DCGAN on the 5,000 digits shipped with minigen and save a grid of generated digits.

The networks are W2's (minigen/models/networks.py): transposed convolutions with BatchNorm
and ReLU up from a 100-dimensional code to 28 × 28, strided convolutions with LeakyReLU
down to one probability. About 0.3 s per step on two CPU cores: the default 1,500 steps
(19 passes over the 5,000 digits) take about 8 minutes and give recognisable digits.

    python examples/dcgan.py [--steps 1500] [--out dcgan-digits.png]
"""
import argparse

import minigen
from minigen.data import DataLoader, digits_dataset
from minigen.models import DCGAN
from minigen.plots import save_image_grid

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=1500)
parser.add_argument("--out", default="dcgan-digits.png")
args = parser.parse_args()

minigen.manual_seed(0)
data = DataLoader(digits_dataset(value_range=(-1, 1)), batch_size=64, shuffle=True, drop_last=True)
model = DCGAN(data_shape=(1, 28, 28), lr=2e-4)
for step, batch in zip(range(args.steps), data.stream()):
    losses = model.train_step(batch, step)
    if step % 100 == 0:
        print(f"step {step:5d}  loss_d {losses['loss_d']:.3f}  loss_g {losses['loss_g']:.3f}")

save_image_grid(model.sample(64).numpy(), args.out, value_range=(-1, 1))
print(f"64 generated digits in {args.out}")
