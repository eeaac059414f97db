"""Trains a small torch model on batches that conveyor reads from an existing PyTorch-style
Dataset, two ways: the Dataset wrapped with conveyor.dataset.GeneratorDataset (MindSpore's API),
and the same Dataset through conveyor.torch.DataLoader (torch's API). Prints the mean loss of
each epoch and exits with status 1 unless the loss falls both ways.

    python samples/python/torch_training.py [--samples 4096] [--epochs 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
from typing import Iterable, List, Tuple

import torch
from torch.utils.data import Dataset

import conveyor.dataset as ds
from conveyor.torch import DataLoader


class Blobs(Dataset):
    """The Dataset a torch user already has: two Gaussian clouds in 16 dimensions; item i is
    (features as a float32 tensor, its cloud as an int64 tensor)."""

    def __init__(self, size: int, dim: int = 16, seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, 2, (size,), generator=generator)
        centres = torch.randn(2, dim, generator=generator)
        self.features = centres[self.labels] + torch.randn(size, dim, generator=generator)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.features[index], self.labels[index]


def train(batches: Iterable[Tuple[torch.Tensor, torch.Tensor]], epochs: int, label: str) -> List[float]:
    """Trains a fresh two-layer MLP for ``epochs`` epochs (one ``for`` over ``batches`` each);
    returns the mean loss of each epoch."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for epoch in range(epochs):
        total, count = 0.0, 0
        for features, labels in batches:
            loss = torch.nn.functional.cross_entropy(model(features), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item(), count + 1
        losses.append(total / count)
        print(f"{label}: epoch {epoch}: loss {losses[-1]:.4f} over {count} batches", flush=True)
    return losses


class AsTorch:
    """A conveyor tuple iterator's batches as torch tensors (DLPack: no copy). Each ``for``
    over it reads one epoch."""

    def __init__(self, iterator):
        self.iterator = iterator

    def __iter__(self):
        for features, labels in self.iterator:
            yield torch.from_dlpack(features), torch.from_dlpack(labels)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="threads of GeneratorDataset, processes of DataLoader")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    data = Blobs(args.samples)

    # MindSpore's API over the torch Dataset: __getitem__ only indexes tensors, so threads
    # (python_multiprocessing=False) beat worker processes here.
    dataset = ds.GeneratorDataset(data, ["features", "label"], shuffle=True, num_parallel_workers=args.workers,
                                  python_multiprocessing=False)
    dataset = dataset.batch(args.batch, drop_remainder=True)
    generator_losses = train(AsTorch(dataset.create_tuple_iterator(num_epochs=args.epochs)), args.epochs,
                             "GeneratorDataset")

    # torch's API: the same arguments as torch.utils.data.DataLoader; num_workers > 0 reads the
    # Dataset in worker processes (it must pickle, and this file guards main() below).
    loader = DataLoader(data, batch_size=args.batch, shuffle=True, drop_last=True, num_workers=args.workers)
    loader_losses = train(loader, args.epochs, "DataLoader")
    loader.close()

    ok = True
    for label, losses in (("GeneratorDataset", generator_losses), ("DataLoader", loader_losses)):
        fell = losses[-1] < 0.5 * losses[0]
        print(f"{label}: loss {losses[0]:.4f} -> {losses[-1]:.4f}: {'fell' if fell else 'DID NOT FALL'}")
        ok = ok and fell
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
