"""`ndgrad train` and `ndgrad evaluate` (also `python -m nn.train ...`): MNIST, end to end.

`ndgrad train` trains `mlp` or `cnn` (nn/models.py) and writes to its output directory:

    checkpoint.safetensors   model, optimizer and training state (nn.save; rewritten each epoch)
    metrics.json             the configuration and each epoch's train/test loss and accuracy
    curves.png               loss and accuracy per epoch
    graph.svg                the graph of one forward pass and its loss (autograd.draw_graph)

Exact resumption. Ctrl-C lets the current batch finish, then saves a checkpoint of that position
(epoch e, b batches done) and exits; `--resume` continues from it and ends with the same weights,
bit for bit, and the same metrics as a run that was never interrupted. Everything random is a
function of the seed and the position, never of how the run got there:

- the weights are initialised after `autograd.manual_seed(seed)`;
- epoch e visits the images in the order `DataLoader(seed=seed)` gives it, a function of (seed, e),
  so resuming recreates that order and skips the first b batches;
- before batch b of epoch e the global generator, which dropout draws from, is reseeded from
  (seed, e, b), so the position is all the RNG state there is;
- the learning rate of each step is a function of its position too (`learning_rate`);
- the checkpoint holds the model's state dict (with batchnorm's running statistics), the
  optimizer's (moments, step counts), and the partial sums of the epoch's training loss and
  accuracy.

The checkpoint is one safetensors file written by `nn.save` (atomically): the tensors as
safetensors tensors, the training state (position, configuration, metrics so far) as JSON in its
metadata, whose floats come back exactly. Nothing is pickled.

Failures lose nothing. The output directory is checked before any work (a directory this process
can write, whose outputs are absent or replaceable regular files) and locked for the run, so a
second run on it stops at once. A stored checkpoint is checked field by field with the rules the
command line's arguments pass (CONFIG_RULES, POSITION_RULES, HISTORY_RULES), and its optimizer
state against a fresh optimizer's. Every expected failure, a write that fails mid-run included,
is one line `ndgrad: error: ...` with exit status 2; the last checkpoint written stays whole.
"""
import argparse
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import nn.functional as F

from .char_models import CHAR_MODELS
from .files import atomic_write, check_replaceable
from .models import MODELS, NUM_CLASSES, build_model

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

PROG = "ndgrad"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

CHECKPOINT_FILE = "checkpoint.safetensors"
METRICS_FILE = "metrics.json"
CURVES_FILE = "curves.png"
GRAPH_FILE = "graph.svg"
LOCK_FILE = ".ndgrad-train.lock"
OUTPUT_FILES = (CHECKPOINT_FILE, METRICS_FILE, CURVES_FILE, GRAPH_FILE)
CHECKPOINT_FORMAT = "ndgrad-train-checkpoint/1"

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "constant")
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}
SGD_MOMENTUM = 0.9
DEFAULT_EPOCHS = {"mlp": 5, "cnn": 4}
DEFAULT_BATCH_SIZE = 128
EVAL_BATCH_SIZE = 1000
GRAPH_BATCH_SIZE = 4
DROPOUT_STREAM = 1        # keeps dropout's seeds (seed, 1, e, b) apart from any other use of the seed


class UsageError(Exception):
    """A bad argument or an unusable checkpoint: one line on stderr and exit status 2."""


class DataUnavailable(Exception):
    """MNIST could not be found, downloaded or read (the message says what to do): exit status 2."""


@dataclass
class TrainConfig:
    """What a run is: everything that decides its result. A field left None takes its default
    (which may depend on the model or optimizer) in `resolved()`."""
    model: str = None
    epochs: int = None
    batch_size: int = None
    lr: float = None
    optimizer: str = None
    seed: int = None
    limit: int = None          # train on the first `limit` training images; None: all of them
    schedule: str = None       # "cosine" (the default) or "constant"; see learning_rate()

    def resolved(self):
        """A copy with every field left as None filled with its default (which may depend on the model or
        optimizer)."""
        model = self.model or "mlp"
        optimizer = self.optimizer or "adam"
        return TrainConfig(
            model=model,
            epochs=DEFAULT_EPOCHS.get(model) if self.epochs is None else self.epochs,
            batch_size=DEFAULT_BATCH_SIZE if self.batch_size is None else self.batch_size,
            lr=DEFAULT_LR.get(optimizer) if self.lr is None else self.lr,
            optimizer=optimizer,
            seed=0 if self.seed is None else self.seed,
            limit=self.limit,
            schedule=self.schedule or "cosine")


@dataclass
class Position:
    """Where training stands: `batch` batches of epoch `epoch` (0-based) are done, and the partial
    sums of that epoch's training loss and accuracy over the `seen` images trained on so far."""
    epoch: int = 0
    batch: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0

    def record(self, loss, correct, count, seconds):
        """One more batch of `count` images done, with mean loss `loss` and `correct` right."""
        self.batch += 1
        self.loss_sum += loss * count
        self.correct += correct
        self.seen += count
        self.seconds = seconds

    def next_epoch(self):
        """The position at the start of the next epoch (batch 0, nothing accumulated)."""
        return Position(epoch=self.epoch + 1)


@dataclass
class TrainResult:
    model: object
    optimizer: object
    config: TrainConfig
    history: list            # one dict of metrics per completed epoch
    position: Position
    interrupted: bool
    out_dir: Path


# -- data ----------------------------------------------------------------------------------------

def normalize_images(images):
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28): scaled to [0, 1], then (x - mean) / std."""
    x = images[:, None, :, :].astype(np.float32) / np.float32(255)
    return (x - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)


def mnist_arrays(limit=None, root=None):
    """(train_x, train_y, test_x, test_y) as normalised float32 images and int64 labels; with
    `limit`, only the first `limit` training images (the test set is always whole)."""
    train, test = load_mnist(root, train=True), load_mnist(root, train=False)
    if limit is not None and limit > len(train):
        raise UsageError(f"--limit {limit} is more than the {len(train):,} training images")
    count = len(train) if limit is None else limit
    return (normalize_images(train.data[:count]), train.targets[:count],
            normalize_images(test.data), test.targets)


def load_mnist(root=None, train=True):
    """The MNIST training (or test) set from `root`; DataUnavailable, a clear message, if it cannot be
    loaded or downloaded."""
    try:
        return nn.data.MNIST(root=root, train=train)
    except (RuntimeError, OSError, ValueError) as error:
        raise DataUnavailable(str(error)) from None


# -- model, optimizer, evaluation ----------------------------------------------------------------

def make_optimizer(name, params, lr):
    """The optimizer named `name` ('sgd' with momentum, 'adam' or 'adamw') over `params` with learning rate
    `lr`."""
    if name == "sgd":
        return nn.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM)
    if name == "adam":
        return nn.optim.Adam(params, lr=lr)
    if name == "adamw":
        return nn.optim.AdamW(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


def evaluate(model, images, labels, batch_size=EVAL_BATCH_SIZE):
    """{"loss", "accuracy", "correct", "count", "confusion"} of `model` in eval mode on the arrays;
    confusion[i, j] counts images of digit i predicted as j."""
    was_training = model.training
    model.eval()
    loss_sum, confusion = 0.0, np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    try:
        with ag.no_grad():
            for start in range(0, len(images), batch_size):
                x, y = ag.from_numpy(images[start:start + batch_size]), ag.from_numpy(labels[start:start + batch_size])
                logits = model(x)
                loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
                predicted = logits.numpy().argmax(axis=1)
                confusion += np.bincount(y.numpy() * NUM_CLASSES + predicted,
                                         minlength=NUM_CLASSES * NUM_CLASSES).reshape(NUM_CLASSES, NUM_CLASSES)
    finally:
        model.train(was_training)
    count, correct = len(images), int(np.trace(confusion))
    return {"loss": loss_sum / count, "accuracy": correct / count, "correct": correct, "count": count,
            "confusion": confusion}


def learning_rate(config, step, total_steps):
    """The learning rate for optimizer step `step` (0-based) of `total_steps`: constant, or decayed
    from config.lr to 0 along half a cosine, step by step (a function of the position only, so a
    resumed run follows the same schedule)."""
    if config.schedule == "constant":
        return config.lr
    return config.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))


def dropout_seed(seed, epoch, batch):
    """The global generator's seed for batch `batch` of epoch `epoch`: a function of the position."""
    return int(np.random.SeedSequence([seed, DROPOUT_STREAM, epoch, batch]).generate_state(1, np.uint64)[0])


# -- training ------------------------------------------------------------------------------------

def train(config, out_dir, resume=False, on_batch_end=None, progress=None, log=None, data=None):
    """Train as `ndgrad train` does; returns a TrainResult.

    config: a TrainConfig. out_dir: where the outputs go (see the module docstring). resume: continue
    from the checkpoint in out_dir with the settings saved in it; `config.epochs` may change the
    number of epochs, any other field of `config` that is set must agree with the checkpoint.
    on_batch_end(position): called after each optimizer step; raising KeyboardInterrupt there stops
    training exactly as Ctrl-C does (a checkpoint of that position is saved and the result says
    `interrupted`). progress: show tqdm bars (None: when stderr is a terminal). log: where the
    per-epoch lines go (default print). data: the arrays of `mnist_arrays(config.limit)`, to save
    loading them again.

    Before any work, out_dir is checked (a directory this process can write, whose outputs may be
    replaced) and locked: a second run on the same out_dir stops with a UsageError.
    """
    log = log or print
    out_dir = Path(out_dir)
    if not resume:
        config = config.resolved()
        check_config(config)
    with claim_output_directory(out_dir, create=not resume):
        return _train(config, out_dir, resume, on_batch_end, progress, log, data)


def _train(config, out_dir, resume, on_batch_end, progress, log, data):
    checkpoint_path = out_dir / CHECKPOINT_FILE
    config, saved = open_run(config, checkpoint_path, resume, log, read_checkpoint, describe)

    train_x, train_y, test_x, test_y = data if data is not None else mnist_arrays(config.limit)
    ag.manual_seed(config.seed)
    model = build_model(config.model)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    loader = nn.data.DataLoader(nn.data.TensorDataset(train_x, train_y), batch_size=config.batch_size,
                                shuffle=True, seed=config.seed)
    history, position = restored_progress(model, optimizer, saved, checkpoint_path, len(loader))
    if not (out_dir / GRAPH_FILE).exists():
        write_graph(model, train_x[:GRAPH_BATCH_SIZE], train_y[:GRAPH_BATCH_SIZE], out_dir / GRAPH_FILE, log)

    def save(position, finished=False):
        state = {"format": CHECKPOINT_FORMAT, "config": asdict(config), "position": asdict(position),
                 "history": history}
        write_checkpoint(checkpoint_path, model, optimizer, state)
        write_metrics(out_dir / METRICS_FILE, config, history, position, finished)

    def finish_epoch(position):
        history.append(epoch_metrics(position, evaluate(model, test_x, test_y)))
        position = position.next_epoch()
        save(position, finished=position.epoch >= config.epochs)
        write_curves(out_dir / CURVES_FILE, history, config)
        log(format_epoch(history[-1], config.epochs))
        return position

    def step(images, labels):
        return (*train_step(model, optimizer, images, labels), len(labels))

    def postfix(position):
        return {"loss": f"{position.loss_sum / position.seen:.4f}", "acc": f"{position.correct / position.seen:.2%}",
                "samples/s": f"{position.seen / position.seconds:.0f}"}

    model.train()
    position, interrupted = run_epochs(config, optimizer, loader, position, step, postfix, finish_epoch, save,
                                       on_batch_end, progress)
    return TrainResult(model, optimizer, config, history, position, interrupted, out_dir)


def open_run(config, checkpoint_path, resume, log, read_checkpoint, describe):
    """(the run's configuration, its saved checkpoint from `read_checkpoint` or None) when starting
    or resuming, after logging `describe(config, out_dir, saved)`."""
    saved = None
    if resume:
        saved = read_checkpoint(checkpoint_path)
        config = resumed_config(saved["state"], config)
    elif checkpoint_path.exists():
        log(f"{PROG}: note: starting afresh, replacing {checkpoint_path} (use --resume to continue it)")
    log(describe(config, checkpoint_path.parent, saved))
    return config, saved


def restored_progress(model, optimizer, saved, checkpoint_path, batches_per_epoch):
    """(history, position) to start from: empty for a new run; for a resumed one, the checkpoint's,
    after restoring the model and optimizer from it and checking that its position fits an epoch."""
    if saved is None:
        return [], Position()
    restore(model, optimizer, saved, checkpoint_path)
    history, position = saved["state"]["history"], Position(**saved["state"]["position"])
    if position.batch > batches_per_epoch:
        raise UsageError(f"{checkpoint_path}: the stored position, batch {position.batch}, lies beyond the "
                         f"{batches_per_epoch} batches of an epoch")
    return history, position


def run_epochs(config, optimizer, loader, position, step, postfix, finish_epoch, save, on_batch_end, progress):
    """The epochs of a run from `position` on, as described in the module docstring (the position
    decides the batches, learning rate and dropout seed); shared by MNIST and names training.

    step(*batch) -> (mean loss, correct, count) does one optimizer step; postfix(position) is the
    progress bar's postfix; finish_epoch(position) evaluates, saves and reports a finished epoch and
    returns the next position; save(position) saves a checkpoint mid-epoch. Returns (the final
    position, whether training was interrupted).
    """
    with StopRequest() as stop:
        while position.epoch < config.epochs:
            epoch = position.epoch
            bar = _progress_bar(len(loader), position, config, progress)
            started = time.perf_counter() - position.seconds
            loader.epoch = epoch
            batches = iter(loader)
            for _ in range(position.batch):          # resuming: these batches are already trained on
                next(batches)
            for batch in batches:
                lr = learning_rate(config, epoch * len(loader) + position.batch, config.epochs * len(loader))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                ag.manual_seed(dropout_seed(config.seed, epoch, position.batch))
                loss, correct, count = step(*batch)
                position.record(loss, correct, count, seconds=time.perf_counter() - started)
                bar.set_postfix(postfix(position), refresh=False)
                bar.update(1)
                interrupted = False
                if on_batch_end is not None:
                    try:
                        on_batch_end(position)
                    except KeyboardInterrupt:
                        interrupted = True
                if interrupted or stop.requested:
                    bar.close()
                    save(position)
                    return position, True
            bar.close()
            position = finish_epoch(position)
            if stop.requested and position.epoch < config.epochs:
                return position, True
    return position, False


def describe(config, out_dir, saved=None, data="", items="images"):
    """The line printed when a run starts: what is trained (`data` names the data set when it is not
    MNIST, `items` what --limit counts), how, and where to; for a resumed run (`saved`), from which
    epoch and batch."""
    run = (f"{config.model}{data} for {_plural(config.epochs, 'epoch')} ({config.optimizer}, lr {config.lr:g} "
           f"{config.schedule}, batch {config.batch_size}, seed {config.seed}"
           + (f", first {config.limit} {items}" if config.limit else "") + ")")
    if saved is None:
        return f"training {run} -> {out_dir}/"
    position = saved["state"]["position"]
    return f"resuming {run} at epoch {position['epoch'] + 1}, batch {position['batch']} -> {out_dir}/"


def train_step(model, optimizer, images, labels):
    """One optimizer step on a batch: (the batch's mean loss, how many it classified correctly)."""
    logits = model(images)
    loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), int((logits.numpy().argmax(axis=1) == labels.numpy()).sum())


def epoch_metrics(position, test):
    """The metrics of the epoch that `position` has just finished, `test` from evaluate()."""
    return {
        "epoch": position.epoch + 1,
        "train_loss": position.loss_sum / position.seen,
        "train_accuracy": position.correct / position.seen,
        "test_loss": test["loss"],
        "test_accuracy": test["accuracy"],
        "seconds": position.seconds,
        "samples_per_second": position.seen / position.seconds,
    }


# -- validating settings: the command line and a stored checkpoint pass through the same rules -----

def positive_int(value):
    """`value` if it is an int >= 1, else ValueError (a checkpoint or argument rule)."""
    if type(value) is not int or value < 1:
        raise ValueError(f"must be a positive integer, got {value!r}")
    return value


def non_negative_int(value):
    """`value` if it is an int >= 0, else ValueError."""
    if type(value) is not int or value < 0:
        raise ValueError(f"must be a non-negative integer, got {value!r}")
    return value


def positive_number(value):
    """`value` if it is a finite int or float > 0, else ValueError."""
    if type(value) not in (int, float) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"must be a positive number, got {value!r}")
    return value


def non_negative_number(value):
    """`value` if it is a finite int or float >= 0, else ValueError."""
    if type(value) not in (int, float) or not (math.isfinite(value) and value >= 0):
        raise ValueError(f"must be a non-negative number, got {value!r}")
    return value


def loss_value(value):
    """A cross-entropy: non-negative, and inf or nan once a run has diverged (still a run to evaluate)."""
    if type(value) not in (int, float) or not (math.isnan(value) or value >= 0):
        raise ValueError(f"must be a non-negative number (or nan), got {value!r}")
    return value


def one_of(choices):
    """A rule accepting only the strings in `choices` (ValueError otherwise)."""
    def check(value):
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {value!r}")
        return value
    return check


def optional(rule):
    """`rule`, but letting None through."""
    return lambda value: value if value is None else rule(value)


CONFIG_RULES = {"model": one_of(tuple(MODELS)), "epochs": positive_int, "batch_size": positive_int,
                "lr": positive_number, "optimizer": one_of(OPTIMIZERS), "seed": non_negative_int,
                "limit": optional(positive_int), "schedule": one_of(SCHEDULES)}
POSITION_RULES = {"epoch": non_negative_int, "batch": non_negative_int, "loss_sum": loss_value,
                  "correct": non_negative_int, "seen": non_negative_int, "seconds": non_negative_number}
HISTORY_RULES = {"epoch": positive_int, "train_loss": loss_value, "train_accuracy": non_negative_number,
                 "test_loss": loss_value, "test_accuracy": non_negative_number,
                 "seconds": non_negative_number, "samples_per_second": non_negative_number}
assert set(CONFIG_RULES) == {f.name for f in fields(TrainConfig)} == set(TrainConfig.__annotations__)
assert set(POSITION_RULES) == {f.name for f in fields(Position)}


def check_fields(values, rules, where):
    """`values` (a dict) has exactly the fields of `rules`, each passing its rule; else a UsageError
    naming `where` and the field."""
    if not isinstance(values, dict):
        raise UsageError(f"{where} is {type(values).__name__}, not a table of {', '.join(rules)}")
    missing, unknown = [k for k in rules if k not in values], [k for k in values if k not in rules]
    if missing or unknown:
        raise UsageError(f"{where} " + "; ".join(
            ([f"lacks {', '.join(missing)}"] if missing else []) + ([f"has unknown {unknown!r}"] if unknown else [])))
    for name, rule in rules.items():
        try:
            rule(values[name])
        except ValueError as error:
            raise UsageError(f"{where}: {name} {error}") from None


def check_config(config):
    """Raise UsageError for a configuration that cannot train."""
    check_fields(asdict(config), CONFIG_RULES, "the configuration")


def check_train_state(state, path):
    """Every field of a stored training state, checked as the command line's arguments are, and
    against each other; UsageError naming `path` and the field otherwise."""
    where = f"{path}: the stored training state"
    missing = [k for k in ("config", "position", "history") if k not in state]
    if missing:
        raise UsageError(f"{where} lacks {', '.join(missing)}")
    check_fields(state["config"], CONFIG_RULES, f"{where}'s config")
    config, position, history = state["config"], state["position"], state["history"]
    check_fields(position, POSITION_RULES, f"{where}'s position")
    if not isinstance(history, list):
        raise UsageError(f"{where}'s history is {type(history).__name__}, not a list of epochs")
    for k, epoch in enumerate(history):
        check_fields(epoch, HISTORY_RULES, f"{where}'s history[{k}]")
        if epoch["epoch"] != k + 1 or epoch["train_accuracy"] > 1 or epoch["test_accuracy"] > 1:
            raise UsageError(f"{where}'s history[{k}] is inconsistent: epoch {epoch['epoch']}, accuracies "
                             f"{epoch['train_accuracy']} and {epoch['test_accuracy']}")
    batch_size, batch, seen = config["batch_size"], position["batch"], position["seen"]
    # Every batch but an epoch's last is full, so b batches saw more than (b - 1) full ones.
    seen_fits = (batch - 1) * batch_size < seen <= batch * batch_size if batch else seen == 0
    problems = [
        (len(history) != position["epoch"], f"{len(history)} epochs of history at epoch {position['epoch']}"),
        (position["epoch"] > config["epochs"], f"epoch {position['epoch']} of {config['epochs']}"),
        (position["epoch"] == config["epochs"] and batch, f"batch {batch} after the last epoch"),
        (position["correct"] > seen, f"{position['correct']} correct of {seen} seen"),
        (not seen_fits, f"{seen} images seen in {batch} batches of {batch_size}"),
    ]
    for bad, what in problems:
        if bad:
            raise UsageError(f"{where}'s position is inconsistent: {what}")


def format_epoch(metrics, epochs):
    """The line printed after each epoch: train and test loss and accuracy, time, throughput."""
    return (f"epoch {metrics['epoch']}/{epochs}: "
            f"train loss {metrics['train_loss']:.4f} acc {metrics['train_accuracy']:.2%} | "
            f"test loss {metrics['test_loss']:.4f} acc {metrics['test_accuracy']:.2%} | "
            f"{_duration(metrics['seconds'])}, {metrics['samples_per_second']:.0f} samples/s")


def _duration(seconds):
    """'0.34 s' for sub-second epochs, which '{:.1f} s' would print as '0.0 s' or '0.3 s'."""
    return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"


def _progress_bar(total, position, config, enabled):
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=position.batch, desc=f"epoch {position.epoch + 1}/{config.epochs}",
                unit="batch", leave=True, dynamic_ncols=True, disable=None if enabled is None else not enabled)


class StopRequest:
    """Within `with StopRequest() as stop:`, Ctrl-C (SIGINT) and SIGTERM (what `kill`, a scheduler
    or a container stop sends) only set `stop.requested`, so the training loop can finish its batch
    and save a consistent checkpoint; a second signal raises KeyboardInterrupt at once. Outside the
    main thread (where signals cannot be handled) it does nothing, and `requested` stays False."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False
        self._previous = {}

    def __enter__(self):
        try:
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        except ValueError:                      # not the main thread
            pass
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(f"\n{PROG}: {signal.Signals(signum).name}: finishing this batch and saving a checkpoint "
              "(press Ctrl-C again to abort without saving)", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False


# -- checkpoints ---------------------------------------------------------------------------------

def write_checkpoint(path, model, optimizer, state):
    """One safetensors file, written atomically by nn.save: the model's and the optimizer's state
    dicts and the training state (plain numbers and strings, kept in the file's JSON metadata)."""
    nn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "train_state": state}, path)


def read_checkpoint(path, checkpoint_format=CHECKPOINT_FORMAT, check_state=None):
    """{"model", "optimizer", "state"} from a checkpoint written by `write_checkpoint`; UsageError
    with the reason when it is missing, unreadable or not one of ours. The training state must be of
    `checkpoint_format` and pass `check_state(state, path)` (default: check_train_state)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no checkpoint at {path}")
    if not path.is_file():
        raise UsageError(f"{path} is not a checkpoint file (it is a directory or a special file)")
    try:
        saved = nn.load(path)
    except Exception as error:    # nn.load's own errors name the problem; any failure means unusable
        raise UsageError(f"cannot read checkpoint {path}: {_one_line(error)}") from None
    if not (isinstance(saved, dict) and {"model", "optimizer", "train_state"} <= saved.keys()):
        held = ", ".join(map(str, list(saved)[:4])) if isinstance(saved, dict) else type(saved).__name__
        raise UsageError(f"{path} is not an {PROG} training checkpoint (it holds {held}; expected model, "
                         "optimizer and train_state)")
    state = saved["train_state"]
    if not isinstance(state, dict) or state.get("format") != checkpoint_format:
        found = state.get("format") if isinstance(state, dict) else None
        raise UsageError(f"{path}: unknown checkpoint format {found!r} (this {PROG} reads {checkpoint_format} here)")
    (check_state or check_train_state)(state, path)
    return {"model": saved["model"], "optimizer": saved["optimizer"], "state": state}


def config_from_checkpoint(state):
    """The TrainConfig saved in a checkpoint's state."""
    return TrainConfig(**{f.name: state["config"][f.name] for f in fields(TrainConfig)})


def resumed_config(state, requested):
    """The saved run's configuration, with `requested.epochs` (if set) as the new number of epochs;
    UsageError if any other field of `requested` is set to a different value."""
    config = config_from_checkpoint(state)
    for f in fields(TrainConfig):
        value = getattr(requested, f.name)
        if f.name != "epochs" and value is not None and value != getattr(config, f.name):
            option = "--" + f.name.replace("_", "-")
            raise UsageError(f"{option} {value} differs from the checkpoint's {getattr(config, f.name)}; --resume "
                             "continues the saved run with its own settings (only --epochs may change)")
    if requested.epochs is not None:
        started = state["position"]["epoch"] + (1 if state["position"]["batch"] else 0)
        if requested.epochs < started:
            raise UsageError(f"--epochs {requested.epochs}: the checkpoint has already started epoch {started}")
        config.epochs = requested.epochs
    return config


def restore(model, optimizer, saved, path):
    """Load a checkpoint's model and optimizer state into `model` and `optimizer`; UsageError naming `path`
    if it does not fit them."""
    config = saved["state"]["config"]
    try:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
    except (KeyError, ValueError, RuntimeError, TypeError, AttributeError, IndexError) as error:
        raise UsageError(f"{path}: the checkpoint does not fit the {config['model']} model and its optimizer "
                         f"({_one_line(error)})") from None
    check_optimizer_state(optimizer, config, path)


def check_optimizer_state(optimizer, config, path):
    """The restored optimizer's state per parameter holds what one step of a fresh optimizer of
    the same kind makes: the same entries, tensors of the parameter's shape with finite values,
    finite non-negative counters. (The optimizer's own load_state_dict checks the hyperparameters
    and shapes it knows of, not missing entries or counters; those would fail mid-step.)"""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    stand_ins = [ag.zeros(p.shape, dtype=p.dtype, requires_grad=True) for p in params]
    reference = make_optimizer(config["optimizer"], stand_ins, config["lr"])
    for stand_in in stand_ins:
        stand_in.grad = ag.zeros_like(stand_in)
    reference.step()
    for k, (param, stand_in) in enumerate(zip(params, stand_ins)):
        state, expected = optimizer.state.get(param, {}), reference.state[stand_in]
        if not state:
            continue  # not stepped yet
        where = f"{path}: the stored optimizer state of parameter {k}"
        if set(state) != set(expected):
            raise UsageError(f"{where} holds {sorted(state)}, expected {sorted(expected)}")
        for name, value in state.items():
            if _is_array(expected[name]):
                fits = (_is_array(value) and value.shape == expected[name].shape
                        and bool(np.isfinite(np.asarray(value)).all()))
                wanted = f"finite values of shape {expected[name].shape}"
            else:
                fits = type(value) in (int, float) and math.isfinite(value) and value >= 0
                wanted = "a finite non-negative count"
            if not fits:
                shown = f"an array of shape {value.shape}" if _is_array(value) else repr(value)
                raise UsageError(f"{where}: {name} is {shown}; expected {wanted}")


def _is_array(value):
    return isinstance(value, (ag.Tensor, np.ndarray))


def _plural(count, noun, plural=None):
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _one_line(error):
    """The whole message, its lines joined (the first line alone may say only "Error(s) in ...")."""
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__


# -- the output directory ------------------------------------------------------------------------

@contextlib.contextmanager
def claim_output_directory(out_dir, create=True):
    """Check out_dir before any training is done, and hold a lock on it meanwhile.

    It must be (or, with `create`, become) a directory this process can create files in, tried
    for real (mode bits say nothing for root, nor for a read-only mount), and each output file in
    it must be absent or a replaceable regular file. The lock (an flock on LOCK_FILE, released by
    the kernel however the process ends) makes a second run on the same directory fail at once
    instead of overwriting the first one's checkpoint.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} exists and is not a directory")
    if not out_dir.exists() and not create:
        raise UsageError(f"no checkpoint at {out_dir / CHECKPOINT_FILE}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()
    except OSError as error:
        raise UsageError(f"--out {out_dir} is not a directory ndgrad can write to ({error.strerror or error})") from None
    for name in OUTPUT_FILES:
        try:
            check_replaceable(out_dir / name, "--out")
        except OSError as error:
            raise UsageError(str(error)) from None
    with _lock(out_dir / LOCK_FILE, out_dir):
        yield


@contextlib.contextmanager
def _lock(path, out_dir):
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise UsageError(f"cannot create the lock file {path} ({error.strerror or error})") from None
    try:
        if fcntl is not None:   # no flock on Windows: runs there are not protected from each other
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
                raise UsageError(f"another {PROG} train (pid {holder}) is writing to {out_dir}/; wait for it to "
                                 "finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        os.close(fd)


# -- the other outputs ---------------------------------------------------------------------------

def _replace_atomically(path, write):
    """Call write(file) on a file that replaces `path` atomically (nn.files.atomic_write)."""
    with atomic_write(path, PROG) as f:
        write(f)


def write_metrics(path, config, history, position, finished):
    """Write metrics.json to `path` (atomically): the configuration, each epoch's metrics, where the run
    stands, and whether it finished. Strict JSON, so a diverged run's NaN or infinite loss is written
    as null."""
    document = {"config": asdict(config), "epochs": _finite_or_null(history), "finished": finished,
                "position": {"epoch": position.epoch, "batch": position.batch}}
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    _replace_atomically(path, lambda f: f.write(text.encode("utf-8")))


def _finite_or_null(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    return value


def write_curves(path, history, config):
    """Loss and accuracy per epoch, train and test, as a PNG (matplotlib's Agg canvas, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    epochs = [m["epoch"] for m in history]
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for split, style in (("train", "o-"), ("test", "s-")):
        loss_axes.plot(epochs, [m[f"{split}_loss"] for m in history], style, label=split)
        accuracy_axes.plot(epochs, [100 * m[f"{split}_accuracy"] for m in history], style, label=split)
    loss_axes.set(title="loss (cross-entropy)", xlabel="epoch", ylabel="loss")
    accuracy_axes.set(title="accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(True, alpha=0.3)
        axes.legend()
        axes.xaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(f"{config.model} on MNIST ({config.optimizer}, lr {config.lr:g} {config.schedule}, "
                    f"batch {config.batch_size})")
    _replace_atomically(path, lambda f: figure.savefig(f, format="png", dpi=100))


def write_graph(model, images, labels, path, log):
    """An SVG of the graph of one forward pass (in training mode) and its loss, with gradient norms.

    The forward pass updates batchnorm's running statistics, so the state dict is put back after."""
    import graphviz

    snapshot = {name: t.numpy().copy() for name, t in model.state_dict().items()}
    try:
        loss = F.cross_entropy(model(ag.from_numpy(images)), ag.from_numpy(labels))
        svg = ag.draw_graph(loss, model=model, show_grads=True).pipe(format="svg")
    except graphviz.ExecutableNotFound:
        log(f"{PROG}: note: Graphviz's `dot` is not installed, so {path.name} is not written")
        return
    except graphviz.CalledProcessError as error:  # a broken `dot` costs the picture, not the run
        log(f"{PROG}: note: Graphviz's `dot` failed ({_one_line(error)}), so {path.name} is not written")
        return
    finally:
        model.load_state_dict(snapshot)
    _replace_atomically(path, lambda f: f.write(svg))


# -- evaluate ------------------------------------------------------------------------------------

def format_confusion(confusion):
    """The confusion matrix as a table: rows are the true digits, columns the predicted ones."""
    width = max(5, len(str(confusion.max())) + 1)
    lines = ["confusion matrix (rows: true digit, columns: predicted digit)",
             "     " + "".join(f"{j:>{width}}" for j in range(NUM_CLASSES)) + "   correct"]
    for i, row in enumerate(confusion):
        total = row.sum()
        recall = f"{row[i] / total:8.2%}" if total else "       -"
        lines.append(f"{i:>5}" + "".join(f"{v:>{width}}" for v in row) + " " + recall)
    return "\n".join(lines)


def load_weights(model, state_dict, path, model_name):
    """`model` with a checkpoint's weights loaded, or a UsageError naming `path` if they do not fit."""
    try:
        model.load_state_dict(state_dict)
    except (KeyError, ValueError, RuntimeError, TypeError, AttributeError, IndexError) as error:
        raise UsageError(f"{path}: the weights do not fit the {model_name} model ({_one_line(error)})") from None
    return model


def evaluate_checkpoint(path, batch_size=EVAL_BATCH_SIZE):
    """(config, training state, test metrics from evaluate()) of the model in checkpoint `path`."""
    saved = read_checkpoint(path)
    config = config_from_checkpoint(saved["state"])
    model = load_weights(build_model(config.model), saved["model"], path, config.model)
    test = load_mnist(train=False)
    return config, saved["state"], evaluate(model, normalize_images(test.data), test.targets, batch_size)


# -- the command line ----------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, except that an error is one line, `ndgrad: error: ...`, with exit status 2."""

    def error(self, message):
        hint = f" (see `{self.prog} --help`)"
        self.exit(2, f"{PROG}: error: {message}{hint}\n")


def _argument(parse, rule):
    """An argparse type: `parse` the text (int or float), then check it with the same `rule` that
    a stored checkpoint's settings pass."""
    def convert(text):
        try:
            return rule(parse(text))
        except ValueError as error:
            expected = {int: "an integer", float: "a number"}[parse]
            message = str(error) if "must be" in str(error) else f"expected {expected}, got {text!r}"
            raise argparse.ArgumentTypeError(message) from None
    return convert


_positive_int = _argument(int, positive_int)
_non_negative_int = _argument(int, non_negative_int)
_positive_float = _argument(float, positive_number)


def build_parser():
    """The argument parser of the `ndgrad` command, with its `train`, `evaluate` and `sample` subcommands."""
    parser = _Parser(prog=PROG, description="Train and evaluate ndgrad's MNIST models.")
    commands = parser.add_subparsers(dest="command", metavar="{train,evaluate,sample}", parser_class=_Parser)

    train_parser = commands.add_parser(
        "train", help="train a model on MNIST",
        description="Train a model on MNIST, printing train and test loss and accuracy after each epoch. "
                    "Writes checkpoint.safetensors, metrics.json, curves.png and graph.svg to --out. "
                    "Ctrl-C saves a checkpoint that --resume continues exactly.")
    train_parser.add_argument("--data", choices=("mnist", "names"), default="mnist",
                              help="mnist, or names: character-level models of first names (see nn/train_names.py)")
    train_parser.add_argument("--model", choices=sorted({*MODELS, *CHAR_MODELS}), default=None,
                              help="mlp: 784-256-128-10; cnn: two conv/batchnorm/pool blocks and a dense head "
                                   "(default: mlp); with --data names: bigram, mlp, rnn, gru or transformer "
                                   "(default: gru)")
    train_parser.add_argument("--epochs", type=_positive_int, default=None,
                              help=f"number of epochs (default: {DEFAULT_EPOCHS['mlp']} for mlp, "
                                   f"{DEFAULT_EPOCHS['cnn']} for cnn); with --resume, the new total")
    train_parser.add_argument("--batch-size", type=_positive_int, default=None,
                              help=f"images per batch (default: {DEFAULT_BATCH_SIZE})")
    train_parser.add_argument("--lr", type=_positive_float, default=None,
                              help="learning rate (default: " +
                                   ", ".join(f"{DEFAULT_LR[o]:g} for {o}" for o in OPTIMIZERS) + ")")
    train_parser.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                              help=f"sgd (momentum {SGD_MOMENTUM}), adam or adamw (default: adam)")
    train_parser.add_argument("--schedule", choices=SCHEDULES, default=None,
                              help="learning rate: cosine decays it to 0 over the run, batch by batch; "
                                   "constant keeps it (default: cosine)")
    train_parser.add_argument("--seed", type=_non_negative_int, default=None,
                              help="seeds the initial weights, the data order and dropout (default: 0)")
    train_parser.add_argument("--out", metavar="DIR", default=None,
                              help="output directory (default: runs/<model>)")
    train_parser.add_argument("--resume", action="store_true",
                              help="continue the run whose checkpoint is in --out, with its settings")
    train_parser.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                              help="train on the first N training images only")
    train_parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                              help="show progress bars (default: when stderr is a terminal)")
    train_parser.add_argument("--layer-stats", action="store_true",
                              help="after training, write layer_stats.txt (per-layer activation and gradient "
                                   "statistics) and gradient_flow.png, from one batch of training images")
    # For tests: behave as if Ctrl-C were pressed after this many batches.
    train_parser.add_argument("--stop-after-batches", type=_positive_int, default=None, help=argparse.SUPPRESS)

    evaluate_parser = commands.add_parser(
        "evaluate", help="test accuracy and confusion matrix of a checkpoint",
        description="Print a checkpoint's test accuracy and its confusion matrix on the MNIST test set.")
    evaluate_parser.add_argument("--checkpoint", required=True, metavar="PATH",
                                 help=f"a checkpoint file, or a directory holding {CHECKPOINT_FILE}")
    evaluate_parser.add_argument("--batch-size", type=_positive_int, default=EVAL_BATCH_SIZE,
                                 help=f"images per batch (default: {EVAL_BATCH_SIZE})")
    train_names.add_sample_parser(commands)
    return parser


def _train_command(args):
    config = TrainConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         optimizer=args.optimizer, seed=args.seed, limit=args.limit, schedule=args.schedule)
    out_dir = Path(args.out or Path("runs") / (args.model or "mlp"))
    on_batch_end = None
    if args.stop_after_batches is not None:
        batches_left = args.stop_after_batches

        def on_batch_end(position):
            nonlocal batches_left
            batches_left -= 1
            if batches_left == 0:
                raise KeyboardInterrupt

    if args.data == "names":
        return train_names.train_command(args, config, on_batch_end)
    result = train(config, out_dir, resume=args.resume, on_batch_end=on_batch_end, progress=args.progress,
                   log=lambda line: print(line, flush=True))
    if result.interrupted:
        return report_stop(result.position, out_dir, f"{PROG} train --out {out_dir} --resume")
    if args.layer_stats:
        from .layer_statistics import STATISTICS_BATCH_SIZE, write_layer_statistics
        batch = load_mnist(train=True)
        write_layer_statistics(result.model, F.cross_entropy, normalize_images(batch.data[:STATISTICS_BATCH_SIZE]),
                               batch.targets[:STATISTICS_BATCH_SIZE], out_dir)
    if result.history:
        final = result.history[-1]
        print(f"test accuracy {final['test_accuracy']:.2%} after {_plural(final['epoch'], 'epoch')}; "
              f"outputs in {out_dir}/")
    return 0


def report_stop(position, out_dir, resume_command):
    """Say where an interrupted run stopped and how to continue it; the exit status, 130."""
    where = f"batch {position.batch} of epoch {position.epoch + 1}" if position.batch else f"epoch {position.epoch}"
    print(f"{PROG}: stopped after {where}; checkpoint saved in {out_dir}/. Continue with: {resume_command}",
          file=sys.stderr)
    return 130


def _evaluate_command(args):
    path = Path(args.checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    config, state, metrics = evaluate_checkpoint(path, args.batch_size)
    position = state["position"]
    trained = _plural(position["epoch"], "epoch") + (f" and {_plural(position['batch'], 'batch', 'batches')}"
                                                     if position["batch"] else "")
    print(f"checkpoint {path}: {config.model}, trained {trained}")
    print(f"test accuracy: {metrics['accuracy']:.2%} ({metrics['correct']}/{metrics['count']}), "
          f"test loss {metrics['loss']:.4f}")
    print(format_confusion(metrics["confusion"]))
    return 0


def main(argv=None):
    """Run the `ndgrad` command with `argv` (default sys.argv[1:]); returns the exit status (2 on a usage
    or data error, 130 on Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("choose a command: train or evaluate")
    try:
        if args.command == "sample":
            return train_names.sample_command(args)
        return _train_command(args) if args.command == "train" else _evaluate_command(args)
    except (UsageError, DataUnavailable, OSError) as error:  # OSError: an output that cannot be written
        print(f"{PROG}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: aborted", file=sys.stderr)
        return 130


from . import train_names  # noqa: E402  (it builds on this module's functions)

if __name__ == "__main__":
    sys.exit(main())
