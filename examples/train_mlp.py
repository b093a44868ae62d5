"""`make demo`: train a 2-layer MLP on scikit-learn's handwritten digits with
the whole SGD step (forward, gradient, parameter update) compiled by gradc
into one C function.

    64 pixels -> 128 tanh -> 10 logits, softmax cross-entropy, float32,
    minibatch SGD; test accuracy from a jitted forward pass.

The data ships inside scikit-learn (`load_digits`, 1797 8x8 images): no
download. The demo also runs the same step written by hand in NumPy (same
math, same initial parameters), checks once that both give the same
parameters after one step, and times both single-threaded (BLAS threads are
pinned to 1 before NumPy loads; medians after warm-up). The loss curve goes
to build/demo/train_mlp_loss.png (or $GRADC_DEMO_OUT).
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import gc  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import gradc  # noqa: E402
import gradc.numpy as gnp  # noqa: E402

HIDDEN = 128
BATCH = 32
EPOCHS = 20
LEARNING_RATE = 0.1
TEST_FRACTION = 0.2
BAR_WIDTH = 20


# --------------------------------------------------------------------------
# The model, traced by gradc
# --------------------------------------------------------------------------


def forward(params, x):
    """Logits of the MLP for a batch of standardized images."""
    h = gnp.tanh(x @ params["w1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


def loss(params, x, y):
    """Mean softmax cross-entropy against one-hot labels `y`; the logits
    come along as the auxiliary result (for the running accuracy)."""
    logits = forward(params, x)
    log_probs = logits - gnp.logsumexp(logits, axis=1, keepdims=True)
    return -gnp.sum(y * log_probs) / x.shape[0], logits


def train_step(params, x, y):
    """One SGD step: the new parameters, the loss before the step, the logits."""
    (value, logits), grads = gradc.value_and_grad(loss, has_aux=True)(params, x, y)
    new_params = {name: params[name] - LEARNING_RATE * grads[name] for name in params}
    return new_params, value, logits


# --------------------------------------------------------------------------
# The same step written by hand in NumPy (the comparison)
# --------------------------------------------------------------------------


def numpy_train_step(params, x, y):
    h = np.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    batch = x.shape[0]
    value = -np.sum(y * (shifted - np.log(total))) / batch
    d_logits = (e / total - y) / batch  # softmax - one-hot; each row of y sums to 1
    d_h = (d_logits @ params["w2"].T) * (1 - h * h)
    grads = {
        "w1": x.T @ d_h,
        "b1": d_h.sum(axis=0),
        "w2": h.T @ d_logits,
        "b2": d_logits.sum(axis=0),
    }
    lr = np.float32(LEARNING_RATE)
    new_params = {name: params[name] - lr * grads[name] for name in params}
    return new_params, value, logits


# --------------------------------------------------------------------------
# Data, initialization, measurement
# --------------------------------------------------------------------------


def load_data():
    """Standardized float32 train/test images and integer labels; a fixed
    shuffled split, statistics from the training part only."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.data.astype(np.float64), digits.target
    order = np.random.default_rng(0).permutation(len(images))
    n_test = int(round(TEST_FRACTION * len(images)))
    test, train = order[:n_test], order[n_test:]
    mean = images[train].mean(axis=0)
    std = images[train].std(axis=0)
    std[std == 0] = 1.0  # pixels that are always blank

    def standardize(rows):
        return ((images[rows] - mean) / std).astype(np.float32)

    return standardize(train), labels[train], standardize(test), labels[test]


def init_params(n_in, n_out, rng):
    f32 = np.float32
    return {
        "w1": (rng.standard_normal((n_in, HIDDEN)) / np.sqrt(n_in)).astype(f32),
        "b1": np.zeros(HIDDEN, f32),
        "w2": (rng.standard_normal((HIDDEN, n_out)) / np.sqrt(HIDDEN)).astype(f32),
        "b2": np.zeros(n_out, f32),
    }


def one_hot(labels, n_classes):
    return np.eye(n_classes, dtype=np.float32)[labels]


def median_step_time(step, *args, repetitions=21, repetition_s=0.01):
    """Median seconds per call after >= 0.2 s of warm-up, over repetitions of
    an inner loop of ~10 ms, with Python's GC off."""
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < 0.2:
        step(*args)
        calls += 1
    inner = max(1, round(repetition_s * calls / (time.perf_counter() - start)))
    samples = []
    gc.disable()
    try:
        for _ in range(repetitions):
            start = time.perf_counter()
            for _ in range(inner):
                step(*args)
            samples.append((time.perf_counter() - start) / inner)
    finally:
        gc.enable()
    return statistics.median(samples)


def progress(epoch, done, total, loss_value, accuracy, end=""):
    filled = BAR_WIDTH * done // total
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return (
        f"epoch {epoch:2d}/{EPOCHS} [{bar}] loss {loss_value:.3f} "
        f"acc {100 * accuracy:5.1f}%{end}"
    )


def check_against_numpy(step, params, x, y):
    """One step from the same parameters and batch: same new parameters."""
    ours, value, _ = step(params, x, y)
    theirs, their_value, _ = numpy_train_step(params, x, y)
    worst = 0.0
    for name in params:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-4, atol=1e-6, err_msg=name)
        scale = np.max(np.abs(theirs[name])) or 1.0
        worst = max(worst, float(np.max(np.abs(ours[name] - theirs[name])) / scale))
    np.testing.assert_allclose(value, their_value, rtol=1e-5)
    return worst


def save_loss_curve(step_losses, epoch_test_accuracy, steps_per_epoch, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.4))
    ax.plot(step_losses, color="tab:blue", alpha=0.35, linewidth=0.8, label="loss per step")
    epoch_ends = np.arange(1, len(epoch_test_accuracy) + 1) * steps_per_epoch
    epoch_means = np.asarray(step_losses).reshape(len(epoch_test_accuracy), -1).mean(axis=1)
    ax.plot(epoch_ends, epoch_means, color="tab:blue", marker="o", markersize=3, label="epoch mean loss")
    ax.set_yscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("training loss (cross-entropy)")
    acc_ax = ax.twinx()
    acc_ax.plot(epoch_ends, 100 * np.asarray(epoch_test_accuracy), color="tab:orange", marker="s",
                markersize=3, label="test accuracy")
    acc_ax.set_ylabel("test accuracy (%)")
    lines = ax.get_legend_handles_labels()[0] + acc_ax.get_legend_handles_labels()[0]
    ax.legend(lines, [line.get_label() for line in lines], loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    ax.set_title("gradc: MLP 64-128-10 on sklearn digits, SGD in one C function")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    run_start = time.perf_counter()
    x_train, labels_train, x_test, labels_test = load_data()
    n_classes = 10
    y_train = one_hot(labels_train, n_classes)
    rng = np.random.default_rng(0)
    params = init_params(x_train.shape[1], n_classes, rng)
    steps_per_epoch = len(x_train) // BATCH
    print(
        f"gradc demo: MLP {x_train.shape[1]} -> {HIDDEN} tanh -> {n_classes}, softmax cross-entropy, "
        f"float32, SGD lr {LEARNING_RATE}, batch {BATCH}"
    )
    print(f"  data: sklearn digits, {len(x_train)} train / {len(x_test)} test images, standardized")

    step = gradc.jit(train_step)
    predict = gradc.jit(forward)
    batch_x, batch_y = x_train[:BATCH], y_train[:BATCH]
    start = time.perf_counter()
    step(params, batch_x, batch_y)
    compile_s = time.perf_counter() - start
    print(
        f"  training step compiled to one C function: first call {compile_s:.2f} s "
        "(trace, lower, C compile unless $GRADC_CACHE_DIR has it, load)"
    )
    worst = check_against_numpy(step, params, batch_x, batch_y)
    print(f"  one step from the same parameters matches the NumPy step: max relative difference {worst:.1e}")

    interactive = sys.stdout.isatty()
    step_losses, epoch_test_accuracy = [], []
    for epoch in range(1, EPOCHS + 1):
        order = rng.permutation(len(x_train))
        loss_sum, correct = 0.0, 0
        for k in range(steps_per_epoch):
            batch = order[k * BATCH : (k + 1) * BATCH]
            params, value, logits = step(params, x_train[batch], y_train[batch])
            value = float(value)
            step_losses.append(value)
            loss_sum += value
            correct += int(np.sum(np.argmax(logits, axis=1) == labels_train[batch]))
            if interactive:
                line = progress(epoch, k + 1, steps_per_epoch, loss_sum / (k + 1), correct / ((k + 1) * BATCH))
                print("\r" + line, end="", flush=True)
        test_accuracy = float(np.mean(np.argmax(predict(params, x_test), axis=1) == labels_test))
        epoch_test_accuracy.append(test_accuracy)
        line = progress(
            epoch, steps_per_epoch, steps_per_epoch, loss_sum / steps_per_epoch,
            correct / (steps_per_epoch * BATCH), f" | test {100 * test_accuracy:5.1f}%",
        )
        print(("\r" if interactive else "") + line, flush=True)

    final_accuracy = epoch_test_accuracy[-1]
    t_gradc = median_step_time(step, params, batch_x, batch_y)
    t_numpy = median_step_time(numpy_train_step, params, batch_x, batch_y)
    out = Path(os.environ.get("GRADC_DEMO_OUT", "build/demo"))
    out.mkdir(parents=True, exist_ok=True)
    png = out / "train_mlp_loss.png"
    save_loss_curve(step_losses, epoch_test_accuracy, steps_per_epoch, png)

    print(f"  test accuracy after {EPOCHS} epochs: {100 * final_accuracy:.1f}% (target >= 95%)")
    print(f"  per training step (batch {BATCH}, 1 thread, median after warm-up):")
    print(f"    gradc (one C function)        : {t_gradc * 1e6:8.1f} us")
    print(f"    NumPy (hand-written backward) : {t_numpy * 1e6:8.1f} us")
    print(f"    gradc / NumPy = {t_gradc / t_numpy:.2f}x  ({t_numpy / t_gradc:.2f}x speed-up)")
    print(f"  loss curve written to {png}")
    print(f"  whole demo: {time.perf_counter() - run_start:.1f} s")
    if final_accuracy < 0.95:
        sys.exit(f"test accuracy {100 * final_accuracy:.1f}% is below the 95% target")


if __name__ == "__main__":
    main()
