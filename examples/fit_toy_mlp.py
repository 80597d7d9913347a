"""Fit a small MLP to a 2D toy problem with plain gradient descent.

The task: tell apart the points of two noisy concentric rings. The network is
2 -> 32 -> 32 -> 1 with LeakyReLU (minigen's compiled kernel), the loss is the logistic
loss log(1 + exp(-y f(x))) for labels y = ±1, and each step is ``loss.backward()`` then
``w -= lr * w.grad``: nothing but minigen's tensor and autograd layers.

    python examples/fit_toy_mlp.py [--steps 500] [--lr 0.2] [--seed 0]
"""
import argparse

import numpy as np

import minigen


def two_rings(count, rng):
    """``count`` points near radius 1 (label -1) or radius 2 (label +1)."""
    label = rng.choice([-1.0, 1.0], size=count)
    radius = 1.5 + 0.5 * label + 0.1 * rng.standard_normal(count)
    angle = rng.uniform(0, 2 * np.pi, size=count)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return minigen.tensor(points, dtype=minigen.float32), minigen.tensor(label, dtype=minigen.float32)


def init_layer(fan_in, fan_out):
    """PyTorch's default Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = fan_in ** -0.5
    weight = (minigen.rand(fan_in, fan_out) * 2 - 1) * bound
    bias = (minigen.rand(fan_out) * 2 - 1) * bound
    return [weight.requires_grad_(), bias.requires_grad_()]


def mlp(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h = minigen.leaky_relu(x @ w1 + b1, 0.2)      # (N, 32)
    h = minigen.leaky_relu(h @ w2 + b2, 0.2)      # (N, 32)
    return (h @ w3 + b3).squeeze(1)               # (N,) scores


def logistic_loss(scores, labels):
    return (1 + (-labels * scores).exp()).log().mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    minigen.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x, y = two_rings(512, rng)
    params = init_layer(2, 32) + init_layer(32, 32) + init_layer(32, 1)

    for step in range(args.steps + 1):
        loss = logistic_loss(mlp(params, x), y)
        if step % 100 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= args.lr * p.grad

    test_x, test_y = two_rings(2048, rng)
    with minigen.no_grad():
        accuracy = ((mlp(params, test_x) > 0).float() * 2 - 1 == test_y).float().mean().item()
    print(f"held-out accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
