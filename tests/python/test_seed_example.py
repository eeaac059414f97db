"""The seed example of MindSpore's dataset FAQ runs unchanged but for its import line."""

import numpy as np

# Verbatim from the MindSpore FAQ; only `import mindspore.dataset as ds` became conveyor's.
FAQ_EXAMPLE = '''
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
'''


def run_example() -> dict:
    namespace = {"__name__": "faq_example"}
    exec(compile(FAQ_EXAMPLE, "faq_example.py", "exec"), namespace)
    return namespace


def expected_batches():
    """MindSpore's result: the np.random.seed(58) samples in order, data doubled, labels as they
    are, two full batches of two (the fifth row dropped)."""
    np.random.seed(58)
    data = np.random.sample((5, 2))
    label = np.random.sample((5, 1))
    return [(data[0:2] * 2, label[0:2]), (data[2:4] * 2, label[2:4])]


def test_faq_example_prints_the_two_batch_shapes(capsys):
    run_example()
    assert capsys.readouterr().out == "(2, 2) (2, 1)\n(2, 2) (2, 1)\n"


def test_faq_example_doubles_the_data_and_keeps_the_labels_in_order(capsys):
    namespace = run_example()
    expected = expected_batches()
    # The loop variables hold the last batch the example printed.
    np.testing.assert_array_equal(namespace["data"], expected[-1][0])
    np.testing.assert_array_equal(namespace["label"], expected[-1][1])
    # Reading the example's dataset again gives both batches.
    got = [(d.copy(), l.copy()) for d, l in namespace["dataset"].create_tuple_iterator(output_numpy=True, num_epochs=1)]
    assert len(got) == len(expected)
    for (data, label), (want_data, want_label) in zip(got, expected):
        assert data.dtype == np.float64 and label.dtype == np.float64
        np.testing.assert_array_equal(data, want_data)
        np.testing.assert_array_equal(label, want_label)
