"""Datasets and loaders: the DataLoader, the toy 2-D distributions and MNIST."""
from .loader import DataLoader, Dataset, TensorDataset
from .mnist import cache_dir, digits_dataset, load_digits, load_mnist, read_idx, to_dataset
from .toy import TOY, Mixture, Moons, SwissRoll, ToyDistribution, get_toy, toy_dataset
