"""Train the digit classifier of ``minigen.metrics`` and write its weights file.

Trains ``minigen.metrics.classifier.DigitClassifier`` with minigen alone (Adam, the DataLoader,
a cross-entropy written from minigen ops) on the 4,500 training digits of the shipped set;
the 500 held-out digits (every tenth) are never trained on and give the accuracy stored in the
file's metadata beside the command that made it. Each digit is shifted by up to 2 pixels at
random, so the classifier also knows slightly off-centre digits, as generators draw them.

    python scripts/train_classifier.py            # about a minute on 2 cores; writes the shipped file
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

import minigen
from minigen.data import DataLoader
from minigen.data.catalog import load_dataset
from minigen.metrics.classifier import INPUT_RANGE, NUM_CLASSES, WEIGHTS, DigitClassifier, save_classifier

SHIPPED = Path(__file__).resolve().parents[1] / "minigen" / "metrics" / WEIGHTS
SHIFT = 2   # pixels an augmented digit may move in each direction


def cross_entropy(logits, labels):
    """Mean of -log softmax(logits)[label]; the max is subtracted first so exp cannot overflow."""
    shifted = logits - logits.max(dim=1, keepdim=True).values.detach()
    log_p = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    one_hot = minigen.tensor(np.eye(NUM_CLASSES, dtype=np.float32)[labels.numpy()])
    return -(log_p * one_hot).sum() / len(labels)


def shifted(images, rng):
    """Each image moved by its own random offset in [-SHIFT, SHIFT]² (background fills in)."""
    x = images.numpy()
    padded = np.pad(x, ((0, 0), (0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT)), constant_values=INPUT_RANGE[0])
    out = np.empty_like(x)
    for i, (dy, dx) in enumerate(rng.integers(0, 2 * SHIFT + 1, size=(len(x), 2))):
        out[i] = padded[i, :, dy:dy + 28, dx:dx + 28]
    return minigen.tensor(out)


def accuracy(model, dataset):
    images, labels = dataset.tensors
    with minigen.no_grad():
        predicted = model(images).numpy().argmax(axis=1)
    return float((predicted == labels.numpy()).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(SHIPPED))
    args = parser.parse_args(argv)

    minigen.manual_seed(args.seed)
    source = load_dataset("digits", image_range=INPUT_RANGE)
    model = DigitClassifier()
    optimizer = minigen.optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(source.train, args.batch_size, shuffle=True, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        if epoch == (4 * args.epochs) // 5:     # the last fifth settles at a tenth of the rate
            for group in optimizer.param_groups:
                group["lr"] = args.lr / 10
        model.train()
        total = 0.0
        for images, labels in loader:
            loss = cross_entropy(model(shifted(images, rng)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        model.eval()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(source.train):.4f}, "
              f"held-out accuracy {accuracy(model, source.held_out):.4f}, "
              f"{time.perf_counter() - start:.0f} s", flush=True)

    held_out = accuracy(model, source.held_out)
    seconds = time.perf_counter() - start
    command = " ".join(["python", "scripts/train_classifier.py", *(sys.argv[1:] if argv is None else argv)])
    save_classifier(model, args.out, {
        "held_out_accuracy": held_out,
        "held_out": "the 500 held-out digits of load_dataset('digits') (every tenth), never trained on",
        "train_command": command,
        "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "augmentation": f"random shifts by up to {SHIFT} pixels",
        "training_seconds": round(seconds, 1),
        "minigen_version": minigen.__version__,
    })
    print(f"held-out accuracy {held_out:.4f} after {seconds:.0f} s; weights in {args.out}")


if __name__ == "__main__":
    main()
