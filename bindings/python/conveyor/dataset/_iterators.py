"""Reading a pipeline: TupleIterator and DictIterator, their state (state_dict, load_state_dict,
check_state), and the stop at exit of those still running."""

from __future__ import annotations

import atexit
import weakref
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import numpy as np

from conveyor import _core
from conveyor.dataset import config
from conveyor.dataset._errors import user_facing_error

if TYPE_CHECKING:
    from conveyor.dataset._dataset import Dataset

# Iterators still running; stopped at exit, while their threads can still take the GIL (during
# interpreter shutdown a thread that asks for it is terminated mid-call).
_live: "weakref.WeakSet[TupleIterator]" = weakref.WeakSet()


@atexit.register
def _stop_live_iterators() -> None:
    for iterator in list(_live):
        iterator.stop()


class TupleIterator:
    """Reads a running pipeline; each ``for`` over it is one epoch. Closing it (or dropping the
    last reference) stops the pipeline."""

    def __init__(self, dataset: Dataset, columns: Optional[List[str]], num_epochs: int, output_numpy: bool):
        names = dataset.get_col_names()
        self._names = columns or names
        unknown = [c for c in self._names if c not in names]
        if unknown:
            raise ValueError(f"no column {unknown[0]!r} (columns: {', '.join(names)})")
        self._select = [names.index(c) for c in self._names]
        self._output_numpy = output_numpy
        self._core, self._num_epochs = dataset._core, num_epochs
        self._start = dataset._start_position()
        self._start_cut: Optional[Dict[str, Any]] = None  # the stages' state there (load_state_dict)
        self._seed = config.get_seed()
        # Started by the first read, so that load_state_dict() can choose where.
        self._running: Optional[_core.Iterator] = None
        # Seconds a read waits for an output before TimeoutError (None: no limit).
        self._timeout: Optional[float] = None
        # Outputs the pipeline prepares ahead of the reader (None: the config's prefetch_size);
        # set before the first read (conveyor.torch's prefetch_factor).
        self._prefetch_size: Optional[int] = None
        _live.add(self)

    def __iter__(self) -> TupleIterator:
        return self

    def __next__(self):
        columns = self._read()
        if columns is None:  # the end of an epoch, or of the last one
            raise StopIteration
        return self._convert([columns[i] for i in self._select])

    def _read(self) -> Optional[list]:
        if self._running is None:
            self._running = self._iterate(self._start, self._start_cut)
        try:
            columns = self._running.next(self._timeout)
        except _core.PipelineError as error:
            self.stop()
            raise user_facing_error(error)
        except TimeoutError:
            raise  # the pipeline is still running: the iterator can be read again
        except BaseException:
            self.stop()
            raise
        return columns

    def _iterate(self, start: tuple, cut: Optional[Dict[str, Any]]) -> _core.Iterator:
        """The pipeline, started at ``start`` (epoch, outputs) with the stages' state ``cut``."""
        return self._core.iterate(self._num_epochs, *start, cut, prefetch_size=self._prefetch_size)

    def _convert(self, columns: list):
        return [np.asarray(c) for c in columns] if self._output_numpy else columns

    def stop(self) -> None:
        """Stops the pipeline and waits for its threads."""
        if self._running is not None:
            self._running.close()

    def stats(self) -> List[Dict[str, Any]]:
        """Per-stage counters so far (rows, busy and waiting seconds), upstream first."""
        return [] if self._running is None else self._running.stats()

    def state_dict(self) -> Dict[str, Any]:
        """Where this iterator is, as a small JSON-serializable dict: the epoch and the outputs
        read of it (the next epoch and 0 after an epoch's end), the seed, the pipeline's
        signature and, in the middle of an epoch, ``cut``: where the stages stand (the source
        rows read, a count per take, batch, shuffle buffer and repeat stage, and what a shuffle
        buffer holds: its rows' source positions and its generator's state). load_state_dict()
        on an iterator of the same pipeline continues from there."""
        if self._running is None:
            (epoch, outputs), cut = self._start, self._start_cut
        else:
            epoch, outputs, cut = self._running.state
        return {"format": _STATE_FORMAT, "pipeline": self._core.signature, "seed": self._seed, "epoch": epoch,
                "outputs": outputs, "cut": cut}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Continues from ``state`` (from state_dict()): the outputs from here on are
        bit-identical to those an uninterrupted run gives after that point, shuffles and random
        ops included, with any worker count, through filter, take, skip, repeat, per_batch_map
        and a shuffle buffer too. A random-access source jumps straight to the position (and
        reads a shuffle buffer's rows again by index, each in its whole chunk of 16 when worker
        processes read the source); an iterable one is read from its start up
        to the position, the rows before it dropped but those a shuffle buffer held. A pipeline
        already started is stopped and started again there. Raises ValueError when the state
        comes from another pipeline or seed, or when it is mid-epoch in a pipeline that cannot
        resume there (zip or concat; a shuffle buffer over a filter, batch, take, skip, repeat or
        another shuffle buffer; more than 4 take, batch, shuffle and repeat stages; error samples
        mode "replace"), naming the stage. A refused state leaves the iterator where it was."""
        check_state(state, self._core.signature, self._seed)
        start, cut = (_count(state, "epoch"), _count(state, "outputs")), state.get("cut")
        here = self.state_dict()
        self.stop()  # first: a new pipeline would wait for the threads that user code holds
        try:
            # Started now, so that a position the pipeline cannot reach fails here, not at a read.
            self._running = self._iterate(start, cut)
        except BaseException:
            # Refused: the next read starts again where this iterator was.
            self._running, self._start, self._start_cut = None, (here["epoch"], here["outputs"]), here["cut"]
            raise
        self._start, self._start_cut = start, cut


class DictIterator(TupleIterator):
    """A TupleIterator yielding {column name: value}."""

    def _convert(self, columns: list):
        return dict(zip(self._names, super()._convert(columns)))


_STATE_FORMAT = "conveyor.iterator/1"


def _count(state: Dict[str, Any], key: str) -> int:
    """``state[key]``, which must be a non-negative int (ValueError otherwise)."""
    value = state.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"the state's {key!r} is {value!r}, not a count (an int >= 0)")
    return value


def check_state(state: Any, signature: str, seed: int) -> None:
    """Raises ValueError unless ``state`` is an iterator state of the pipeline with
    ``signature``, saved under ``seed``."""
    if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
        raise ValueError(f"not a conveyor iterator state (expected a dict with format {_STATE_FORMAT!r})")
    if state.get("pipeline") != signature:
        raise ValueError(f"the state was saved by another pipeline: {state.get('pipeline')!r}; this one is "
                         f"{signature!r}")
    if state.get("seed") != seed:
        raise ValueError(f"the state was saved with seed {state.get('seed')}; this pipeline runs with seed "
                         f"{seed}: call conveyor.dataset.config.set_seed({state.get('seed')}) before "
                         "building it")
