"""MindSpore's custom-dataset example (a random-access class with __getitem__ and __len__
returning NumPy arrays, read through GeneratorDataset, then map, batch and iterate), run on
conveyor, as the MindSpore FAQ gives it. The only line that differs from the MindSpore version
is the import: MindSpore's reads ``import mindspore.dataset as ds``.

    python samples/python/mindspore_migration.py
"""

import numpy as np
import conveyor.dataset as ds
class Mydata:
    def __init__(self):
        np.random.seed(58)
        self.__data = np.random.sample((5, 2))
        self.__label = np.random.sample((5, 1))
    def __getitem__(self, index):
        return (self.__data[index], self.__label[index])
    def __len__(self):
        return len(self.__data)
def pyFunc(x):
    return x * 2
dataset_generator = Mydata()
dataset = ds.GeneratorDataset(dataset_generator, ["data", "label"], shuffle=False)
dataset = dataset.map(operations=pyFunc, input_columns=["data"])
dataset = dataset.batch(2, drop_remainder=True)
for data, label in dataset.create_tuple_iterator(output_numpy=True):
    print(data.shape, label.shape)
