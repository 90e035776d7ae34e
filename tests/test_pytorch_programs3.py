"""Well-known kinds of PyTorch programs (the official examples and tutorials, torchvision/timm/HF-style
blocks), written once against PyTorch's names and run twice: with `torch` and, after the import swap
(torch -> autograd, torch.nn -> nn, torch.nn.functional -> nn.functional, torch.optim -> nn.optim,
torch.utils.data -> nn.data), with ndgrad. The PyTorch run's initial weights are loaded into the
ndgrad run; every loss, output and gradient the program records must then follow PyTorch's step for step.

Each program is a function of the libraries `(torch, nn, F, optim, data)` and `init` (the initial
state dict as NumPy arrays, or None to keep the library's own initialisation); it returns a dict
`{"init": state, name: value or list of values}`, everything recorded as NumPy arrays or floats.
"""
import collections
import math
import random
from types import SimpleNamespace

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

torch = pytest.importorskip("torch")

TORCH = SimpleNamespace(torch=torch, nn=torch.nn, F=torch.nn.functional, optim=torch.optim,
                        data=torch.utils.data)
NDGRAD = SimpleNamespace(torch=ag, nn=nn, F=F, optim=nn.optim, data=nn.data)


def as_numpy(value):
    """A recorded value (Tensor of either library, number, nested list/tuple/dict) as NumPy."""
    if isinstance(value, dict):
        return {k: as_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_numpy(v) for v in value]
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy().copy()
    return np.asarray(value)


def state_of(model):
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def load_init(torch, model, init):
    """The program's one concession to the comparison: start from the PyTorch run's weights."""
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})


def run_both(program, rtol=2e-4, atol=2e-5, **kwargs):
    """Run `program` with torch, then with ndgrad from torch's initial state; compare every record."""
    torch.manual_seed(0)
    theirs = as_numpy(program(**vars(TORCH), init=None, **kwargs))
    ag.manual_seed(0)
    ours = as_numpy(program(**vars(NDGRAD), init=theirs["init"], **kwargs))
    assert ours.keys() == theirs.keys()
    for name in theirs:
        compare(name, ours[name], theirs[name], rtol, atol)
    return ours, theirs


def compare(name, mine, theirs, rtol, atol):
    if isinstance(theirs, dict):
        assert mine.keys() == theirs.keys(), name
        for k in theirs:
            compare(f"{name}[{k!r}]", mine[k], theirs[k], rtol, atol)
    elif isinstance(theirs, list):
        assert len(mine) == len(theirs), f"{name}: {len(mine)} records vs torch's {len(theirs)}"
        for i, (a, b) in enumerate(zip(mine, theirs)):
            compare(f"{name}[{i}]", a, b, rtol, atol)
    else:
        assert mine.shape == theirs.shape, f"{name}: shape {mine.shape} vs torch's {theirs.shape}"
        if theirs.dtype.kind in "fc":
            assert mine.dtype == theirs.dtype, f"{name}: dtype {mine.dtype} vs torch's {theirs.dtype}"
            np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=atol, err_msg=name)
        else:
            np.testing.assert_array_equal(mine, theirs, err_msg=name)


def grads_of(model):
    return {name: p.grad for name, p in model.named_parameters() if p.grad is not None}


# --- pytorch/examples word_language_model: nn.Transformer subclass, RNNModel with tied weights ---

def word_language_model(torch, nn, F, optim, data, init, model_type):
    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=5000):
            super(PositionalEncoding, self).__init__()
            self.dropout = nn.Dropout(p=dropout)
            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            pe = pe.unsqueeze(0).transpose(0, 1)
            self.register_buffer('pe', pe)

        def forward(self, x):
            x = x + self.pe[:x.size(0), :]
            return self.dropout(x)

    class TransformerModel(nn.Transformer):
        def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
            super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                                                   num_encoder_layers=nlayers, num_decoder_layers=1,
                                                   dropout=dropout)
            self.model_type = 'Transformer'
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout, max_len=64)
            self.input_emb = nn.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = nn.Linear(ninp, ntoken)
            self.init_weights()

        def _generate_square_subsequent_mask(self, sz):
            return torch.log(torch.tril(torch.ones(sz, sz)))

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, src, has_mask=True):
            if has_mask:
                device = src.device
                if self.src_mask is None or self.src_mask.size(0) != len(src):
                    mask = self._generate_square_subsequent_mask(len(src)).to(device)
                    self.src_mask = mask
            else:
                self.src_mask = None
            src = self.input_emb(src) * math.sqrt(self.ninp)
            src = self.pos_encoder(src)
            output = self.encoder(src, mask=self.src_mask)
            output = self.decoder(output)
            return F.log_softmax(output, dim=-1)

    class RNNModel(nn.Module):
        def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
            super(RNNModel, self).__init__()
            self.ntoken = ntoken
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            if rnn_type in ['LSTM', 'GRU']:
                self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            else:
                nonlinearity = {'RNN_TANH': 'tanh', 'RNN_RELU': 'relu'}[rnn_type]
                self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            if tie_weights:
                if nhid != ninp:
                    raise ValueError('When using the tied flag, nhid must be equal to emsize')
                self.decoder.weight = self.encoder.weight
            self.init_weights()
            self.rnn_type = rnn_type
            self.nhid = nhid
            self.nlayers = nlayers

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output)
            decoded = decoded.view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            if self.rnn_type == 'LSTM':
                return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                        weight.new_zeros(self.nlayers, bsz, self.nhid))
            else:
                return weight.new_zeros(self.nlayers, bsz, self.nhid)

    def batchify(data, bsz):
        nbatch = data.size(0) // bsz
        data = data.narrow(0, 0, nbatch * bsz)
        data = data.view(bsz, -1).t().contiguous()
        return data.to(device)

    def get_batch(source, i):
        seq_len = min(bptt, len(source) - 1 - i)
        data = source[i:i + seq_len]
        target = source[i + 1:i + 1 + seq_len].view(-1)
        return data, target

    def repackage_hidden(h):
        if isinstance(h, torch.Tensor):
            return h.detach()
        else:
            return tuple(repackage_hidden(v) for v in h)

    device = torch.device("cpu")
    ntokens, bptt, lr, clip = 17, 7, 2.0, 0.5
    corpus = (np.arange(200) * 5) % ntokens  # learnable
    train_data = batchify(torch.tensor(corpus[:150]), 4)
    val_data = batchify(torch.tensor(corpus[150:]), 2)
    if model_type == 'Transformer':
        model = TransformerModel(ntokens, 16, 2, 32, 2, dropout=0.0).to(device)
    else:
        model = RNNModel(model_type, ntokens, 16, 16, 2, dropout=0.0, tie_weights=True).to(device)
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "grad": [], "val_ppl": []}
    criterion = nn.NLLLoss()

    def evaluate(data_source):
        model.eval()
        total_loss = 0.
        if model_type != 'Transformer':
            hidden = model.init_hidden(2)
        with torch.no_grad():
            for i in range(0, data_source.size(0) - 1, bptt):
                data, targets = get_batch(data_source, i)
                if model_type == 'Transformer':
                    output = model(data)
                    output = output.view(-1, ntokens)
                else:
                    output, hidden = model(data, hidden)
                    hidden = repackage_hidden(hidden)
                total_loss += len(data) * criterion(output, targets).item()
        return total_loss / (len(data_source) - 1)

    for epoch in range(2):
        model.train()
        if model_type != 'Transformer':
            hidden = model.init_hidden(4)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i)
            model.zero_grad()
            if model_type == 'Transformer':
                output = model(data)
                output = output.view(-1, ntokens)
            else:
                hidden = repackage_hidden(hidden)
                output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            if batch == 0:
                record["grad"].append(grads_of(model))
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            record["loss"].append(loss.item())
        record["val_ppl"].append(math.exp(evaluate(val_data)))
    return record


@pytest.mark.parametrize("model_type", ["Transformer", "LSTM", "GRU", "RNN_TANH"])
def test_word_language_model_example_follows_torch(model_type):
    ours, _ = run_both(word_language_model, model_type=model_type, rtol=1e-3, atol=1e-5)
    assert ours["loss"][-1] < ours["loss"][0]
