"""Train WGAN-GP on ring8 and report its mode metrics over 5 seeds, with standard errors.

WGAN-GP keeps the critic 1-Lipschitz with a penalty on its gradient at points between real
and fake samples, λ · mean((‖∇C(x̂)‖ − 1)²). Training the critic on that penalty means
differentiating a gradient: ``F.critic_gradient_penalty`` builds the first gradient with
``create_graph=True`` and the critic's ``backward`` runs through it (a double backward).

    python examples/wgan_gp.py [--steps 20000] [--out wgan-gp-ring8.png]
"""
import argparse

import minigen
from minigen.data import DataLoader, TOY, toy_dataset
from minigen.metrics import evaluate_toy
from minigen.models import WGANGP
from minigen.plots import save_scatter
from minigen.train import decay_lr

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=20000)
parser.add_argument("--out", default="wgan-gp-ring8.png")
args = parser.parse_args()

minigen.manual_seed(0)
train = toy_dataset("ring8")
data = DataLoader(train, batch_size=256, shuffle=True, drop_last=True)
model = WGANGP(data_shape=(2,), lr=1e-3)
model.prepare(train)   # the k-means clusters it conditions on, as gan (examples/gan.py)
for step, batch in zip(range(args.steps), data.stream()):
    decay_lr(model, 1 - step / args.steps)   # linear decay: the samples settle on the modes
    losses = model.train_step(batch, step)
    if step % 2000 == 0:
        print(f"step {step:5d}  critic loss {losses['loss_c']:.4f}  penalty {losses['penalty']:.4f}")


def generate(count, seed):
    with minigen.random.fork_rng(seed):
        return model.sample(count).numpy()


for name, (mean, stderr) in evaluate_toy(generate, TOY["ring8"]).items():
    print(f"{name:12s} {mean:.3f} ± {stderr:.3f}")
save_scatter(generate(2500, 0), args.out, reference=toy_dataset("ring8", 2500).tensors[0].numpy())
print(f"samples drawn in {args.out}")
