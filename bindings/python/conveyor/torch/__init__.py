"""conveyor for PyTorch users: ``from conveyor.torch import DataLoader`` in place of
``from torch.utils.data import DataLoader``."""

from conveyor.torch.dataloader import DataLoader

__all__ = ["DataLoader"]
