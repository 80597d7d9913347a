"""Train W4's VAE on the bundled digits, report the held-out negative ELBO, and sample.

The encoder maps a digit to a Gaussian over 20-dimensional codes (mean and log-variance);
a code drawn from it as z = mu + eps · exp(logvar / 2) (the reparameterisation, so that
gradients reach mu and logvar) is decoded back to pixel probabilities. The loss is the
reconstruction's binary cross-entropy plus the closed-form KL divergence to N(0, I): the
negative evidence lower bound. New digits are decoded from N(0, I) draws.

    python examples/vae.py [--steps 3000] [--out vae-digits.png]
"""
import argparse

import minigen
from minigen.data import DataLoader
from minigen.data.catalog import load_dataset
from minigen.models import VAE
from minigen.plots import save_image_grid

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=3000)
parser.add_argument("--out", default="vae-digits.png")
args = parser.parse_args()

minigen.manual_seed(0)
digits = load_dataset("digits", image_range=(0, 1))   # 4,500 to train, 500 held out
data = DataLoader(digits.train, batch_size=128, shuffle=True, drop_last=True)
model = VAE(data_shape=(1, 28, 28), lr=1e-3)
for step, batch in zip(range(args.steps), data.stream()):
    losses = model.train_step(batch, step)   # per digit: loss = recon + kl
    if step % 500 == 0:
        print(f"step {step:5d}  " + "  ".join(f"{k} {v:.1f}" for k, v in losses.items()))

print(f"held-out negative ELBO: {model.evaluate(digits.held_out.tensors)['neg_elbo']:.1f} nats per digit")
save_image_grid(model.sample(64).numpy(), args.out, value_range=(0, 1))
print(f"64 sampled digits in {args.out}")
