"""The digits demo (examples/train_mlp.py) trained data-parallel over MPI:

    mpirun -n 2 python examples/train_mlp_mpi.py     # or -n 1, or plain python

Same model, data, initialization, batch order and learning rate as the
single-process demo; each SGD batch of 32 images is split over the ranks
(`gradc.distributed.shard`), each rank runs the compiled gradient on its
rows, one Allreduce per step averages the gradients over the whole batch
(`gradc.distributed.data_parallel`), and every rank applies the same
compiled SGD update, so the parameters stay identical on every rank (checked
at the end) and equal to a one-process run up to rounding. Rank 0 prints,
and writes the final parameters and the epoch count to
build/demo/train_mlp_mpi.npz ($GRADC_DEMO_OUT) as a checkpoint.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_mlp as demo  # noqa: E402 (pins BLAS threads to 1 before NumPy loads)

import numpy as np  # noqa: E402

import gradc  # noqa: E402
import gradc.distributed as dist  # noqa: E402


def sgd(params, grads):
    return {name: params[name] - demo.LEARNING_RATE * grads[name] for name in params}


def main():
    world = dist.init()
    say = print if world.is_root else (lambda *args, **kwargs: None)
    x_train, labels_train, x_test, labels_test = demo.load_data()
    y_train = demo.one_hot(labels_train, 10)
    rng = np.random.default_rng(0)  # the same stream on every rank: the same batches
    params = dist.broadcast(demo.init_params(x_train.shape[1], 10, rng))
    steps_per_epoch = len(x_train) // demo.BATCH
    say(
        f"gradc MPI demo: MLP {x_train.shape[1]} -> {demo.HIDDEN} tanh -> 10 on {world.size} rank(s), "
        f"global batch {demo.BATCH} (rows per rank: "
        f"{[int(np.subtract(*dist.shard_bounds(demo.BATCH, r, world.size)[::-1])) for r in range(world.size)]})"
    )

    gradient = dist.data_parallel(gradc.jit(gradc.value_and_grad(demo.loss, has_aux=True)), has_aux=True)
    update = gradc.jit(sgd)
    predict = gradc.jit(demo.forward)

    train_s = 0.0
    for epoch in range(1, demo.EPOCHS + 1):
        order = rng.permutation(len(x_train))
        loss_sum = 0.0
        start = time.perf_counter()
        for k in range(steps_per_epoch):
            rows = order[k * demo.BATCH : (k + 1) * demo.BATCH]
            (value, _), grads = gradient(params, *dist.shard(x_train[rows], y_train[rows]))
            params = update(params, grads)
            loss_sum += float(value)
        if epoch > 1:  # the first epoch compiles
            train_s += time.perf_counter() - start
        if world.is_root:
            accuracy = float(np.mean(np.argmax(predict(params, x_test), axis=1) == labels_test))
            say(f"epoch {epoch:2d}/{demo.EPOCHS} loss {loss_sum / steps_per_epoch:.4f} test {100 * accuracy:5.1f}%")

    if not dist.in_sync(params):
        sys.exit("the ranks' parameters differ")
    out = Path(os.environ.get("GRADC_DEMO_OUT", "build/demo"))
    if world.is_root:
        out.mkdir(parents=True, exist_ok=True)
    dist.save_checkpoint(out / "train_mlp_mpi.npz", {"params": params, "epochs": demo.EPOCHS})
    accuracy = float(np.mean(np.argmax(predict(params, x_test), axis=1) == labels_test))
    steps = (demo.EPOCHS - 1) * steps_per_epoch
    say(f"  test accuracy after {demo.EPOCHS} epochs: {100 * accuracy:.1f}% (target >= 95%)")
    say(f"  parameters identical on all {world.size} rank(s); checkpoint {out / 'train_mlp_mpi.npz'}")
    say(f"  {steps / train_s:.0f} steps/s after the first epoch ({1e6 * train_s / steps:.1f} us per step, "
        f"Allreduce of {gradient.bytes_per_step} bytes per step)")
    if accuracy < 0.95:
        sys.exit(f"test accuracy {100 * accuracy:.1f}% is below the 95% target")


if __name__ == "__main__":
    main()
