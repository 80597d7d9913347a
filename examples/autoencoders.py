"""Train the autoencoders on the bundled digits and compare their held-out reconstructions.

``ae`` squeezes each digit through a 64-number code with MLPs, ``conv-ae`` with
convolutions; ``dae`` learns to undo masking noise (a quarter of the pixels zeroed);
``sparse-ae`` keeps its code units mostly off with a KL sparsity penalty. Each picture
shows held-out digits in the odd rows and their reconstructions beneath them.

    python examples/autoencoders.py [--steps 1000] [--models ae conv-ae dae sparse-ae]
"""
import argparse

import minigen
from minigen.data import DataLoader
from minigen.data.catalog import load_dataset, spread
from minigen.models import MODELS
from minigen.plots import save_reconstructions

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=1000)
parser.add_argument("--models", nargs="+", default=["ae", "conv-ae", "dae", "sparse-ae"])
parser.add_argument("--out-prefix", default="")
args = parser.parse_args()

digits = load_dataset("digits", image_range=(0, 1))
originals = spread(digits.held_out, 32)[0]   # 32 held-out digits, every class
for name in args.models:
    minigen.manual_seed(0)
    data = DataLoader(digits.train, batch_size=64, shuffle=True, drop_last=True)
    model = MODELS[name](data_shape=(1, 28, 28), lr=1e-3)
    for step, batch in zip(range(args.steps), data.stream()):
        model.train_step(batch, step)
    figures = model.evaluate(digits.held_out.tensors)
    print(f"{name:10s} " + "  ".join(f"{key} {value:.1f}" for key, value in figures.items()))
    save_reconstructions(originals.numpy(), model.reconstruct(originals).numpy(),
                         f"{args.out_prefix}{name}.png")
