"""`ndgrad train --data names` and `ndgrad sample`: character-level language models on first names.

`ndgrad train --data names --model {bigram,mlp,rnn,gru,transformer}` trains one of the models of
nn/char_models.py on the training split of nn.data.Names (the makemore recipe: '.' as start and end
token, lowercase names, a validation split fixed by the seed), prints each epoch's training and
validation loss (mean cross-entropy per predicted character, in nats) and next-character accuracy,
and at the end a few sampled names. It writes to its output directory, as MNIST training does
(nn/train.py, whose checkpoint, metrics, progress-bar, learning-rate, seeding and Ctrl-C machinery it
reuses, so the same exact-resumption guarantee holds):

    checkpoint.safetensors   model, optimizer and training state (rewritten each epoch)
    metrics.json             the configuration and each epoch's train/validation loss and accuracy
    curves.png               loss per epoch

`ndgrad sample --checkpoint DIR -n 20 --seed 0` prints names drawn from a trained model.
"""
import dataclasses
from dataclasses import asdict
from pathlib import Path

import numpy as np

import autograd as ag
import nn

from . import train as train_module
from .char_models import CHAR_MODELS, build_char_model, sample, sequence_loss
from .data.names import VOCABULARY, decode
from .train import (CHECKPOINT_FILE, CONFIG_RULES, CURVES_FILE, METRICS_FILE, POSITION_RULES, PROG, DataUnavailable,
                    TrainConfig, TrainResult, UsageError, _non_negative_int, _plural,
                    _positive_int, _replace_atomically, check_fields, claim_output_directory, loss_value,
                    make_optimizer, non_negative_number, one_of, open_run, positive_int, restored_progress, run_epochs,
                    write_checkpoint, write_metrics)

CHECKPOINT_FORMAT = "ndgrad-names-checkpoint/1"
DEFAULT_MODEL = "gru"
DEFAULT_EPOCHS = {"bigram": 5, "mlp": 20, "rnn": 10, "gru": 10, "transformer": 10}
DEFAULT_LR = {"bigram": 0.1, "mlp": 1e-2, "rnn": 1e-2, "gru": 1e-2, "transformer": 3e-3}   # for adam(w)
SGD_LR = 0.05
DEFAULT_OPTIMIZER = "adamw"
DEFAULT_BATCH_SIZE = 128
EVAL_BATCH_SIZE = 512
SAMPLES_AFTER_TRAINING = 10

# A stored checkpoint is checked with the rules of nn/train.py, the models and metrics being these.
NAMES_CONFIG_RULES = {**CONFIG_RULES, "model": one_of(CHAR_MODELS)}
NAMES_HISTORY_RULES = {"epoch": positive_int, "train_loss": loss_value, "train_accuracy": non_negative_number,
                       "val_loss": loss_value, "val_accuracy": non_negative_number, "seconds": non_negative_number,
                       "characters_per_second": non_negative_number}


def resolved(config):
    """`config` (a TrainConfig; `limit` counts training names) with the names defaults filled in."""
    model = config.model or DEFAULT_MODEL
    optimizer = config.optimizer or DEFAULT_OPTIMIZER
    lr = config.lr if config.lr is not None else SGD_LR if optimizer == "sgd" else DEFAULT_LR.get(model)
    return dataclasses.replace(
        config, model=model, optimizer=optimizer, lr=lr,
        epochs=DEFAULT_EPOCHS.get(model) if config.epochs is None else config.epochs,
        batch_size=DEFAULT_BATCH_SIZE if config.batch_size is None else config.batch_size).resolved()


def load_splits(config):
    """(training Names, validation Names) for the run's seed and limit."""
    try:
        return (nn.data.Names(train=True, seed=config.seed, limit=config.limit),
                nn.data.Names(train=False, seed=config.seed))
    except (RuntimeError, OSError, ValueError) as error:
        raise DataUnavailable(str(error)) from None


def build_model(config, block_size):
    """A freshly initialised model of `config.model` for sequences up to `block_size` tokens."""
    return build_char_model(config.model, len(VOCABULARY), block_size)


def evaluate(model, dataset, batch_size=EVAL_BATCH_SIZE):
    """{"loss", "accuracy"} of `model` in eval mode: mean cross-entropy per predicted character and
    the fraction of characters it ranks first."""
    was_training = model.training
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    try:
        with ag.no_grad():
            for start in range(0, len(dataset), batch_size):
                inputs, targets = dataset.get_batch(np.arange(start, min(start + batch_size, len(dataset))))
                logits = model(inputs)
                tokens = int((targets.numpy() >= 0).sum())
                loss_sum += sequence_loss(logits, targets).item() * tokens
                correct += _correct(logits, targets)
                count += tokens
    finally:
        model.train(was_training)
    return {"loss": loss_sum / count, "accuracy": correct / count}


def _correct(logits, targets):
    return int((logits.numpy().argmax(axis=-1) == targets.numpy()).sum())


def train_step(model, optimizer, inputs, targets):
    """One optimizer step: (mean loss per character, characters predicted right, characters)."""
    logits = model(inputs)
    loss = sequence_loss(logits, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), _correct(logits, targets), int((targets.numpy() >= 0).sum())


def train(config, out_dir, resume=False, on_batch_end=None, progress=None, log=None, data=None):
    """Train a character model as `ndgrad train --data names` does; returns nn.train.TrainResult.

    The arguments are those of nn.train.train; `data` is the (training, validation) pair of
    `load_splits(config)`, to save loading it again.
    """
    log = log or print
    out_dir = Path(out_dir)
    if not resume:
        config = resolved(config)
        check_fields(asdict(config), NAMES_CONFIG_RULES, "the configuration")
    with claim_output_directory(out_dir, create=not resume):
        return _train(config, out_dir, resume, on_batch_end, progress, log, data)


def _train(config, out_dir, resume, on_batch_end, progress, log, data):
    checkpoint_path = out_dir / CHECKPOINT_FILE
    config, saved = open_run(config, checkpoint_path, resume, log, read_checkpoint, describe)

    train_set, validation_set = data if data is not None else load_splits(config)
    ag.manual_seed(config.seed)
    model = build_model(config, train_set.block_size)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    loader = nn.data.DataLoader(train_set, batch_size=config.batch_size, shuffle=True, seed=config.seed)
    history, position = restored_progress(model, optimizer, saved, checkpoint_path, len(loader))

    def save(position, finished=False):
        state = {"format": CHECKPOINT_FORMAT, "config": asdict(config), "position": asdict(position),
                 "history": history, "block_size": train_set.block_size}
        write_checkpoint(checkpoint_path, model, optimizer, state)
        write_metrics(out_dir / METRICS_FILE, config, history, position, finished)

    def finish_epoch(position):
        history.append(epoch_metrics(position, evaluate(model, validation_set)))
        position = position.next_epoch()
        save(position, finished=position.epoch >= config.epochs)
        write_curves(out_dir / CURVES_FILE, history, config)
        log(format_epoch(history[-1], config.epochs))
        return position

    def postfix(position):
        return {"loss": f"{position.loss_sum / position.seen:.4f}",
                "chars/s": f"{position.seen / position.seconds:.0f}"}

    model.train()
    position, interrupted = run_epochs(config, optimizer, loader, position,
                                       lambda inputs, targets: train_step(model, optimizer, inputs, targets),
                                       postfix, finish_epoch, save, on_batch_end, progress)
    return TrainResult(model, optimizer, config, history, position, interrupted, out_dir)


def describe(config, out_dir, saved=None):
    """The line a run starts with: what it trains, how, and where the outputs go."""
    return train_module.describe(config, out_dir, saved, data=" on names", items="names")


def epoch_metrics(position, validation):
    """nn.train's epoch metrics, with the validation split's names for the held-out ones."""
    renamed = {"test_loss": "val_loss", "test_accuracy": "val_accuracy", "samples_per_second": "characters_per_second"}
    return {renamed.get(key, key): value for key, value in train_module.epoch_metrics(position, validation).items()}


def format_epoch(metrics, epochs):
    """The line printed after each epoch."""
    return (f"epoch {metrics['epoch']}/{epochs}: "
            f"train loss {metrics['train_loss']:.4f} acc {metrics['train_accuracy']:.2%} | "
            f"val loss {metrics['val_loss']:.4f} acc {metrics['val_accuracy']:.2%} | "
            f"{metrics['seconds']:.1f} s, {metrics['characters_per_second']:.0f} chars/s")


def write_curves(path, history, config):
    """Train and validation loss per epoch as a PNG (matplotlib's Agg canvas, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    epochs = [m["epoch"] for m in history]
    for split, style in (("train", "o-"), ("val", "s-")):
        axes.plot(epochs, [m[f"{split}_loss"] for m in history], style, label=split)
    axes.set(title=f"{config.model} on names ({config.optimizer}, lr {config.lr:g} {config.schedule})",
             xlabel="epoch", ylabel="cross-entropy per character (nats)")
    axes.grid(True, alpha=0.3)
    axes.legend()
    axes.xaxis.get_major_locator().set_params(integer=True)
    _replace_atomically(path, lambda f: figure.savefig(f, format="png", dpi=100))


# -- checkpoints and sampling --------------------------------------------------------------------

def read_checkpoint(path):
    """{"model", "optimizer", "state"} of a names checkpoint (a file or a run directory); UsageError
    saying why it is unusable."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    return train_module.read_checkpoint(path, CHECKPOINT_FORMAT, check_state)


def check_state(state, path):
    """A stored names training state, checked with nn/train.py's rules for the shared fields."""
    where = f"{path}: the stored training state"
    check_fields({k: v for k, v in state.items() if k != "format"},
                 {"config": _instance_of(dict), "position": _instance_of(dict), "history": _instance_of(list),
                  "block_size": positive_int}, where)
    check_fields(state["config"], NAMES_CONFIG_RULES, f"{where}'s config")
    check_fields(state["position"], POSITION_RULES, f"{where}'s position")
    for k, epoch in enumerate(state["history"]):
        check_fields(epoch, NAMES_HISTORY_RULES, f"{where}'s history[{k}]")


def _instance_of(kind):
    def check(value):
        if not isinstance(value, kind):
            raise ValueError(f"must be a {kind.__name__}, got {type(value).__name__}")
        return value
    return check


def load_trained(path):
    """(config, model) from the checkpoint at `path` (a file or a run directory)."""
    saved = read_checkpoint(path)
    state = saved["state"]
    config = train_module.config_from_checkpoint(state)
    model = train_module.load_weights(build_model(config, state["block_size"]), saved["model"], path, config.model)
    return config, model, state["block_size"]


def sample_names(model, count, block_size, seed=0):
    """`count` names drawn from `model` (nn.char_models.sample), a function of `seed`."""
    return [decode(tokens) for tokens in sample(model, count, block_size, seed)]


# -- the command line ----------------------------------------------------------------------------

def add_sample_parser(commands):
    """Add `ndgrad sample` to the subcommands of nn.train's parser."""
    parser = commands.add_parser(
        "sample", help="print names sampled from a model trained with --data names",
        description="Print names drawn from a character model trained with `ndgrad train --data names`.")
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help=f"a checkpoint file, or a directory holding {CHECKPOINT_FILE}")
    parser.add_argument("-n", "--count", type=_positive_int, default=20, help="how many names (default: 20)")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="seeds the sampling: the same seed gives the same names (default: 0)")


def sample_command(args):
    """`ndgrad sample`: print the names, one a line; returns the exit status."""
    _, model, block_size = load_trained(args.checkpoint)
    for name in sample_names(model, args.count, block_size, args.seed):
        print(name)
    return 0


def train_command(args, config, on_batch_end):
    """`ndgrad train --data names` with the TrainConfig nn.train made of `args`: returns the exit status."""
    out_dir = Path(args.out or Path("runs") / f"names-{args.model or DEFAULT_MODEL}")
    result = train(config, out_dir, resume=args.resume, on_batch_end=on_batch_end, progress=args.progress,
                   log=lambda line: print(line, flush=True))
    if result.interrupted:
        return train_module.report_stop(result.position, out_dir, f"{PROG} train --data names --out {out_dir} --resume")
    if result.history:
        final = result.history[-1]
        print(f"validation loss {final['val_loss']:.4f} after {_plural(final['epoch'], 'epoch')}; "
              f"outputs in {out_dir}/")
        _, model, block_size = load_trained(out_dir)
        print("sampled names: " + ", ".join(sample_names(model, SAMPLES_AFTER_TRAINING, block_size)))
    return 0
