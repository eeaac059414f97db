"""ds.config.set_error_samples_mode: corrupt images mixed into a good set are raised, skipped or
replaced, and no good sample is lost."""

import numpy as np
import pytest

import conveyor.dataset as ds
import conveyor.dataset.vision as vision
from conveyor.dataset.config import ErrorSamplesMode
from test_vision_ops import bmp

CORRUPT = (0, 7, 8, 19)


class Labelled:
    """Image i: an 8x8 BMP filled with the value i (truncated for the CORRUPT ones), label i."""

    def __len__(self):
        return 20

    def __getitem__(self, i):
        data = bmp(np.full((8, 8, 3), i, np.uint8))
        return np.frombuffer(data[:30] if i in CORRUPT else data, np.uint8), np.int64(i)


def decoded(workers=2):
    data = ds.GeneratorDataset(Labelled(), ["image", "label"], shuffle=False, num_parallel_workers=workers,
                               python_multiprocessing=False)
    return data.map(vision.Decode(), input_columns="image", num_parallel_workers=workers)


def read(data):
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    out = [(int(image[0, 0, 0]), int(label)) for image, label in iterator]
    return out, iterator.stats()


@pytest.mark.parametrize("workers", [1, 2])
def test_skip_drops_the_corrupt_images_keeps_every_good_one_and_warns_once(restore_config, capfd, workers):
    ds.config.set_error_samples_mode(ErrorSamplesMode.SKIP)
    out, stats = read(decoded(workers))
    good = [i for i in range(20) if i not in CORRUPT]
    assert out == [(i, i) for i in good]
    assert {s["name"]: s["errors"] for s in stats}["map[0]"] == len(CORRUPT)
    warnings = [line for line in capfd.readouterr().err.splitlines() if "error_samples_mode" in line]
    assert len(warnings) == 1 and "map[0] failed on sample 0" in warnings[0]


def test_replace_keeps_the_epoch_length_with_copies_of_good_neighbours(restore_config):
    ds.config.set_error_samples_mode("replace")
    assert ds.config.get_error_samples_mode() is ErrorSamplesMode.REPLACE
    out, _ = read(decoded())
    labels = [label for _, label in out]
    # 0 (the first) takes the next good one, 1; the others the good one before them.
    assert labels == [1, 1, 2, 3, 4, 5, 6, 6, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 18]
    assert all(value == label for value, label in out)


def test_replace_and_batch_give_full_batches(restore_config):
    ds.config.set_error_samples_mode(ErrorSamplesMode.REPLACE)
    batches = list(decoded().batch(5, drop_remainder=True).create_tuple_iterator(output_numpy=True, num_epochs=1))
    assert [b[1].shape for b in batches] == [(5,)] * 4


def test_raise_is_the_default_and_names_the_sample():
    assert ds.config.get_error_samples_mode() is ErrorSamplesMode.RETURN
    with pytest.raises(Exception, match="map\\[0\\] failed on sample 0"):
        read(decoded())


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="error_samples_mode"):
        ds.config.set_error_samples_mode("ignore")
