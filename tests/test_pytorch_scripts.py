"""PyTorch training scripts, as written for PyTorch, run after the import swap torch -> autograd,
torch.nn -> nn, torch.optim -> nn.optim, torch.utils.numpy() -> nn.data: they train, checkpoint and
resume, and step for step they follow PyTorch."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn_helpers import assert_close, copy_torch_state


class ConvNet(nn.Module):
    def __init__(self, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2, 2)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(4 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = x.view(x.size(0), -1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def _toy_images(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 1, 8, 8)).astype(np.float32) * 0.5
    x[y == 0, :, :4, :] += 1.5
    x[y == 1, :, 4:, :] += 1.5
    x[y == 2, :, :, :4] -= 1.5
    return x, y


def test_pytorch_style_training_loop_runs_and_learns(tmp_path):
    ag.manual_seed(0)
    device = ag.device("cuda" if ag.cuda.is_available() else "cpu")
    x_np, y_np = _toy_images()
    train_set = nn.data.TensorDataset(ag.tensor(x_np[:64]), ag.tensor(y_np[:64]))
    test_set = nn.data.TensorDataset(ag.tensor(x_np[64:]), ag.tensor(y_np[64:]))
    train_loader = nn.data.DataLoader(train_set, batch_size=16, shuffle=True)
    test_loader = nn.data.DataLoader(test_set, batch_size=16, shuffle=False)
    model = ConvNet().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)

    def evaluate():
        model.eval()
        correct, total, test_loss = 0, 0, 0.0
        with ag.no_grad():
            for data, target in test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)
                test_loss += criterion(output, target).item() * data.size(0)
                _, pred = output.max(1)
                total += target.size(0)
                correct += (pred == target).sum().item()
        return correct / total, test_loss / total

    epoch_losses = []
    for epoch in range(6):
        model.train()
        running = 0.0
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = criterion(output, target)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            running += loss.item()
            assert isinstance(loss.item(), float)
        scheduler.step()
        epoch_losses.append(running / len(train_loader))
    accuracy, test_loss = evaluate()
    assert isinstance(accuracy, float) and 0 <= accuracy <= 1
    assert epoch_losses[-1] < epoch_losses[0]
    assert accuracy > 0.6
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05 * 0.25)

    path = tmp_path / "checkpoint.safetensors"
    nn.save(model.state_dict(), path)
    nn.save(optimizer.state_dict(), tmp_path / "optim.safetensors")
    restored = ConvNet()
    restored.load_state_dict(nn.load(path))
    restored.eval()
    model.eval()
    data, _ = next(iter(test_loader))
    with ag.no_grad():
        np.testing.assert_array_equal(restored(data).numpy(), model(data).numpy())
    opt2 = nn.optim.SGD(restored.parameters(), lr=1.0, momentum=0.9, weight_decay=5e-4)
    opt2.load_state_dict(nn.load(tmp_path / "optim.safetensors"))
    assert opt2.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]


def test_training_steps_match_torch_exactly(torch):
    """Same init, same batches (no dropout): losses, parameters and running stats follow torch."""
    x_np, y_np = _toy_images(32, seed=1)
    ours = ConvNet(dropout=0.0)

    class TorchConvNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 4, kernel_size=3, padding=1)
            self.bn1 = torch.nn.BatchNorm2d(4)
            self.pool = torch.nn.MaxPool2d(2, 2)
            self.dropout = torch.nn.Dropout(0.0)
            self.fc1 = torch.nn.Linear(4 * 4 * 4, 16)
            self.fc2 = torch.nn.Linear(16, 3)

        def forward(self, x):
            x = self.pool(torch.nn.functional.relu(self.bn1(self.conv1(x))))
            x = x.view(x.size(0), -1)
            x = self.dropout(torch.nn.functional.relu(self.fc1(x)))
            return self.fc2(x)

    theirs = TorchConvNet()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_torch_state(ours, theirs)
    opt = nn.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    crit, crit_t = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    ours.train()
    theirs.train()
    for i in range(0, 32, 8):
        xb, yb = x_np[i:i + 8], y_np[i:i + 8]
        opt.zero_grad()
        opt_t.zero_grad()
        loss = crit(ours(ag.tensor(xb)), ag.tensor(yb))
        loss_t = crit_t(theirs(torch.tensor(xb)), torch.tensor(yb))
        loss.backward()
        loss_t.backward()
        opt.step()
        opt_t.step()
        assert loss.item() == pytest.approx(loss_t.item(), rel=1e-4)
    for (k, v), (kt, vt) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == kt
        assert_close(v, vt, rtol=1e-3, atol=1e-4)
    ours.eval()
    theirs.eval()
    assert_close(ours(ag.tensor(x_np[:4])), theirs(torch.tensor(x_np[:4])), rtol=1e-3, atol=1e-4)


def test_the_official_pytorch_mnist_example_after_the_import_swap(tmp_path):
    """pytorch/examples mnist/main.py, on random data and a few steps."""
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.conv2 = nn.Conv2d(4, 8, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(8 * 5 * 5, 16)
            self.fc2 = nn.Linear(16, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = ag.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    def train(model, device, train_loader, optimizer, epoch):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            if batch_idx % 2 == 0:
                _ = "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch, batch_idx * len(data), len(train_loader.dataset),
                    100. * batch_idx / len(train_loader), loss.item())

    def test(model, device, test_loader):
        model.eval()
        test_loss = 0
        correct = 0
        with ag.no_grad():
            for data, target in test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction="sum").item()
                pred = output.argmax(dim=1, keepdim=True)
                correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        return test_loss, correct

    ag.manual_seed(1)
    use_cuda = ag.cuda.is_available()
    device = ag.device("cuda" if use_cuda else "cpu")
    rng = np.random.default_rng(0)
    images = ag.tensor(rng.random((24, 1, 14, 14), dtype=np.float32))
    labels = ag.tensor(rng.integers(0, 10, 24))
    dataset = nn.data.TensorDataset(images, labels)
    train_loader = nn.data.DataLoader(dataset, batch_size=8, shuffle=True)
    test_loader = nn.data.DataLoader(dataset, batch_size=12)
    model = Net().to(device)
    optimizer = nn.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(1, 3):
        train(model, device, train_loader, optimizer, epoch)
        test_loss, correct = test(model, device, test_loader)
        scheduler.step()
    assert isinstance(correct, int) and 0 <= correct <= 24 and math.isfinite(test_loss)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.49)
    nn.save(model.state_dict(), tmp_path / "mnist_cnn.pt")
    fresh = Net()
    fresh.load_state_dict(nn.load(tmp_path / "mnist_cnn.pt"))
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(fresh.parameters(), model.parameters()))
