"""Train a small convnet on scikit-learn's 8x8 digits with gradc: the whole
SGD step (forward, gradient, update) is one compiled C function.

    conv3x3(1->8) relu, max_pool 2x2, conv3x3(8->16) relu, dense(256->10),
    softmax cross-entropy, float32, NHWC (flax's layout), minibatch SGD.

Run: `.venv/bin/python examples/train_convnet.py` (needs scikit-learn).
Prints the loss per epoch and the test accuracy of a jitted forward pass.
"""

import time

import numpy as np
from sklearn.datasets import load_digits

import gradc
import gradc.numpy as gnp
from gradc import nn

BATCH = 32
EPOCHS = 8
LEARNING_RATE = 0.1


def forward(p, x):
    h = nn.relu(nn.conv(x, p["w1"], layout="NHWC") + p["b1"])  # (B, 8, 8, 8)
    h = nn.max_pool(h, (2, 2), strides=(2, 2))  # (B, 4, 4, 8)
    h = nn.relu(nn.conv(h, p["w2"], layout="NHWC") + p["b2"])  # (B, 4, 4, 16)
    return gnp.reshape(h, (h.shape[0], -1)) @ p["w3"] + p["b3"]


def loss(p, x, y):
    return -gnp.sum(y * nn.log_softmax(forward(p, x))) / x.shape[0]


def step(p, x, y):
    value, grads = gradc.value_and_grad(loss)(p, x, y)
    return {k: p[k] - LEARNING_RATE * grads[k] for k in p}, value


def main() -> None:
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    labels = digits.target
    rng = np.random.default_rng(0)
    order = rng.permutation(len(labels))
    split = int(0.8 * len(labels))
    train, test = order[:split], order[split:]
    f32 = np.float32
    params = {
        "w1": (rng.standard_normal((3, 3, 1, 8)) / 3.0).astype(f32),
        "b1": np.zeros(8, f32),
        "w2": (rng.standard_normal((3, 3, 8, 16)) / np.sqrt(72.0)).astype(f32),
        "b2": np.zeros(16, f32),
        "w3": (rng.standard_normal((256, 10)) / 16.0).astype(f32),
        "b3": np.zeros(10, f32),
    }
    one_hot = nn.one_hot(labels, 10, dtype=np.float32)  # constant labels, outside the trace
    fast_step = gradc.jit(step)
    start = time.perf_counter()
    for epoch in range(EPOCHS):
        rng.shuffle(train)
        losses = []
        for i in range(0, len(train) - BATCH + 1, BATCH):
            batch = train[i:i + BATCH]
            params, value = fast_step(params, images[batch], one_hot[batch])
            losses.append(float(value))
        print(f"epoch {epoch + 1}: mean loss {np.mean(losses):.4f}")
    print(f"training: {time.perf_counter() - start:.1f} s (first step compiles)")
    logits = gradc.jit(forward)(params, images[test])
    print(f"test accuracy: {np.mean(np.argmax(logits, axis=1) == labels[test]):.3f}")


if __name__ == "__main__":
    main()
