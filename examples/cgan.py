"""Train a conditional GAN on the bundled digits and draw each class on its own row.

Both networks see the label: the generator is asked for a digit of class y, the
discriminator judges whether x is a real example of class y. After training,
``model.sample(n, labels)`` draws the classes you ask for. The default 7,500 steps take about
10 minutes on two CPU cores (`minigen train cgan` is the same run, with metrics).

    python examples/cgan.py [--steps 7500] [--out cgan-digits.png]
"""
import argparse

import minigen
from minigen.data import DataLoader, digits_dataset
from minigen.models import ConditionalGAN
from minigen.plots import save_image_grid

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=7500)
parser.add_argument("--out", default="cgan-digits.png")
args = parser.parse_args()

minigen.manual_seed(0)
data = DataLoader(digits_dataset(value_range=(-1, 1)), batch_size=64, shuffle=True, drop_last=True)
model = ConditionalGAN(data_shape=(1, 28, 28), lr=2e-4, num_classes=10)
for step, batch in zip(range(args.steps), data.stream()):   # batches are (images, labels)
    losses = model.train_step(batch, step)
    if step % 500 == 0:
        print(f"step {step:5d}  loss_d {losses['loss_d']:.3f}  loss_g {losses['loss_g']:.3f}")

labels = minigen.tensor([digit for digit in range(10) for _ in range(8)])   # row r: digit r
save_image_grid(model.sample(80, labels).numpy(), args.out, nrow=8, value_range=(-1, 1))
print(f"eight of each digit, one row per class, in {args.out}")
