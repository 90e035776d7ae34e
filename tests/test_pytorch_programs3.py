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
import warnings
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
    """Copies: a later backward adds into torch's .grad in place (ndgrad's only when nobody else holds it)."""
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


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


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("model_type", ["Transformer", "LSTM", "GRU", "RNN_TANH"])
def test_word_language_model_example_follows_torch(model_type):
    ours, _ = run_both(word_language_model, model_type=model_type, rtol=1e-3, atol=1e-5)
    assert ours["loss"][-1] < ours["loss"][0]


# --- The seq2seq translation tutorial: GRU encoder, Bahdanau attention decoder, teacher forcing ---

def seq2seq_translation(torch, nn, F, optim, data, init):
    SOS_token, MAX_LENGTH, device = 0, 6, torch.device("cpu")

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p=0.1):
            super(EncoderRNN, self).__init__()
            self.hidden_size = hidden_size
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            embedded = self.dropout(self.embedding(input))
            output, hidden = self.gru(embedded)
            return output, hidden

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super(BahdanauAttention, self).__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            context = torch.bmm(weights, keys)
            return context, weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.1):
            super(AttnDecoderRNN, self).__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs = []
            attentions = []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(
                    decoder_input, decoder_hidden, encoder_outputs)
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)
                if target_tensor is not None:
                    decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
                else:
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()
            decoder_outputs = torch.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            attentions = torch.cat(attentions, dim=1)
            return decoder_outputs, decoder_hidden, attentions

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))
            query = hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            input_gru = torch.cat((embedded, context), dim=2)
            output, hidden = self.gru(input_gru, hidden)
            output = self.out(output)
            return output, hidden, attn_weights

    rng = np.random.default_rng(1)
    src = rng.integers(2, 12, (24, MAX_LENGTH))
    tgt = (src[:, ::-1] + 1) % 12  # "translate": reverse and shift
    train_data = data.TensorDataset(torch.LongTensor(src).to(device), torch.LongTensor(tgt.copy()).to(device))
    train_sampler = data.SequentialSampler(train_data)
    train_dataloader = data.DataLoader(train_data, sampler=train_sampler, batch_size=8)

    class Seq2Seq(nn.Module):  # only to carry both halves' weights in one state dict
        def __init__(self):
            super().__init__()
            self.encoder = EncoderRNN(12, 16, dropout_p=0.0).to(device)
            self.decoder = AttnDecoderRNN(16, 12, dropout_p=0.0).to(device)

    both = Seq2Seq()
    load_init(torch, both, init)
    encoder, decoder = both.encoder, both.decoder
    record = {"init": state_of(both), "loss": [], "grad": [], "attn": None, "decoded": None}
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
    criterion = nn.NLLLoss()
    for epoch in range(1, 4):
        total_loss = 0
        for data_ in train_dataloader:
            input_tensor, target_tensor = data_
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)
            loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
            loss.backward()
            if epoch == 1 and not record["grad"]:
                record["grad"].append(grads_of(both))
            encoder_optimizer.step()
            decoder_optimizer.step()
            total_loss += loss.item()
        record["loss"].append(total_loss / len(train_dataloader))

    with torch.no_grad():  # evaluate(): greedy decoding through topk
        input_tensor = torch.LongTensor(src[:4])
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)
        _, topi = decoder_outputs.topk(1)
        record["decoded"] = topi.squeeze()
        record["attn"] = decoder_attn
    return record


def test_seq2seq_translation_tutorial_follows_torch():
    ours, _ = run_both(seq2seq_translation, rtol=1e-3, atol=1e-5)
    assert ours["loss"][-1] < ours["loss"][0]


# --- pytorch/examples dcgan: ConvTranspose2d generator, weights_init through apply, BCELoss ---

def dcgan(torch, nn, F, optim, data, init):
    nz, ngf, ndf, nc = 8, 8, 8, 1
    real_label, fake_label = 1, 0

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
                nn.Tanh()
            )

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
                nn.Sigmoid()
            )

        def forward(self, input):
            output = self.main(input)
            return output.view(-1, 1).squeeze(1)

    class GAN(nn.Module):
        def __init__(self):
            super().__init__()
            self.netG = Generator(0)
            self.netG.apply(weights_init)
            self.netD = Discriminator(0)
            self.netD.apply(weights_init)

    gan = GAN()
    load_init(torch, gan, init)
    netG, netD = gan.netG, gan.netD
    record = {"init": state_of(gan), "errD": [], "errG": [], "D_x": [], "gradD": [], "fake": None,
              "state": None}
    criterion = nn.BCELoss()
    rng = np.random.default_rng(2)
    fixed_noise = torch.from_numpy(rng.standard_normal((4, nz, 1, 1)).astype(np.float32))
    images = rng.uniform(-1, 1, (24, nc, 16, 16)).astype(np.float32)
    noises = rng.standard_normal((3, 8, nz, 1, 1)).astype(np.float32)
    dataloader = data.DataLoader(data.TensorDataset(torch.from_numpy(images)), batch_size=8)
    optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))
    for i, data_ in enumerate(dataloader, 0):
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = data_[0]
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.from_numpy(noises[i])  # torch.randn(batch_size, nz, 1, 1) in the example
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        record["gradD"].append(grads_of(netD))
        optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        record["errD"].append(errD.item())
        record["errG"].append(errG.item())
        record["D_x"].append(D_x)
    netG.eval()
    with torch.no_grad():
        record["fake"] = netG(fixed_noise).detach()
    record["state"] = state_of(gan)
    return record


def test_dcgan_example_follows_torch():
    run_both(dcgan, rtol=1e-3, atol=1e-5)


# --- pytorch/examples vae: reparameterisation, BCE + KLD summed loss ---

def vae(torch, nn, F, optim, data, init):
    class VAE(nn.Module):
        def __init__(self):
            super(VAE, self).__init__()
            self.fc1 = nn.Linear(64, 32)
            self.fc21 = nn.Linear(32, 4)
            self.fc22 = nn.Linear(32, 4)
            self.fc3 = nn.Linear(4, 32)
            self.fc4 = nn.Linear(32, 64)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar, eps):
            std = torch.exp(0.5 * logvar)
            return mu + eps * std  # eps = torch.randn_like(std) in the example: drawn once here, shared

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x, eps):
            mu, logvar = self.encode(x.view(-1, 64))
            z = self.reparameterize(mu, logvar, eps)
            return self.decode(z), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction='sum')
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    model = VAE()
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "test_loss": None, "sample": None, "grad": []}
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(4)
    images = (rng.uniform(0, 1, (32, 1, 8, 8)) > 0.5).astype(np.float32)
    eps = torch.from_numpy(rng.standard_normal((4, 8, 4)).astype(np.float32))
    train_loader = data.DataLoader(data.TensorDataset(torch.from_numpy(images), torch.zeros(32)), batch_size=8)
    model.train()
    train_loss = 0
    for batch_idx, (data_, _) in enumerate(train_loader):
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data_, eps[batch_idx])
        loss = loss_function(recon_batch, data_, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        record["grad"].append(grads_of(model))
        optimizer.step()
        record["loss"].append(loss.item() / len(data_))
    model.eval()
    with torch.no_grad():
        recon, mu, logvar = model(torch.from_numpy(images[:8]), eps[0])
        record["test_loss"] = loss_function(recon, torch.from_numpy(images[:8]), mu, logvar).item()
        sample = model.decode(eps[1]).cpu()
        record["sample"] = sample.view(8, 1, 8, 8)
    return record


def test_vae_example_follows_torch():
    run_both(vae, rtol=1e-3, atol=1e-5)


# --- pytorch/examples super_resolution: PixelShuffle, orthogonal init with calculate_gain, PSNR ---

def super_resolution(torch, nn, F, optim, data, init):
    init_ = nn.init  # the example's `import torch.nn.init as init` (`init` here is the initial state)

    class Net(nn.Module):
        def __init__(self, upscale_factor):
            super(Net, self).__init__()
            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
            self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
            self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
            self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
            self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
            self._initialize_weights()

        def forward(self, x):
            x = self.relu(self.conv1(x))
            x = self.relu(self.conv2(x))
            x = self.relu(self.conv3(x))
            x = self.pixel_shuffle(self.conv4(x))
            return x

        def _initialize_weights(self):
            init_.orthogonal_(self.conv1.weight, init_.calculate_gain('relu'))
            init_.orthogonal_(self.conv2.weight, init_.calculate_gain('relu'))
            init_.orthogonal_(self.conv3.weight, init_.calculate_gain('relu'))
            init_.orthogonal_(self.conv4.weight)

    model = Net(upscale_factor=2)
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "psnr": [], "out": None}
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(5)
    target = rng.uniform(0, 1, (16, 1, 12, 12)).astype(np.float32)
    low = target.reshape(16, 1, 6, 2, 6, 2).mean(axis=(3, 5))
    training_data_loader = data.DataLoader(data.TensorDataset(torch.from_numpy(low), torch.from_numpy(target)),
                                           batch_size=4)
    for epoch in range(2):
        for iteration, batch in enumerate(training_data_loader, 1):
            input, target_ = batch[0], batch[1]
            optimizer.zero_grad()
            loss = criterion(model(input), target_)
            loss.backward()
            optimizer.step()
            record["loss"].append(loss.item())
        avg_psnr = 0
        with torch.no_grad():
            for batch in training_data_loader:
                input, target_ = batch[0], batch[1]
                prediction = model(input)
                mse = criterion(prediction, target_)
                psnr = 10 * math.log10(1 / mse.item())
                avg_psnr += psnr
        record["psnr"].append(avg_psnr / len(training_data_loader))
    record["out"] = model(torch.from_numpy(low[:2]))
    return record


def test_super_resolution_example_follows_torch():
    run_both(super_resolution, rtol=1e-3, atol=1e-5)


# --- A UNet (as milesial/Pytorch-UNet): ConvTranspose2d or bilinear Upsample, F.pad to the skip's size ---

def unet(torch, nn, F, optim, data, init, bilinear):
    class DoubleConv(nn.Module):
        def __init__(self, in_channels, out_channels, mid_channels=None):
            super().__init__()
            if not mid_channels:
                mid_channels = out_channels
            self.double_conv = nn.Sequential(
                nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(mid_channels),
                nn.ReLU(inplace=True),
                nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True)
            )

        def forward(self, x):
            return self.double_conv(x)

    class Down(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

        def forward(self, x):
            return self.maxpool_conv(x)

    class Up(nn.Module):
        def __init__(self, in_channels, out_channels, bilinear=True):
            super().__init__()
            if bilinear:
                self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
                self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
            else:
                self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
                self.conv = DoubleConv(in_channels, out_channels)

        def forward(self, x1, x2):
            x1 = self.up(x1)
            diffY = x2.size()[2] - x1.size()[2]
            diffX = x2.size()[3] - x1.size()[3]
            x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
            x = torch.cat([x2, x1], dim=1)
            return self.conv(x)

    class UNet(nn.Module):
        def __init__(self, n_channels, n_classes, bilinear=False):
            super(UNet, self).__init__()
            self.n_channels = n_channels
            self.n_classes = n_classes
            self.bilinear = bilinear
            self.inc = DoubleConv(n_channels, 8)
            self.down1 = Down(8, 16)
            factor = 2 if bilinear else 1
            self.down2 = Down(16, 32 // factor)
            self.up1 = Up(32, 16 // factor, bilinear)
            self.up2 = Up(16, 8, bilinear)
            self.outc = nn.Conv2d(8, n_classes, kernel_size=1)

        def forward(self, x):
            x1 = self.inc(x)
            x2 = self.down1(x1)
            x3 = self.down2(x2)
            x = self.up1(x3, x2)
            x = self.up2(x, x1)
            logits = self.outc(x)
            return logits

    def dice_coeff(input, target, reduce_batch_first=False, epsilon=1e-6):
        sum_dim = (-1, -2) if input.dim() == 2 or not reduce_batch_first else (-1, -2, -3)
        inter = 2 * (input * target).sum(dim=sum_dim)
        sets_sum = input.sum(dim=sum_dim) + target.sum(dim=sum_dim)
        sets_sum = torch.where(sets_sum == 0, inter, sets_sum)
        dice = (inter + epsilon) / (sets_sum + epsilon)
        return dice.mean()

    def dice_loss(input, target):
        return 1 - dice_coeff(input.flatten(0, 1), target.flatten(0, 1), reduce_batch_first=True)

    model = UNet(n_channels=3, n_classes=1, bilinear=bilinear)
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "grad": [], "val_dice": [], "lr": []}
    optimizer = optim.RMSprop(model.parameters(), lr=1e-3, weight_decay=1e-8, momentum=0.9, foreach=True)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, 'max', patience=0)
    criterion = nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(6)
    images = rng.standard_normal((8, 3, 10, 10)).astype(np.float32)  # 10 -> 5 -> 2: odd sizes need the pad
    masks = (images.mean(1) > 0).astype(np.float32)
    loader = data.DataLoader(data.TensorDataset(torch.from_numpy(images), torch.from_numpy(masks)), batch_size=4)
    for epoch in range(2):
        model.train()
        for images_, true_masks in loader:
            masks_pred = model(images_)
            loss = criterion(masks_pred.squeeze(1), true_masks.float())
            loss += dice_loss(F.sigmoid(masks_pred.squeeze(1)), true_masks.float())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            record["grad"].append(grads_of(model))
            optimizer.step()
            record["loss"].append(loss.item())
        model.eval()
        dice_score = 0
        with torch.inference_mode():
            for image, mask_true in loader:
                mask_pred = (F.sigmoid(model(image)) > 0.5).float()
                dice_score += dice_coeff(mask_pred.squeeze(1), mask_true, reduce_batch_first=False)
        val_score = dice_score / max(len(loader), 1)
        scheduler.step(val_score)
        record["val_dice"].append(val_score)
        record["lr"].append(optimizer.param_groups[0]['lr'])
    return record


@pytest.mark.parametrize("bilinear", [False, True])
def test_unet_follows_torch(bilinear):
    run_both(unet, bilinear=bilinear, rtol=1e-3, atol=1e-5)


# --- torchvision-style ResNet: BasicBlock/Bottleneck, kaiming fan_out, zero-init residual, OneCycleLR ---

def resnet(torch, nn, F, optim, data, init):
    def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
        return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                         bias=False, dilation=dilation)

    def conv1x1(in_planes, out_planes, stride=1):
        return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None):
            super().__init__()
            if norm_layer is None:
                norm_layer = nn.BatchNorm2d
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = norm_layer(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = norm_layer(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x):
            identity = x
            out = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            out = self.relu(out)
            return out

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None):
            super().__init__()
            if norm_layer is None:
                norm_layer = nn.BatchNorm2d
            width = planes
            self.conv1 = conv1x1(inplanes, width)
            self.bn1 = norm_layer(width)
            self.conv2 = conv3x3(width, width, stride)
            self.bn2 = norm_layer(width)
            self.conv3 = conv1x1(width, planes * self.expansion)
            self.bn3 = norm_layer(planes * self.expansion)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self, block, layers, num_classes=10, zero_init_residual=True):
            super().__init__()
            self._norm_layer = nn.BatchNorm2d
            self.inplanes = 8
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = self._norm_layer(self.inplanes)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block[0], 8, layers[0])
            self.layer2 = self._make_layer(block[1], 8, layers[1], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(8 * block[1].expansion, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
            if zero_init_residual:
                for m in self.modules():
                    if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                        nn.init.constant_(m.bn3.weight, 0)
                    elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                        nn.init.constant_(m.bn2.weight, 0)

        def _make_layer(self, block, planes, blocks, stride=1):
            norm_layer = self._norm_layer
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    conv1x1(self.inplanes, planes * block.expansion, stride),
                    norm_layer(planes * block.expansion),
                )
            layers = [block(self.inplanes, planes, stride, downsample, norm_layer)]
            self.inplanes = planes * block.expansion
            for _ in range(1, blocks):
                layers.append(block(self.inplanes, planes, norm_layer=norm_layer))
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer1(x)
            x = self.layer2(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.fc(x)

    model = ResNet([BasicBlock, Bottleneck], [2, 1])
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "lr": [], "momentum": [], "acc": None, "bn_state": None}
    rng = np.random.default_rng(7)
    x = rng.standard_normal((24, 3, 16, 16)).astype(np.float32)
    y = rng.integers(0, 10, 24)
    loader = data.DataLoader(data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=8)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=2, steps_per_epoch=len(loader))
    for epoch in range(2):
        model.train()
        for inputs, targets in loader:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            scheduler.step()
            record["loss"].append(loss.item())
            record["lr"].append(scheduler.get_last_lr()[0])
            record["momentum"].append(optimizer.param_groups[0]["momentum"])
    model.eval()
    correct = 0
    with torch.no_grad():
        for inputs, targets in loader:
            _, predicted = model(inputs).max(1)
            correct += predicted.eq(targets).sum().item()
    record["acc"] = 100. * correct / len(loader.dataset)
    record["bn_state"] = {k: v for k, v in state_of(model).items() if "running" in k or "num_batches" in k}
    return record


def test_torchvision_style_resnet_with_one_cycle_follows_torch():
    run_both(resnet, rtol=2e-3, atol=1e-4)


# --- timm-style ViT: patch embedding, cls token, fused qkv + scaled_dot_product_attention, DropPath,
#     trunc_normal_ init, AdamW with no weight decay on norms and biases, warmup + cosine LambdaLR ---

def vision_transformer(torch, nn, F, optim, data, init):
    def drop_path(x, drop_prob: float = 0., training: bool = False, scale_by_keep: bool = True):
        if drop_prob == 0. or not training:
            return x
        keep_prob = 1 - drop_prob
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
        if keep_prob > 0.0 and scale_by_keep:
            random_tensor.div_(keep_prob)
        return x * random_tensor

    class DropPath(nn.Module):
        def __init__(self, drop_prob: float = 0., scale_by_keep: bool = True):
            super(DropPath, self).__init__()
            self.drop_prob = drop_prob
            self.scale_by_keep = scale_by_keep

        def forward(self, x):
            return drop_path(x, self.drop_prob, self.training, self.scale_by_keep)

        def extra_repr(self):
            return f'drop_prob={round(self.drop_prob, 3):0.3f}'

    class PatchEmbed(nn.Module):
        def __init__(self, img_size=16, patch_size=4, in_chans=3, embed_dim=16):
            super().__init__()
            self.num_patches = (img_size // patch_size) ** 2
            self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
            self.norm = nn.Identity()

        def forward(self, x):
            x = self.proj(x)
            x = x.flatten(2).transpose(1, 2)  # NCHW -> NLC
            return self.norm(x)

    class Attention(nn.Module):
        def __init__(self, dim, num_heads=8, qkv_bias=False, attn_drop=0., proj_drop=0.):
            super().__init__()
            assert dim % num_heads == 0, 'dim should be divisible by num_heads'
            self.num_heads = num_heads
            self.head_dim = dim // num_heads
            self.scale = self.head_dim ** -0.5
            self.fused_attn = True
            self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
            self.attn_drop = nn.Dropout(attn_drop)
            self.proj = nn.Linear(dim, dim)
            self.proj_drop = nn.Dropout(proj_drop)

        def forward(self, x):
            B, N, C = x.shape
            qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)
            if self.fused_attn:
                x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop.p if self.training else 0.)
            else:
                q = q * self.scale
                attn = q @ k.transpose(-2, -1)
                attn = attn.softmax(dim=-1)
                attn = self.attn_drop(attn)
                x = attn @ v
            x = x.transpose(1, 2).reshape(B, N, C)
            x = self.proj(x)
            return self.proj_drop(x)

    class Mlp(nn.Module):
        def __init__(self, in_features, hidden_features=None, act_layer=nn.GELU, drop=0.):
            super().__init__()
            self.fc1 = nn.Linear(in_features, hidden_features)
            self.act = act_layer()
            self.drop1 = nn.Dropout(drop)
            self.fc2 = nn.Linear(hidden_features, in_features)
            self.drop2 = nn.Dropout(drop)

        def forward(self, x):
            return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))

    class LayerScale(nn.Module):
        def __init__(self, dim, init_values=1e-5, inplace=False):
            super().__init__()
            self.inplace = inplace
            self.gamma = nn.Parameter(init_values * torch.ones(dim))

        def forward(self, x):
            return x.mul_(self.gamma) if self.inplace else x * self.gamma

    class Block(nn.Module):
        def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=True, init_values=None, drop_path=0.,
                     norm_layer=nn.LayerNorm, fused_attn=True):
            super().__init__()
            self.norm1 = norm_layer(dim)
            self.attn = Attention(dim, num_heads=num_heads, qkv_bias=qkv_bias)
            self.attn.fused_attn = fused_attn
            self.ls1 = LayerScale(dim, init_values=init_values) if init_values else nn.Identity()
            self.drop_path1 = DropPath(drop_path) if drop_path > 0. else nn.Identity()
            self.norm2 = norm_layer(dim)
            self.mlp = Mlp(in_features=dim, hidden_features=int(dim * mlp_ratio))
            self.ls2 = LayerScale(dim, init_values=init_values) if init_values else nn.Identity()
            self.drop_path2 = DropPath(drop_path) if drop_path > 0. else nn.Identity()

        def forward(self, x):
            x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
            x = x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))
            return x

    class VisionTransformer(nn.Module):
        def __init__(self, num_classes=5, embed_dim=16, depth=2, num_heads=4):
            super().__init__()
            norm_layer = partial(nn.LayerNorm, eps=1e-6)
            self.patch_embed = PatchEmbed(embed_dim=embed_dim)
            num_patches = self.patch_embed.num_patches
            self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
            self.pos_embed = nn.Parameter(torch.randn(1, num_patches + 1, embed_dim) * .02)
            self.pos_drop = nn.Dropout(p=0.0)
            dpr = [x.item() for x in torch.linspace(0, 0.1, depth)]  # stochastic depth decay rule
            self.blocks = nn.Sequential(*[
                Block(embed_dim, num_heads, norm_layer=norm_layer, init_values=1e-1 if i else None,
                      drop_path=dpr[i] * 0, fused_attn=bool(i))
                for i in range(depth)])
            self.norm = norm_layer(embed_dim)
            self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
            nn.init.trunc_normal_(self.pos_embed, std=.02)
            nn.init.normal_(self.cls_token, std=1e-6)
            self.apply(self._init_weights)

        def _init_weights(self, m):
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.zeros_(m.bias)
                nn.init.ones_(m.weight)

        def no_weight_decay(self):
            return {'pos_embed', 'cls_token'}

        def forward_features(self, x):
            x = self.patch_embed(x)
            x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
            x = self.pos_drop(x + self.pos_embed)
            x = self.blocks(x)
            return self.norm(x)

        def forward(self, x):
            x = self.forward_features(x)
            return self.head(x[:, 0])

    from functools import partial
    model = VisionTransformer()
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "lr": [], "grad_norm": [], "grad": [], "logits": None}
    skip = model.no_weight_decay()
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name.endswith(".bias") or name in skip:
            no_decay.append(param)
        else:
            decay.append(param)
    optimizer = optim.AdamW([{'params': no_decay, 'weight_decay': 0.},
                             {'params': decay, 'weight_decay': 0.05}], lr=1e-3, betas=(0.9, 0.999))
    warmup, total = 2, 8

    def lr_lambda(step):
        if step < warmup:
            return float(step + 1) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))

    scheduler = optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    rng = np.random.default_rng(8)
    x = torch.from_numpy(rng.standard_normal((total, 4, 3, 16, 16)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 5, (total, 4)))
    model.train()
    for step in range(total):
        loss = F.cross_entropy(model(x[step]), y[step])
        optimizer.zero_grad()
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        if step == 0:
            record["grad"].append(grads_of(model))
        optimizer.step()
        scheduler.step()
        record["loss"].append(loss.item())
        record["grad_norm"].append(grad_norm.item())
        record["lr"].append([g["lr"] for g in optimizer.param_groups])
    model.eval()
    with torch.no_grad():
        record["logits"] = model(x[0])
    return record


def test_timm_style_vision_transformer_follows_torch():
    run_both(vision_transformer, rtol=2e-3, atol=2e-5)


# --- Hugging Face-style BERT for masked LM: padding mask as an additive float mask (finfo.min),
#     position ids in a non-persistent buffer, tied decoder weights, ignore_index=-100 labels ---

def bert_masked_lm(torch, nn, F, optim, data, init):
    class Config:
        vocab_size, hidden_size, num_hidden_layers, num_attention_heads = 20, 16, 2, 2
        intermediate_size, max_position_embeddings, type_vocab_size = 32, 12, 2
        layer_norm_eps, hidden_dropout_prob, attention_probs_dropout_prob, pad_token_id = 1e-12, 0.0, 0.0, 0

    class BertEmbeddings(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size,
                                                padding_idx=config.pad_token_id)
            self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
            self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
            self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
            self.dropout = nn.Dropout(config.hidden_dropout_prob)
            self.register_buffer("position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)),
                                 persistent=False)
            self.register_buffer("token_type_ids", torch.zeros(self.position_ids.size(), dtype=torch.long),
                                 persistent=False)

        def forward(self, input_ids=None, token_type_ids=None, past_key_values_length=0):
            input_shape = input_ids.size()
            seq_length = input_shape[1]
            position_ids = self.position_ids[:, past_key_values_length: seq_length + past_key_values_length]
            if token_type_ids is None:
                buffered_token_type_ids = self.token_type_ids[:, :seq_length]
                token_type_ids = buffered_token_type_ids.expand(input_shape[0], seq_length)
            embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
            embeddings += self.position_embeddings(position_ids)
            embeddings = self.LayerNorm(embeddings)
            return self.dropout(embeddings)

    class BertSelfAttention(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.num_attention_heads = config.num_attention_heads
            self.attention_head_size = int(config.hidden_size / config.num_attention_heads)
            self.all_head_size = self.num_attention_heads * self.attention_head_size
            self.query = nn.Linear(config.hidden_size, self.all_head_size)
            self.key = nn.Linear(config.hidden_size, self.all_head_size)
            self.value = nn.Linear(config.hidden_size, self.all_head_size)
            self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

        def transpose_for_scores(self, x):
            new_x_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
            x = x.view(new_x_shape)
            return x.permute(0, 2, 1, 3)

        def forward(self, hidden_states, attention_mask=None, output_attentions=False):
            query_layer = self.transpose_for_scores(self.query(hidden_states))
            key_layer = self.transpose_for_scores(self.key(hidden_states))
            value_layer = self.transpose_for_scores(self.value(hidden_states))
            attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
            attention_scores = attention_scores / math.sqrt(self.attention_head_size)
            if attention_mask is not None:
                attention_scores = attention_scores + attention_mask
            attention_probs = nn.functional.softmax(attention_scores, dim=-1)
            attention_probs = self.dropout(attention_probs)
            context_layer = torch.matmul(attention_probs, value_layer)
            context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
            new_context_layer_shape = context_layer.size()[:-2] + (self.all_head_size,)
            context_layer = context_layer.view(new_context_layer_shape)
            return (context_layer, attention_probs) if output_attentions else (context_layer,)

    class BertLayer(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.attention = BertSelfAttention(config)
            self.attention_output = nn.Linear(config.hidden_size, config.hidden_size)
            self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
            self.intermediate = nn.Linear(config.hidden_size, config.intermediate_size)
            self.output = nn.Linear(config.intermediate_size, config.hidden_size)
            self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

        def forward(self, hidden_states, attention_mask, output_attentions=False):
            outputs = self.attention(hidden_states, attention_mask, output_attentions)
            attention_output = self.attention_norm(self.attention_output(outputs[0]) + hidden_states)
            intermediate = nn.functional.gelu(self.intermediate(attention_output))
            layer_output = self.output_norm(self.output(intermediate) + attention_output)
            return (layer_output,) + outputs[1:]

    class BertForMaskedLM(nn.Module):
        _tied_weights_keys = ["decoder.weight", "decoder.bias"]

        def __init__(self, config):
            super().__init__()
            self.config = config
            self.embeddings = BertEmbeddings(config)
            self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])
            self.transform = nn.Linear(config.hidden_size, config.hidden_size)
            self.transform_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
            self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
            self.bias = nn.Parameter(torch.zeros(config.vocab_size))
            self.decoder.bias = self.bias
            self.apply(self._init_weights)
            self.decoder.weight = self.embeddings.word_embeddings.weight  # tie_weights()

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.bias is not None:
                    module.bias.data.zero_()
            elif isinstance(module, nn.Embedding):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.padding_idx is not None:
                    module.weight.data[module.padding_idx].zero_()
            elif isinstance(module, nn.LayerNorm):
                module.bias.data.zero_()
                module.weight.data.fill_(1.0)

        @property
        def dtype(self):
            return next(self.parameters()).dtype

        def get_extended_attention_mask(self, attention_mask, input_shape):
            extended_attention_mask = attention_mask[:, None, None, :]
            extended_attention_mask = extended_attention_mask.to(dtype=self.dtype)  # fp16 compatibility
            extended_attention_mask = (1.0 - extended_attention_mask) * torch.finfo(self.dtype).min
            return extended_attention_mask

        def forward(self, input_ids, attention_mask=None, labels=None, output_attentions=False):
            input_shape = input_ids.size()
            if attention_mask is None:
                attention_mask = torch.ones(input_shape, device=input_ids.device)
            extended_attention_mask = self.get_extended_attention_mask(attention_mask, input_shape)
            hidden_states = self.embeddings(input_ids=input_ids)
            all_attentions = () if output_attentions else None
            for layer_module in self.layer:
                layer_outputs = layer_module(hidden_states, extended_attention_mask, output_attentions)
                hidden_states = layer_outputs[0]
                if output_attentions:
                    all_attentions = all_attentions + (layer_outputs[1],)
            h = self.transform_norm(F.gelu(self.transform(hidden_states)))
            prediction_scores = self.decoder(h)
            masked_lm_loss = None
            if labels is not None:
                loss_fct = nn.CrossEntropyLoss()  # -100 index = padding token
                masked_lm_loss = loss_fct(prediction_scores.view(-1, self.config.vocab_size), labels.view(-1))
            return masked_lm_loss, prediction_scores, all_attentions

    config = Config()
    model = BertForMaskedLM(config)
    load_init(torch, model, init)
    record = {"init": state_of(model), "keys": sorted(model.state_dict()), "loss": [], "grad": [],
              "attn": None, "missing": None}
    rng = np.random.default_rng(9)
    lengths = [8, 5, 3, 7]
    ids = np.zeros((4, 8), np.int64)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(1, config.vocab_size, n)
    attention_mask = torch.tensor((ids != 0).astype(np.int64))
    input_ids = torch.tensor(ids)
    labels = input_ids.clone()
    probability_matrix = torch.full(labels.shape, 0.3)
    masked_indices = torch.from_numpy(rng.uniform(size=ids.shape) < 0.3) & attention_mask.bool()
    labels[~masked_indices] = -100  # loss only on masked tokens
    inputs = input_ids.clone()
    inputs[masked_indices] = 1  # [MASK]
    del probability_matrix
    optimizer = optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01)
    model.train()
    for step in range(4):
        loss, _, _ = model(inputs, attention_mask=attention_mask, labels=labels)
        loss.backward()
        if step == 0:
            record["grad"].append(grads_of(model))
        optimizer.step()
        optimizer.zero_grad()
        record["loss"].append(loss.item())
    model.eval()
    with torch.no_grad():
        _, scores, attentions = model(input_ids, attention_mask=attention_mask, output_attentions=True)
    record["attn"] = list(attentions)
    # Loading a checkpoint saved without the tied decoder and with an extra head: strict=False reports both.
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("decoder.")}
    state["pooler.dense.weight"] = torch.zeros(2, 2)
    result = model.load_state_dict(state, strict=False)
    record["missing"] = [sorted(result.missing_keys), sorted(result.unexpected_keys)]
    return record


def test_huggingface_style_bert_masked_lm_follows_torch():
    ours, _ = run_both(bert_masked_lm, rtol=2e-3, atol=2e-5)
    assert "embeddings.position_ids" not in ours["keys"]


# --- PyTorch-GAN (eriklindernoren) wgan_gp: Variable, Tensor = torch.FloatTensor, gradient penalty
#     through torch.autograd.grad(create_graph=True, only_inputs=True), n_critic steps ---

def wgan_gp(torch, nn, F, optim, data, init):
    Variable, autograd = torch.autograd.Variable, torch.autograd
    img_shape, latent_dim, lambda_gp, n_critic = (1, 6, 6), 4, 10, 2
    cuda = False
    Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor

    class Generator(nn.Module):
        def __init__(self):
            super(Generator, self).__init__()

            def block(in_feat, out_feat, normalize=True):
                layers = [nn.Linear(in_feat, out_feat)]
                if normalize:
                    layers.append(nn.BatchNorm1d(out_feat, 0.8))
                layers.append(nn.LeakyReLU(0.2, inplace=True))
                return layers

            self.model = nn.Sequential(
                *block(latent_dim, 16, normalize=False),
                *block(16, 32),
                nn.Linear(32, int(np.prod(img_shape))),
                nn.Tanh()
            )

        def forward(self, z):
            img = self.model(z)
            img = img.view(img.shape[0], *img_shape)
            return img

    class Discriminator(nn.Module):
        def __init__(self):
            super(Discriminator, self).__init__()
            self.model = nn.Sequential(
                nn.Linear(int(np.prod(img_shape)), 32),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(32, 16),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(16, 1),
            )

        def forward(self, img):
            img_flat = img.view(img.shape[0], -1)
            validity = self.model(img_flat)
            return validity

    class GAN(nn.Module):
        def __init__(self):
            super().__init__()
            self.generator, self.discriminator = Generator(), Discriminator()

    gan = GAN()
    load_init(torch, gan, init)
    generator, discriminator = gan.generator, gan.discriminator
    record = {"init": state_of(gan), "d_loss": [], "g_loss": [], "gp": [], "state": None}
    optimizer_G = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    rng = np.random.default_rng(10)

    def compute_gradient_penalty(D, real_samples, fake_samples):
        alpha = Tensor(rng.random((real_samples.size(0), 1, 1, 1)).astype(np.float32))
        interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
        d_interpolates = D(interpolates)
        fake = Variable(Tensor(real_samples.shape[0], 1).fill_(1.0), requires_grad=False)
        gradients = autograd.grad(
            outputs=d_interpolates,
            inputs=interpolates,
            grad_outputs=fake,
            create_graph=True,
            retain_graph=True,
            only_inputs=True,
        )[0]
        gradients = gradients.view(gradients.size(0), -1)
        gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
        return gradient_penalty

    images = np.tanh(rng.standard_normal((24, *img_shape))).astype(np.float32)
    dataloader = data.DataLoader(data.TensorDataset(torch.tensor(images)), batch_size=8)
    for epoch in range(2):
        for i, (imgs,) in enumerate(dataloader):
            real_imgs = Variable(imgs.type(Tensor))
            optimizer_D.zero_grad()
            z = Variable(Tensor(rng.normal(0, 1, (imgs.shape[0], latent_dim)).astype(np.float32)))
            fake_imgs = generator(z)
            real_validity = discriminator(real_imgs)
            fake_validity = discriminator(fake_imgs)
            gradient_penalty = compute_gradient_penalty(discriminator, real_imgs.data, fake_imgs.data)
            d_loss = -torch.mean(real_validity) + torch.mean(fake_validity) + lambda_gp * gradient_penalty
            d_loss.backward()
            optimizer_D.step()
            optimizer_G.zero_grad()
            record["d_loss"].append(d_loss.item())
            record["gp"].append(gradient_penalty.item())
            if i % n_critic == 0:
                fake_imgs = generator(z)
                fake_validity = discriminator(fake_imgs)
                g_loss = -torch.mean(fake_validity)
                g_loss.backward()
                optimizer_G.step()
                record["g_loss"].append(g_loss.item())
    # Not the bias of the Linear before BatchNorm1d, nor that norm's running mean, which holds it: the
    # bias's gradient is rounding noise (the norm removes the mean), which Adam's normalisation turns
    # into steps of about lr in either library.
    noisy = ("generator.model.2.bias", "generator.model.3.running_mean")
    record["state"] = {k: v for k, v in state_of(gan).items() if k not in noisy}
    return record


def test_wgan_gp_with_variables_and_a_gradient_penalty_follows_torch():
    run_both(wgan_gp, rtol=1e-3, atol=1e-5)


# --- Checkpoint and resume (the "saving and loading a general checkpoint" recipe), then fine-tuning
#     with a new head: load_state_dict(strict=False), requires_grad_(False) on the backbone ---

def checkpoint_resume_finetune(torch, nn, F, optim, data, init, path):
    class Net(nn.Module):
        def __init__(self, num_classes=3):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                          nn.AdaptiveAvgPool2d(2))
            self.register_buffer("steps", torch.zeros((), dtype=torch.long))
            self.register_buffer("scratch", torch.zeros(3), persistent=False)
            self.classifier = nn.Linear(16, num_classes)

        def forward(self, x):
            self.steps += 1
            return self.classifier(torch.flatten(self.features(x), 1))

    rng = np.random.default_rng(11)
    x = torch.from_numpy(rng.standard_normal((6, 8, 1, 6, 6)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 3, (6, 8)))

    def make(state=None):
        model = Net()
        load_init(torch, model, state)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scheduler = optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2, eta_min=1e-3)
        return model, optimizer, scheduler

    def train(model, optimizer, scheduler, epochs, losses):
        for epoch in epochs:
            model.train()
            iters = 2
            for i in range(iters):
                batch = 2 * epoch + i
                optimizer.zero_grad()
                loss = F.cross_entropy(model(x[batch % 6]), y[batch % 6])
                loss.backward()
                optimizer.step()
                scheduler.step(epoch + i / iters)  # the documented fractional-epoch form
                losses.append((loss.item(), scheduler.get_last_lr()[0]))

    model, optimizer, scheduler = make(init)
    record = {"init": state_of(model), "losses": [], "resumed": [], "uninterrupted": [], "finetune": [],
              "keys": None, "frozen_grad": None, "head": None}
    train(model, optimizer, scheduler, range(2), record["losses"])
    torch.save({'epoch': 2, 'model_state_dict': model.state_dict(),
                'optimizer_state_dict': optimizer.state_dict(),
                'scheduler_state_dict': scheduler.state_dict(), 'loss': record["losses"][-1][0]}, path)
    uninterrupted = [model, optimizer, scheduler]
    train(*uninterrupted, range(2, 4), record["uninterrupted"])

    checkpoint = torch.load(path, map_location=torch.device("cpu"), weights_only=True)
    model, optimizer, scheduler = make()
    model.load_state_dict(checkpoint['model_state_dict'])
    optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
    scheduler.load_state_dict(checkpoint['scheduler_state_dict'])
    epoch, loss = checkpoint['epoch'], checkpoint['loss']
    assert loss == record["losses"][-1][0]
    train(model, optimizer, scheduler, range(epoch, epoch + 2), record["resumed"])

    # Fine-tune: a new 5-class head; the checkpoint's head does not fit and is left out.
    finetuned = Net(num_classes=5)
    backbone = {k: v for k, v in checkpoint['model_state_dict'].items() if not k.startswith("classifier.")}
    result = finetuned.load_state_dict(backbone, strict=False)
    record["keys"] = [sorted(result.missing_keys), sorted(result.unexpected_keys)]
    for param in finetuned.features.parameters():
        param.requires_grad_(False)
    finetuned.features.apply(lambda m: m.eval() if isinstance(m, nn.BatchNorm2d) else None)
    head_opt = optim.Adam([p for p in finetuned.parameters() if p.requires_grad], lr=0.01)
    y5 = torch.from_numpy(rng.integers(0, 5, (6, 8)))
    nn.init.zeros_(finetuned.classifier.weight)
    nn.init.constant_(finetuned.classifier.bias, 0.1)
    for step in range(3):
        head_opt.zero_grad()
        loss = F.cross_entropy(finetuned(x[step]), y5[step])
        loss.backward()
        head_opt.step()
        record["finetune"].append(loss.item())
    record["frozen_grad"] = [p.grad is None for p in finetuned.features.parameters()]
    record["head"] = state_of(finetuned)
    return record


def test_checkpoint_resume_and_fine_tuning_follow_torch(tmp_path):
    ours, theirs = run_both(checkpoint_resume_finetune, path=tmp_path / "checkpoint.pt", rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours["resumed"], ours["uninterrupted"], rtol=1e-6)
    assert ours["keys"] == [["classifier.bias", "classifier.weight"], []]


# --- The "Language Translation with nn.Transformer" tutorial: Seq2SeqTransformer, create_mask with
#     padding masks for source, target and memory, greedy decoding ---

def transformer_translation(torch, nn, F, optim, data, init):
    PAD_IDX, BOS_IDX, EOS_IDX, SRC_VOCAB, TGT_VOCAB = 1, 2, 3, 14, 14
    DEVICE = torch.device('cpu')

    class PositionalEncoding(nn.Module):
        def __init__(self, emb_size: int, dropout: float, maxlen: int = 50):
            super(PositionalEncoding, self).__init__()
            den = torch.exp(- torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
            pos = torch.arange(0, maxlen).reshape(maxlen, 1)
            pos_embedding = torch.zeros((maxlen, emb_size))
            pos_embedding[:, 0::2] = torch.sin(pos * den)
            pos_embedding[:, 1::2] = torch.cos(pos * den)
            pos_embedding = pos_embedding.unsqueeze(-2)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer('pos_embedding', pos_embedding)

        def forward(self, token_embedding):
            return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])

    class TokenEmbedding(nn.Module):
        def __init__(self, vocab_size: int, emb_size):
            super(TokenEmbedding, self).__init__()
            self.embedding = nn.Embedding(vocab_size, emb_size)
            self.emb_size = emb_size

        def forward(self, tokens):
            return self.embedding(tokens.long()) * math.sqrt(self.emb_size)

    class Seq2SeqTransformer(nn.Module):
        def __init__(self, num_encoder_layers, num_decoder_layers, emb_size, nhead, src_vocab_size,
                     tgt_vocab_size, dim_feedforward=32, dropout=0.1):
            super(Seq2SeqTransformer, self).__init__()
            self.transformer = nn.Transformer(d_model=emb_size, nhead=nhead, num_encoder_layers=num_encoder_layers,
                                              num_decoder_layers=num_decoder_layers,
                                              dim_feedforward=dim_feedforward, dropout=dropout)
            self.generator = nn.Linear(emb_size, tgt_vocab_size)
            self.src_tok_emb = TokenEmbedding(src_vocab_size, emb_size)
            self.tgt_tok_emb = TokenEmbedding(tgt_vocab_size, emb_size)
            self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

        def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                    memory_key_padding_mask):
            src_emb = self.positional_encoding(self.src_tok_emb(src))
            tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
            outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None,
                                    src_padding_mask, tgt_padding_mask, memory_key_padding_mask)
            return self.generator(outs)

        def encode(self, src, src_mask):
            return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

        def decode(self, tgt, memory, tgt_mask):
            return self.transformer.decoder(self.positional_encoding(self.tgt_tok_emb(tgt)), memory, tgt_mask)

    def generate_square_subsequent_mask(sz):
        mask = (torch.triu(torch.ones((sz, sz), device=DEVICE)) == 1).transpose(0, 1)
        mask = mask.float().masked_fill(mask == 0, float('-inf')).masked_fill(mask == 1, float(0.0))
        return mask

    def create_mask(src, tgt):
        src_seq_len = src.shape[0]
        tgt_seq_len = tgt.shape[0]
        tgt_mask = generate_square_subsequent_mask(tgt_seq_len)
        src_mask = torch.zeros((src_seq_len, src_seq_len), device=DEVICE).type(torch.bool)
        src_padding_mask = (src == PAD_IDX).transpose(0, 1)
        tgt_padding_mask = (tgt == PAD_IDX).transpose(0, 1)
        return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask

    def collate_fn(batch):
        src_batch, tgt_batch = [], []
        for src_sample, tgt_sample in batch:
            src_batch.append(torch.cat([torch.tensor([BOS_IDX]), src_sample, torch.tensor([EOS_IDX])]))
            tgt_batch.append(torch.cat([torch.tensor([BOS_IDX]), tgt_sample, torch.tensor([EOS_IDX])]))
        src_batch = nn.utils.rnn.pad_sequence(src_batch, padding_value=PAD_IDX)
        tgt_batch = nn.utils.rnn.pad_sequence(tgt_batch, padding_value=PAD_IDX)
        return src_batch, tgt_batch

    class Pairs(data.Dataset):
        def __init__(self):
            rng = np.random.default_rng(12)
            lengths = rng.integers(2, 7, 12)
            self.src = [torch.tensor(rng.integers(4, SRC_VOCAB, n)) for n in lengths]
            self.tgt = [(s.flip(0) - 4 + 1) % (TGT_VOCAB - 4) + 4 for s in self.src]

        def __len__(self):
            return len(self.src)

        def __getitem__(self, i):
            return self.src[i], self.tgt[i]

    transformer = Seq2SeqTransformer(2, 2, 16, 2, SRC_VOCAB, TGT_VOCAB, dropout=0.0)
    for p in transformer.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    load_init(torch, transformer, init)
    transformer = transformer.to(DEVICE)
    record = {"init": state_of(transformer), "loss": [], "grad": [], "decoded": [], "memory": None}
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_IDX)
    optimizer = torch.optim.Adam(transformer.parameters(), lr=0.001, betas=(0.9, 0.98), eps=1e-9)
    train_dataloader = data.DataLoader(Pairs(), batch_size=4, collate_fn=collate_fn)
    for epoch in range(2):
        transformer.train()
        losses = 0
        for src, tgt in train_dataloader:
            src = src.to(DEVICE)
            tgt = tgt.to(DEVICE)
            tgt_input = tgt[:-1, :]
            src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
            logits = transformer(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                                 src_padding_mask)
            optimizer.zero_grad()
            tgt_out = tgt[1:, :]
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
            loss.backward()
            if not record["grad"]:
                record["grad"].append(grads_of(transformer))
            optimizer.step()
            losses += loss.item()
        record["loss"].append(losses / len(list(train_dataloader)))

    def greedy_decode(model, src, src_mask, max_len, start_symbol):
        src = src.to(DEVICE)
        src_mask = src_mask.to(DEVICE)
        memory = model.encode(src, src_mask)
        ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long).to(DEVICE)
        for i in range(max_len - 1):
            memory = memory.to(DEVICE)
            tgt_mask = (generate_square_subsequent_mask(ys.size(0)).type(torch.bool)).to(DEVICE)
            out = model.decode(ys, memory, tgt_mask)
            out = out.transpose(0, 1)
            prob = model.generator(out[:, -1])
            _, next_word = torch.max(prob, dim=1)
            next_word = next_word.item()
            ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
            if next_word == EOS_IDX:
                break
        return ys, memory

    transformer.eval()
    for src_sentence in Pairs().src[:3]:
        src = torch.cat([torch.tensor([BOS_IDX]), src_sentence, torch.tensor([EOS_IDX])]).view(-1, 1)
        num_tokens = src.shape[0]
        src_mask = (torch.zeros(num_tokens, num_tokens)).type(torch.bool)
        tgt_tokens, memory = greedy_decode(transformer, src, src_mask, max_len=num_tokens + 5,
                                           start_symbol=BOS_IDX)
        record["decoded"].append(tgt_tokens.flatten())
        record["memory"] = memory
    return record


def test_transformer_translation_tutorial_follows_torch():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*enable_nested_tensor.*")
        warnings.filterwarnings("ignore", message=".*mismatched key_padding_mask and attn_mask.*")
        ours, _ = run_both(transformer_translation, rtol=2e-3, atol=2e-5)
    assert ours["loss"][-1] < ours["loss"][0]


# --- A text classifier: padded batches, Embedding(padding_idx), a bidirectional LSTM over a packed
#     sequence (enforce_sorted=False), the last hidden states of both directions, then
#     nn.MultiheadAttention pooling with a key_padding_mask and per-head weights ---

def packed_lstm_classifier(torch, nn, F, optim, data, init):
    PAD = 0

    class Classifier(nn.Module):
        def __init__(self, vocab_size, embedding_dim, hidden_dim, output_dim, n_layers, bidirectional, dropout):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
            self.rnn = nn.LSTM(embedding_dim, hidden_dim, num_layers=n_layers, bidirectional=bidirectional,
                               dropout=dropout, batch_first=True)
            self.attn = nn.MultiheadAttention(hidden_dim * 2, num_heads=2, batch_first=True)
            self.query = nn.Parameter(torch.randn(1, 1, hidden_dim * 2) * 0.1)
            self.fc = nn.Linear(hidden_dim * 4, output_dim)
            self.dropout = nn.Dropout(dropout)

        def forward(self, text, text_lengths):
            embedded = self.dropout(self.embedding(text))
            packed_embedded = nn.utils.rnn.pack_padded_sequence(embedded, text_lengths.to('cpu'),
                                                                batch_first=True, enforce_sorted=False)
            packed_output, (hidden, cell) = self.rnn(packed_embedded)
            output, output_lengths = nn.utils.rnn.pad_packed_sequence(packed_output, batch_first=True,
                                                                      total_length=text.size(1))
            hidden = self.dropout(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1))
            key_padding_mask = torch.arange(text.size(1))[None, :] >= text_lengths[:, None]
            pooled, weights = self.attn(self.query.expand(text.size(0), -1, -1), output, output,
                                        key_padding_mask=key_padding_mask, need_weights=True,
                                        average_attn_weights=False)
            return self.fc(torch.cat((hidden, pooled.squeeze(1)), dim=1)), weights, output_lengths

    class Reviews(data.Dataset):
        def __init__(self):
            rng = np.random.default_rng(13)
            self.items = []
            for i in range(16):
                label = i % 2
                n = int(rng.integers(2, 9))
                words = rng.integers(1, 10, n) + (10 * label)  # each class has its own words
                self.items.append((torch.tensor(words), label))

        def __len__(self):
            return len(self.items)

        def __getitem__(self, idx):
            return self.items[idx]

    def collate_batch(batch):
        label_list, text_list, lengths = [], [], []
        for _text, _label in batch:
            label_list.append(_label)
            text_list.append(_text)
            lengths.append(len(_text))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        text_list = nn.utils.rnn.pad_sequence(text_list, batch_first=True, padding_value=PAD)
        return text_list, torch.tensor(lengths), label_list

    model = Classifier(20, 8, 6, 2, 2, True, 0.0)
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "acc": [], "grad": [], "weights": None, "lengths": None}
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    loader = data.DataLoader(Reviews(), batch_size=4, shuffle=False, collate_fn=collate_batch)

    def binary_accuracy(preds, y):
        correct = (preds.argmax(1) == y).float()
        return correct.sum() / len(correct)

    for epoch in range(3):
        model.train()
        for text, text_lengths, label in loader:
            optimizer.zero_grad()
            predictions, _, _ = model(text, text_lengths)
            loss = criterion(predictions, label)
            acc = binary_accuracy(predictions, label)
            loss.backward()
            if not record["grad"]:
                record["grad"].append(grads_of(model))
            optimizer.step()
            record["loss"].append(loss.item())
            record["acc"].append(acc.item())
    model.eval()
    with torch.no_grad():
        text, text_lengths, _ = next(iter(loader))
        _, record["weights"], record["lengths"] = model(text, text_lengths)
    return record


def test_packed_bidirectional_lstm_classifier_with_attention_pooling_follows_torch():
    ours, _ = run_both(packed_lstm_classifier, rtol=2e-3, atol=2e-5)
    assert ours["loss"][-1] < ours["loss"][0]
    np.testing.assert_array_equal(ours["weights"][..., 0, 8:], 0)  # padded keys get no attention


# --- The DQN tutorial: replay memory of namedtuples, epsilon-greedy actions from Python's random,
#     target network, Huber loss on gathered Q-values, clip_grad_value_, soft target updates ---

def dqn(torch, nn, F, optim, data, init):
    Transition = collections.namedtuple('Transition', ('state', 'action', 'next_state', 'reward'))
    device = torch.device("cpu")

    class ReplayMemory(object):
        def __init__(self, capacity):
            self.memory = collections.deque([], maxlen=capacity)

        def push(self, *args):
            self.memory.append(Transition(*args))

        def sample(self, batch_size):
            return rng.sample(self.memory, batch_size)

        def __len__(self):
            return len(self.memory)

    class DQN(nn.Module):
        def __init__(self, n_observations, n_actions):
            super(DQN, self).__init__()
            self.layer1 = nn.Linear(n_observations, 32)
            self.layer2 = nn.Linear(32, 32)
            self.layer3 = nn.Linear(32, n_actions)

        def forward(self, x):
            x = F.relu(self.layer1(x))
            x = F.relu(self.layer2(x))
            return self.layer3(x)

    class Chain:  # a small deterministic environment: walk right along a chain to the reward
        def reset(self):
            self.pos = 0
            return self.observe(), {}

        def observe(self):
            return np.eye(6, dtype=np.float32)[self.pos]

        def step(self, action):
            self.pos = max(0, min(5, self.pos + (1 if action == 1 else -1)))
            terminated = self.pos == 5
            return self.observe(), 1.0 if terminated else -0.1, terminated, False, {}

    BATCH_SIZE, GAMMA, EPS_START, EPS_END, EPS_DECAY, TAU, LR = 8, 0.99, 0.9, 0.05, 100, 0.005, 1e-3
    rng = random.Random(14)
    env = Chain()
    n_actions, n_observations = 2, 6
    policy_net = DQN(n_observations, n_actions).to(device)
    load_init(torch, policy_net, init)
    target_net = DQN(n_observations, n_actions).to(device)
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)
    memory = ReplayMemory(1000)
    record = {"init": state_of(policy_net), "loss": [], "q": [], "target": None, "durations": []}
    steps_done = 0

    def select_action(state):
        nonlocal steps_done
        sample = rng.random()
        eps_threshold = EPS_END + (EPS_START - EPS_END) * math.exp(-1. * steps_done / EPS_DECAY)
        steps_done += 1
        if sample > eps_threshold:
            with torch.no_grad():
                return policy_net(state).max(1).indices.view(1, 1)
        else:
            return torch.tensor([[rng.randrange(n_actions)]], device=device, dtype=torch.long)

    def optimize_model():
        if len(memory) < BATCH_SIZE:
            return
        transitions = memory.sample(BATCH_SIZE)
        batch = Transition(*zip(*transitions))
        non_final_mask = torch.tensor(tuple(map(lambda s: s is not None, batch.next_state)), device=device,
                                      dtype=torch.bool)
        non_final_next_states = torch.cat([s for s in batch.next_state if s is not None])
        state_batch = torch.cat(batch.state)
        action_batch = torch.cat(batch.action)
        reward_batch = torch.cat(batch.reward)
        state_action_values = policy_net(state_batch).gather(1, action_batch)
        next_state_values = torch.zeros(BATCH_SIZE, device=device)
        with torch.no_grad():
            next_state_values[non_final_mask] = target_net(non_final_next_states).max(1).values
        expected_state_action_values = (next_state_values * GAMMA) + reward_batch
        criterion = nn.SmoothL1Loss()
        loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
        optimizer.step()
        record["loss"].append(loss.item())

    for i_episode in range(4):
        state, info = env.reset()
        state = torch.tensor(state, dtype=torch.float32, device=device).unsqueeze(0)
        for t in collections.Counter(range(30)):
            action = select_action(state)
            observation, reward, terminated, truncated, _ = env.step(action.item())
            reward = torch.tensor([reward], device=device)
            done = terminated or truncated
            if terminated:
                next_state = None
            else:
                next_state = torch.tensor(observation, dtype=torch.float32, device=device).unsqueeze(0)
            memory.push(state, action, next_state, reward)
            state = next_state
            optimize_model()
            target_net_state_dict = target_net.state_dict()
            policy_net_state_dict = policy_net.state_dict()
            for key in policy_net_state_dict:
                target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[key] * (1 - TAU)
            target_net.load_state_dict(target_net_state_dict)
            if done:
                record["durations"].append(t + 1)
                break
    with torch.no_grad():
        record["q"] = policy_net(torch.eye(6))
    record["target"] = state_of(target_net)
    return record


def test_dqn_tutorial_follows_torch():
    run_both(dqn, rtol=1e-3, atol=1e-5)


# --- nanoGPT (model.py and train.py): causal self-attention through scaled_dot_product_attention
#     (is_causal) and through a masked tril buffer, tied embeddings, scaled c_proj init, AdamW groups
#     from named_parameters, cosine lr with warmup set by hand, GradScaler/autocast as on a CPU, crop_block_size,
#     generate() with top-k ---

def nanogpt(torch, nn, F, optim, data, init):
    import inspect
    from dataclasses import dataclass
    from contextlib import nullcontext

    class LayerNorm(nn.Module):
        def __init__(self, ndim, bias):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(ndim))
            self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

        def forward(self, input):
            return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)

    class CausalSelfAttention(nn.Module):
        def __init__(self, config):
            super().__init__()
            assert config.n_embd % config.n_head == 0
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
            self.attn_dropout = nn.Dropout(config.dropout)
            self.resid_dropout = nn.Dropout(config.dropout)
            self.n_head = config.n_head
            self.n_embd = config.n_embd
            self.dropout = config.dropout
            self.flash = hasattr(torch.nn.functional, 'scaled_dot_product_attention') and config.flash
            if not self.flash:
                self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                     .view(1, 1, config.block_size, config.block_size))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            if self.flash:
                y = torch.nn.functional.scaled_dot_product_attention(
                    q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
                att = F.softmax(att, dim=-1)
                att = self.attn_dropout(att)
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            y = self.resid_dropout(self.c_proj(y))
            return y

    class MLP(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
            self.dropout = nn.Dropout(config.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
            self.attn = CausalSelfAttention(config)
            self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
            self.mlp = MLP(config)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    @dataclass
    class GPTConfig:
        block_size: int = 16
        vocab_size: int = 24
        n_layer: int = 2
        n_head: int = 2
        n_embd: int = 16
        dropout: float = 0.0
        bias: bool = True
        flash: bool = True

    class GPT(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=LayerNorm(config.n_embd, bias=config.bias),
            ))
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith('c_proj.weight'):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

        def get_num_params(self, non_embedding=True):
            n_params = sum(p.numel() for p in self.parameters())
            if non_embedding:
                n_params -= self.transformer.wpe.weight.numel()
            return n_params

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            device = idx.device
            b, t = idx.size()
            assert t <= self.config.block_size, f"Cannot forward sequence of length {t}"
            pos = torch.arange(0, t, dtype=torch.long, device=device)
            tok_emb = self.transformer.wte(idx)
            pos_emb = self.transformer.wpe(pos)
            x = self.transformer.drop(tok_emb + pos_emb)
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            if targets is not None:
                logits = self.lm_head(x)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            else:
                logits = self.lm_head(x[:, [-1], :])
                loss = None
            return logits, loss

        def crop_block_size(self, block_size):
            assert block_size <= self.config.block_size
            self.config.block_size = block_size
            self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:block_size])
            for block in self.transformer.h:
                if hasattr(block.attn, 'bias'):
                    block.attn.bias = block.attn.bias[:, :, :block_size, :block_size]

        def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
            param_dict = {pn: p for pn, p in self.named_parameters()}
            param_dict = {pn: p for pn, p in param_dict.items() if p.requires_grad}
            decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
            nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
            optim_groups = [
                {'params': decay_params, 'weight_decay': weight_decay},
                {'params': nodecay_params, 'weight_decay': 0.0}
            ]
            fused_available = 'fused' in inspect.signature(torch.optim.AdamW).parameters
            use_fused = fused_available and device_type == 'cuda'
            extra_args = dict(fused=True) if use_fused else dict()
            optimizer = torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)
            return optimizer

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float('Inf')
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1) if top_k != 1 else probs.argmax(-1, keepdim=True)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    # train.py
    batch_size, block_size, max_iters, eval_iters = 4, 16, 6, 2
    learning_rate, warmup_iters, lr_decay_iters, min_lr = 6e-3, 2, 6, 6e-4
    weight_decay, beta1, beta2, grad_clip, dtype = 1e-1, 0.9, 0.95, 1.0, 'float32'
    device_type = 'cpu'
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
    ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    text = np.array([(i * 7 + i // 5) % 24 for i in range(400)], dtype=np.uint16)
    train_data, val_data = text[:300], text[300:]
    rng = np.random.default_rng(15)

    def get_batch(split):
        data_ = train_data if split == 'train' else val_data
        ix = rng.integers(0, len(data_) - block_size, (batch_size,))  # torch.randint in train.py
        x = torch.stack([torch.from_numpy((data_[i:i + block_size]).astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy((data_[i + 1:i + 1 + block_size]).astype(np.int64)) for i in ix])
        return x, y

    model = GPT(GPTConfig(flash=True))
    load_init(torch, model, init)
    twin = GPT(GPTConfig(flash=False))  # the same weights through the explicit masked attention
    twin.load_state_dict(model.state_dict(), strict=False)  # it has the causal-mask buffers besides
    record = {"init": state_of(model), "loss": [], "lr": [], "val": [], "twin": [], "generated": None,
              "n_params": model.get_num_params(), "cropped": None}
    scaler = torch.cuda.amp.GradScaler(enabled=(dtype == 'float16'))
    optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device_type)

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ['train', 'val']:
            losses = torch.zeros(eval_iters)
            for k in range(eval_iters):
                X, Y = get_batch(split)
                with ctx:
                    logits, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        model.train()
        return out

    def get_lr(it):
        if it < warmup_iters:
            return learning_rate * (it + 1) / (warmup_iters + 1)
        if it > lr_decay_iters:
            return min_lr
        decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
        assert 0 <= decay_ratio <= 1
        coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
        return min_lr + coeff * (learning_rate - min_lr)

    X, Y = get_batch('train')
    with torch.no_grad():
        record["twin"].append((model(X, Y)[1], twin(X, Y)[1]))
    for iter_num in range(max_iters):
        lr = get_lr(iter_num)
        for param_group in optimizer.param_groups:
            param_group['lr'] = lr
        if iter_num % 3 == 0:
            record["val"].append(estimate_loss()['val'])
        with ctx:
            logits, loss = model(X, Y)
        X, Y = get_batch('train')
        scaler.scale(loss).backward()
        if grad_clip != 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        record["loss"].append(loss.item())
        record["lr"].append(lr)
    model.eval()
    record["generated"] = model.generate(torch.zeros((1, 1), dtype=torch.long), max_new_tokens=20, top_k=1)
    model.crop_block_size(8)
    record["cropped"] = model(X[:, :8].contiguous(), Y[:, :8].contiguous())[1]
    return record


@pytest.mark.filterwarnings("ignore:.*GradScaler.*:FutureWarning")
def test_nanogpt_follows_torch():
    ours, _ = run_both(nanogpt, rtol=2e-3, atol=2e-5)
    flash, explicit = ours["twin"][0]
    np.testing.assert_allclose(flash, explicit, rtol=1e-5)
    assert ours["loss"][-1] < ours["loss"][0]


# --- pytorch/examples fast_neural_style: reflection-padded convolutions, InstanceNorm2d(affine),
#     nearest upsampling by interpolate, a frozen feature network sliced into a namedtuple of
#     activations, Gram matrices through bmm, batch.new_tensor / div_ normalisation ---

def fast_neural_style(torch, nn, F, optim, data, init, tmp_path):
    import re

    class ConvLayer(torch.nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride):
            super(ConvLayer, self).__init__()
            reflection_padding = kernel_size // 2
            self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
            self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            return self.conv2d(self.reflection_pad(x))

    class ResidualBlock(torch.nn.Module):
        def __init__(self, channels):
            super(ResidualBlock, self).__init__()
            self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
            self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
            self.relu = torch.nn.ReLU()

        def forward(self, x):
            residual = x
            out = self.relu(self.in1(self.conv1(x)))
            out = self.in2(self.conv2(out))
            out = out + residual
            return out

    class UpsampleConvLayer(torch.nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
            super(UpsampleConvLayer, self).__init__()
            self.upsample = upsample
            reflection_padding = kernel_size // 2
            self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
            self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            x_in = x
            if self.upsample:
                x_in = torch.nn.functional.interpolate(x_in, mode='nearest', scale_factor=self.upsample)
            out = self.reflection_pad(x_in)
            out = self.conv2d(out)
            return out

    class TransformerNet(torch.nn.Module):
        def __init__(self):
            super(TransformerNet, self).__init__()
            self.conv1 = ConvLayer(3, 4, kernel_size=5, stride=1)
            self.in1 = torch.nn.InstanceNorm2d(4, affine=True)
            self.conv2 = ConvLayer(4, 8, kernel_size=3, stride=2)
            self.in2 = torch.nn.InstanceNorm2d(8, affine=True)
            self.res1 = ResidualBlock(8)
            self.deconv1 = UpsampleConvLayer(8, 4, kernel_size=3, stride=1, upsample=2)
            self.in4 = torch.nn.InstanceNorm2d(4, affine=True)
            self.deconv3 = ConvLayer(4, 3, kernel_size=5, stride=1)
            self.relu = torch.nn.ReLU()

        def forward(self, X):
            y = self.relu(self.in1(self.conv1(X)))
            y = self.relu(self.in2(self.conv2(y)))
            y = self.res1(y)
            y = self.relu(self.in4(self.deconv1(y)))
            y = self.deconv3(y)
            return y

    class Vgg16(torch.nn.Module):
        def __init__(self, requires_grad=False):
            super(Vgg16, self).__init__()
            vgg_pretrained_features = nn.Sequential(
                nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(4, 4, 3, padding=1),
                nn.ReLU(inplace=True), nn.MaxPool2d(2, 2), nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(inplace=True))
            self.slice1 = torch.nn.Sequential()
            self.slice2 = torch.nn.Sequential()
            for x in range(4):
                self.slice1.add_module(str(x), vgg_pretrained_features[x])
            for x in range(4, 7):
                self.slice2.add_module(str(x), vgg_pretrained_features[x])
            if not requires_grad:
                for param in self.parameters():
                    param.requires_grad = False

        def forward(self, X):
            h = self.slice1(X)
            h_relu1_2 = h
            h = self.slice2(h)
            h_relu2_2 = h
            vgg_outputs = collections.namedtuple("VggOutputs", ['relu1_2', 'relu2_2'])
            return vgg_outputs(h_relu1_2, h_relu2_2)

    def gram_matrix(y):
        (b, ch, h, w) = y.size()
        features = y.view(b, ch, w * h)
        features_t = features.transpose(1, 2)
        gram = features.bmm(features_t) / (ch * h * w)
        return gram

    def normalize_batch(batch):
        mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
        std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
        batch = batch.div_(255.0)
        return (batch - mean) / std

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer, self.vgg = TransformerNet(), Vgg16(requires_grad=False)

    both = Both()
    load_init(torch, both, init)
    transformer, vgg = both.transformer, both.vgg
    record = {"init": state_of(both), "content": [], "style": [], "total": [], "stylized": None,
              "trainable": None}
    rng = np.random.default_rng(16)
    images = rng.uniform(0, 255, (8, 3, 8, 8)).astype(np.float32)
    train_loader = data.DataLoader(data.TensorDataset(torch.from_numpy(images)), batch_size=4)
    optimizer = optim.Adam(transformer.parameters(), 1e-2)
    mse_loss = torch.nn.MSELoss()
    content_weight, style_weight, batch_size = 1e5, 1e10, 4
    style = torch.from_numpy(rng.uniform(0, 255, (1, 3, 8, 8)).astype(np.float32))
    style = style.repeat(batch_size, 1, 1, 1)
    features_style = vgg(normalize_batch(style))
    gram_style = [gram_matrix(y) for y in features_style]
    record["trainable"] = [sum(p.numel() for p in m.parameters() if p.requires_grad) for m in (transformer, vgg)]
    for e in range(2):
        transformer.train()
        for batch_id, (x,) in enumerate(train_loader):
            n_batch = len(x)
            optimizer.zero_grad()
            y = transformer(x)
            y = normalize_batch(y)
            x = normalize_batch(x.clone())
            features_y = vgg(y)
            features_x = vgg(x)
            content_loss = content_weight * mse_loss(features_y.relu2_2, features_x.relu2_2)
            style_loss = 0.
            for ft_y, gm_s in zip(features_y, gram_style):
                gm_y = gram_matrix(ft_y)
                style_loss += mse_loss(gm_y, gm_s[:n_batch, :, :])
            style_loss *= style_weight
            total_loss = content_loss + style_loss
            total_loss.backward()
            optimizer.step()
            record["content"].append(content_loss.item())
            record["style"].append(style_loss.item())
            record["total"].append(total_loss.item())
    # save_model_path, then stylize(): old checkpoints carry InstanceNorm running stats, deleted on load
    transformer.eval().cpu()
    save_model_path = str(tmp_path / f"epoch_{e}.model")
    state = transformer.state_dict()
    state["in1.running_mean"] = torch.zeros(4)
    torch.save(state, save_model_path)
    with torch.no_grad():
        style_model = TransformerNet()
        state_dict = torch.load(save_model_path)
        for k in list(state_dict.keys()):
            if re.search(r'in\d+\.running_(mean|var)$', k):
                del state_dict[k]
        style_model.load_state_dict(state_dict)
        style_model.eval()
        output = style_model(torch.from_numpy(images[:1])).cpu()
        img = output[0].clone().clamp(0, 255).numpy()
        image = img.transpose(1, 2, 0).astype("uint8")  # what the example saves with PIL
        assert image.shape == (8, 8, 3)
        record["stylized"] = img  # compared before truncation: a last-bit difference may cross an integer
    return record


def test_fast_neural_style_example_follows_torch(tmp_path):
    run_both(fast_neural_style, tmp_path=tmp_path, rtol=2e-3, atol=1e-3)


# --- torchvision-style ViT (models/vision_transformer.py): torch._assert, nn.MultiheadAttention
#     (batch_first, need_weights=False), OrderedDict layers, lecun-normal patch projection ---

def torchvision_vit(torch, nn, F, optim, data, init):
    from collections import OrderedDict
    from functools import partial

    class MLPBlock(nn.Sequential):
        def __init__(self, in_dim, mlp_dim, dropout):
            super().__init__(nn.Linear(in_dim, mlp_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_dim, in_dim),
                             nn.Dropout(dropout))
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.normal_(m.bias, std=1e-6)

    class EncoderBlock(nn.Module):
        def __init__(self, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout, norm_layer):
            super().__init__()
            self.num_heads = num_heads
            self.ln_1 = norm_layer(hidden_dim)
            self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=attention_dropout,
                                                        batch_first=True)
            self.dropout = nn.Dropout(dropout)
            self.ln_2 = norm_layer(hidden_dim)
            self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

        def forward(self, input):
            torch._assert(input.dim() == 3, f"Expected (batch_size, seq_length, hidden_dim) got {input.shape}")
            x = self.ln_1(input)
            x, _ = self.self_attention(x, x, x, need_weights=False)
            x = self.dropout(x)
            x = x + input
            y = self.ln_2(x)
            y = self.mlp(y)
            return x + y

    class Encoder(nn.Module):
        def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                     norm_layer):
            super().__init__()
            self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.02))
            self.dropout = nn.Dropout(dropout)
            layers = OrderedDict()
            for i in range(num_layers):
                layers[f"encoder_layer_{i}"] = EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                            attention_dropout, norm_layer)
            self.layers = nn.Sequential(layers)
            self.ln = norm_layer(hidden_dim)

        def forward(self, input):
            torch._assert(input.dim() == 3, f"Expected (batch_size, seq_length, hidden_dim) got {input.shape}")
            input = input + self.pos_embedding
            return self.ln(self.layers(self.dropout(input)))

    class VisionTransformer(nn.Module):
        def __init__(self, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, dropout=0.0,
                     attention_dropout=0.0, num_classes=4, norm_layer=partial(nn.LayerNorm, eps=1e-6)):
            super().__init__()
            torch._assert(image_size % patch_size == 0, "Input shape indivisible by patch size!")
            self.image_size, self.patch_size, self.hidden_dim = image_size, patch_size, hidden_dim
            self.conv_proj = nn.Conv2d(in_channels=3, out_channels=hidden_dim, kernel_size=patch_size,
                                       stride=patch_size)
            seq_length = (image_size // patch_size) ** 2
            self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
            seq_length += 1
            self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                                   attention_dropout, norm_layer)
            self.seq_length = seq_length
            heads_layers = OrderedDict()
            heads_layers["head"] = nn.Linear(hidden_dim, num_classes)
            self.heads = nn.Sequential(heads_layers)
            fan_in = self.conv_proj.in_channels * self.conv_proj.kernel_size[0] * self.conv_proj.kernel_size[1]
            nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
            if self.conv_proj.bias is not None:
                nn.init.zeros_(self.conv_proj.bias)
            if isinstance(self.heads.head, nn.Linear):
                nn.init.zeros_(self.heads.head.weight)
                nn.init.zeros_(self.heads.head.bias)

        def _process_input(self, x):
            n, c, h, w = x.shape
            p = self.patch_size
            torch._assert(h == self.image_size, f"Wrong image height! Expected {self.image_size} but got {h}!")
            torch._assert(w == self.image_size, f"Wrong image width! Expected {self.image_size} but got {w}!")
            n_h = h // p
            n_w = w // p
            x = self.conv_proj(x)
            x = x.reshape(n, self.hidden_dim, n_h * n_w)
            x = x.permute(0, 2, 1)
            return x

        def forward(self, x):
            x = self._process_input(x)
            n = x.shape[0]
            batch_class_token = self.class_token.expand(n, -1, -1)
            x = torch.cat([batch_class_token, x], dim=1)
            x = self.encoder(x)
            x = x[:, 0]
            return self.heads(x)

    model = VisionTransformer(image_size=8, patch_size=4, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16)
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "lr": [], "ema": None, "acc": None}
    rng = np.random.default_rng(17)
    x = torch.from_numpy(rng.standard_normal((4, 6, 3, 8, 8)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 4, (4, 6)))
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    warmup = optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=2)
    main = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6, eta_min=1e-4)
    scheduler = optim.lr_scheduler.SequentialLR(optimizer, schedulers=[warmup, main], milestones=[2])
    ema = optim.swa_utils.AveragedModel(model, multi_avg_fn=optim.swa_utils.get_ema_multi_avg_fn(0.9))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    for epoch in range(2):
        model.train()
        for i in range(4):
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(x[i]), y[i])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            ema.update_parameters(model)
            record["loss"].append(loss.item())
        scheduler.step()
        record["lr"].append(scheduler.get_last_lr())
    ema.eval()
    with torch.inference_mode():
        out = ema(x[0])
        record["ema"] = out
        record["acc"] = (out.argmax(dim=1) == y[0]).float().mean().item()
    return record


def test_torchvision_style_vit_with_ema_and_sequential_lr_follows_torch():
    run_both(torchvision_vit, rtol=2e-3, atol=2e-5)


# --- pytorch/examples time_sequence_prediction: two LSTMCells unrolled by hand in float64, LBFGS
#     with a closure, predictions fed back as inputs for the future steps ---

def time_sequence_prediction(torch, nn, F, optim, data, init):
    class Sequence(nn.Module):
        def __init__(self):
            super(Sequence, self).__init__()
            self.lstm1 = nn.LSTMCell(1, 12)
            self.lstm2 = nn.LSTMCell(12, 12)
            self.linear = nn.Linear(12, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t = torch.zeros(input.size(0), 12, dtype=torch.double)
            c_t = torch.zeros(input.size(0), 12, dtype=torch.double)
            h_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
            c_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for i in range(future):  # if we should predict the future
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            outputs = torch.stack(outputs, 1).squeeze(2)
            return outputs

    # generate_sine_wave.py
    T, L, N = 20, 30, 8
    x = np.empty((N, L), 'int64')
    x[:] = np.array(range(L)) + np.random.default_rng(18).integers(-4 * T, 4 * T, N).reshape(N, 1)
    data_ = np.sin(x / 1.0 / T).astype('float64')
    input = torch.from_numpy(data_[2:, :-1])
    target = torch.from_numpy(data_[2:, 1:])
    test_input = torch.from_numpy(data_[:2, :-1])
    test_target = torch.from_numpy(data_[:2, 1:])
    seq = Sequence()
    seq.double()
    load_init(torch, seq, init)
    record = {"init": state_of(seq), "loss": [], "test_loss": [], "future": None}
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=5)
    for i in range(2):
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            record["loss"].append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        with torch.no_grad():
            future = 10
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            record["test_loss"].append(loss.item())
            y = pred.detach().numpy()
    record["future"] = y
    return record


def test_time_sequence_prediction_example_follows_torch():
    ours, _ = run_both(time_sequence_prediction, rtol=1e-7, atol=1e-9)
    assert ours["test_loss"][-1] < ours["test_loss"][0]


# --- Hand-written layers in the older idiom (pygcn, the "extending PyTorch" note): parameters from
#     torch.Tensor(out, in) / torch.FloatTensor(n) filled by reset_parameters, a custom
#     autograd.Function, a non-persistent buffer, named_modules / apply for init and freezing ---

def custom_layers(torch, nn, F, optim, data, init):
    Parameter = nn.parameter.Parameter  # from torch.nn.parameter import Parameter

    class LinearFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class MyLinear(nn.Module):
        def __init__(self, input_features, output_features, bias=True):
            super().__init__()
            self.input_features = input_features
            self.output_features = output_features
            self.weight = nn.Parameter(torch.Tensor(output_features, input_features))
            if bias:
                self.bias = nn.Parameter(torch.Tensor(output_features))
            else:
                self.register_parameter('bias', None)
            self.weight.data.uniform_(-0.1, 0.1)
            if self.bias is not None:
                self.bias.data.uniform_(-0.1, 0.1)

        def forward(self, input):
            return LinearFunction.apply(input, self.weight, self.bias)

        def extra_repr(self):
            return 'input_features={}, output_features={}, bias={}'.format(
                self.input_features, self.output_features, self.bias is not None)

    class GraphConvolution(nn.Module):
        def __init__(self, in_features, out_features, bias=True):
            super(GraphConvolution, self).__init__()
            self.in_features = in_features
            self.out_features = out_features
            self.weight = Parameter(torch.FloatTensor(in_features, out_features))
            if bias:
                self.bias = Parameter(torch.FloatTensor(out_features))
            else:
                self.register_parameter('bias', None)
            self.reset_parameters()

        def reset_parameters(self):
            stdv = 1. / math.sqrt(self.weight.size(1))
            self.weight.data.uniform_(-stdv, stdv)
            if self.bias is not None:
                self.bias.data.uniform_(-stdv, stdv)

        def forward(self, input, adj):
            support = torch.mm(input, self.weight)
            output = torch.mm(adj, support)
            if self.bias is not None:
                return output + self.bias
            else:
                return output

        def __repr__(self):
            return self.__class__.__name__ + ' (' + str(self.in_features) + ' -> ' + str(self.out_features) + ')'

    class GCN(nn.Module):
        def __init__(self, nfeat, nhid, nclass, dropout):
            super(GCN, self).__init__()
            self.gc1 = GraphConvolution(nfeat, nhid)
            self.gc2 = GraphConvolution(nhid, nclass)
            self.head = MyLinear(nclass, nclass)
            self.dropout = dropout
            self.register_buffer("steps", torch.zeros((), dtype=torch.long), persistent=False)

        def forward(self, x, adj):
            self.steps += 1
            x = F.relu(self.gc1(x, adj))
            x = F.dropout(x, self.dropout, training=self.training)
            x = self.gc2(x, adj)
            return F.log_softmax(self.head(x), dim=1)

    def accuracy(output, labels):
        preds = output.max(1)[1].type_as(labels)
        correct = preds.eq(labels).double()
        correct = correct.sum()
        return correct / len(labels)

    rng = np.random.default_rng(19)
    n = 12
    labels_np = np.arange(n) % 3
    features = torch.FloatTensor(rng.standard_normal((n, 6)) + np.eye(3)[labels_np].repeat(2, axis=1))
    adj_np = (rng.uniform(size=(n, n)) < 0.3) | (labels_np[:, None] == labels_np[None, :])
    adj_np = adj_np + np.eye(n)
    adj_np = adj_np / adj_np.sum(1, keepdims=True)  # row-normalise
    adj = torch.FloatTensor(adj_np.astype(np.float32))
    labels = torch.LongTensor(labels_np)
    idx_train, idx_val = torch.LongTensor(range(8)), torch.LongTensor(range(8, 12))
    model = GCN(nfeat=features.shape[1], nhid=8, nclass=3, dropout=0.0)
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "acc_val": [], "grad": [], "names": None, "steps": None}
    record["names"] = [name for name, _ in model.named_modules()]
    optimizer = optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for epoch in range(6):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = F.nll_loss(output[idx_train], labels[idx_train])
        loss_train.backward()
        if epoch == 0:
            record["grad"].append(grads_of(model))
        optimizer.step()
        model.eval()
        output = model(features, adj)
        record["loss"].append(loss_train.item())
        record["acc_val"].append(accuracy(output[idx_val], labels[idx_val]).item())
    model.apply(lambda m: [p.requires_grad_(False) for p in m.parameters(recurse=False)]
                if isinstance(m, GraphConvolution) else None)
    record["steps"] = [int(model.steps), [p.requires_grad for p in model.parameters()]]
    return record


def test_hand_written_layers_in_the_older_idiom_follow_torch():
    ours, _ = run_both(custom_layers, rtol=1e-4, atol=1e-6)
    assert "steps" not in ours["init"]


# --- The official "Quickstart" tutorial: the torch.accelerator device line, nn.Flatten and a
#     linear_relu_stack, train/test loops, saving and reloading the state dict with weights_only ---

def quickstart(torch, nn, F, optim, data, init, path):
    DataLoader, TensorDataset = data.DataLoader, data.TensorDataset  # from torch.utils.data import ...
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(8 * 8, 32),
                nn.ReLU(),
                nn.Linear(32, 32),
                nn.ReLU(),
                nn.Linear(32, 10)
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    rng = np.random.default_rng(20)
    labels = rng.integers(0, 10, 96)
    images = (rng.uniform(0, 1, (96, 1, 8, 8)) * 0.5 + (labels[:, None, None, None] / 10.0)).astype(np.float32)
    training_data = TensorDataset(torch.tensor(images[:64]), torch.tensor(labels[:64]))
    test_data = TensorDataset(torch.tensor(images[64:]), torch.tensor(labels[64:]))
    train_dataloader = DataLoader(training_data, batch_size=16)
    test_dataloader = DataLoader(test_data, batch_size=16)
    model = NeuralNetwork().to(device)
    load_init(torch, model, init)
    record = {"init": state_of(model), "loss": [], "test": [], "reloaded": None}
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)

    def train(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 2 == 0:
                loss, current = loss.item(), (batch + 1) * len(X)
                record["loss"].append(loss)
                _ = f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]"

    def test(dataloader, model, loss_fn):
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                X, y = X.to(device), y.to(device)
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= num_batches
        correct /= size
        record["test"].append((test_loss, correct))
        return f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n"

    epochs = 3
    for t in range(epochs):
        train(train_dataloader, model, loss_fn, optimizer)
        test(test_dataloader, model, loss_fn)
    torch.save(model.state_dict(), path)
    model = NeuralNetwork().to(device)
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        x = x.to(device)
        pred = model(x)
        record["reloaded"] = [pred, pred[0].argmax(0)]
    return record


def test_the_quickstart_tutorial_follows_torch(tmp_path):
    run_both(quickstart, path=tmp_path / "model.pth", rtol=1e-4, atol=1e-6)
