"""nn.data: datasets, the DataLoader, transforms, MNIST and Names, after torch.utils.data and torchvision."""
from .dataset import (ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, collate_samples,
                      default_collate, default_convert, fetch_batch, random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .dataloader import DataLoader, get_worker_info
from .transforms import (Compose, MeanImageSubtraction, Normalize, OneHot, Standardize, ToTensor, Transform,
                         is_batchable, one_hot)
from .mnist import MNIST, IDXFormatError, read_idx
from .names import Names

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "get_worker_info", "default_collate", "default_convert", "fetch_batch",
           "collate_samples", "DataLoader", "Transform", "Compose", "ToTensor", "Standardize",
           "MeanImageSubtraction", "Normalize", "OneHot", "is_batchable", "one_hot", "MNIST", "IDXFormatError",
           "read_idx", "Names"]
