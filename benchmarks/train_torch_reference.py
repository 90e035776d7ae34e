"""`ndgrad train`'s two models trained with PyTorch CPU on the same machine, for comparison.

    python benchmarks/train_torch_reference.py                  # mlp and cnn, ndgrad's defaults
    python benchmarks/train_torch_reference.py --models mlp --with-ndgrad   # and ndgrad beside it

Same arrays (nn.data.MNIST, normalised by nn.train.normalize_images), same architecture, same
initial weights (ndgrad's model after `autograd.manual_seed(seed)`, copied into the torch model),
same data order (nn.data.DataLoader's order for (seed, epoch)), same optimizer, learning rate and
schedule (nn.train.learning_rate), batch size and epochs; only dropout's masks differ. Prints the
test accuracy and the seconds of training per epoch (evaluation not included); `--with-ndgrad`
trains the same with nn.train.train in this process and prints the two side by side.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from nn.train import (DEFAULT_BATCH_SIZE, EVAL_BATCH_SIZE, OPTIMIZERS, SCHEDULES, SGD_MOMENTUM,  # noqa: E402
                      TrainConfig, build_model, learning_rate, mnist_arrays, train)


def torch_model(name):
    """nn/models.py's models, layer for layer (so their state dicts have the same keys)."""
    if name == "mlp":
        return tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                              tnn.Linear(128, 10))
    return tnn.Sequential(
        tnn.Conv2d(1, 32, 3, padding=1, bias=False), tnn.BatchNorm2d(32), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3, padding=1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Dropout(0.25), tnn.Linear(64 * 7 * 7, 128), tnn.ReLU(), tnn.Dropout(0.25),
        tnn.Linear(128, 10))


def initial_weights_from_ndgrad(model, name, seed):
    """Copy ndgrad's initial weights for (name, seed) into the torch `model`."""
    ag.manual_seed(seed)
    state = {key: torch.from_numpy(t.numpy().copy()) for key, t in build_model(name).state_dict().items()}
    model.load_state_dict(state)


def torch_optimizer(name, params, lr):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM)
    return (torch.optim.Adam if name == "adam" else torch.optim.AdamW)(params, lr=lr)


def evaluate(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), EVAL_BATCH_SIZE):
            logits = model(images[start:start + EVAL_BATCH_SIZE])
            correct += int((logits.argmax(1) == labels[start:start + EVAL_BATCH_SIZE]).sum())
    model.train()
    return correct / len(images)


def train_torch(config, data):
    train_x, train_y, test_x, test_y = (torch.from_numpy(a) for a in data)
    torch.manual_seed(config.seed)
    model = torch_model(config.model)
    initial_weights_from_ndgrad(model, config.model, config.seed)
    optimizer = torch_optimizer(config.optimizer, model.parameters(), config.lr)
    # Batches of indices in exactly the order ndgrad's training loop visits the images.
    loader = nn.data.DataLoader(nn.data.TensorDataset(np.arange(len(train_x))), batch_size=config.batch_size,
                                shuffle=True, seed=config.seed)
    epochs = []
    for epoch in range(config.epochs):
        model.train()
        started = time.perf_counter()
        loader.epoch = epoch
        for batch, (indices,) in enumerate(loader):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, epoch * len(loader) + batch, config.epochs * len(loader))
            indices = torch.from_numpy(indices.numpy())
            images, labels = train_x[indices], train_y[indices]
            loss = TF.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - started
        epochs.append({"epoch": epoch + 1, "seconds": seconds, "test_accuracy": evaluate(model, test_x, test_y)})
        print(f"  torch  {config.model} epoch {epoch + 1}: test accuracy {epochs[-1]['test_accuracy']:.2%}, "
              f"{seconds:.1f} s", flush=True)
    return epochs


def train_ndgrad(config, data, out_dir):
    result = train(config, out_dir, progress=False, data=data,
                   log=lambda line: print("  ndgrad " + line, flush=True))
    return [{"epoch": m["epoch"], "seconds": m["seconds"], "test_accuracy": m["test_accuracy"]}
            for m in result.history]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=("mlp", "cnn"), default=["mlp", "cnn"])
    parser.add_argument("--epochs", type=int, default=None, help="default: ndgrad's default for each model")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--schedule", choices=SCHEDULES, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--with-ndgrad", action="store_true", help="also train with ndgrad and compare")
    parser.add_argument("--out", default="runs/reference", help="ndgrad's output directory (with --with-ndgrad)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    data = mnist_arrays(args.limit)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}; "
          f"{len(data[0])} training images")
    rows = []
    for name in args.models:
        config = TrainConfig(model=name, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                             optimizer=args.optimizer, seed=args.seed, limit=args.limit,
                             schedule=args.schedule).resolved()
        print(f"{name}: {config.epochs} epoch(s), {config.optimizer} lr {config.lr:g} {config.schedule}, "
              f"batch {config.batch_size}")
        runs = {"torch": train_torch(config, data)}
        if args.with_ndgrad:
            runs["ndgrad"] = train_ndgrad(config, data, Path(args.out) / name)
        rows.append((name, runs))

    print("\nmodel   library  epochs  test accuracy  s/epoch (train)  total s")
    for name, runs in rows:
        for library, epochs in runs.items():
            per_epoch = np.mean([e["seconds"] for e in epochs])
            print(f"{name:<7} {library:<8} {len(epochs):>6}  {epochs[-1]['test_accuracy']:>12.2%}  "
                  f"{per_epoch:>15.1f}  {sum(e['seconds'] for e in epochs):>7.1f}")
        if "ndgrad" in runs:
            ratio = sum(e["seconds"] for e in runs["ndgrad"]) / sum(e["seconds"] for e in runs["torch"])
            print(f"{name:<7} ndgrad / torch training time: {ratio:.1f}x")


if __name__ == "__main__":
    main()
