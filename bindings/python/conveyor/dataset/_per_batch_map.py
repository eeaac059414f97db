"""batch(per_batch_map=...): MindSpore's per_batch_map(*column_lists, batch_info) -> tuple of
lists, and the BatchInfo it receives, adapted to the engine's rows -> rows."""

from __future__ import annotations

from typing import Callable, List


class BatchInfo:
    """What a per_batch_map learns about the batch in hand."""

    def __init__(self, batch_num: int, epoch_num: int):
        self._batch_num, self._epoch_num = batch_num, epoch_num

    def get_batch_num(self) -> int:
        return self._batch_num

    def get_epoch_num(self) -> int:
        return self._epoch_num


class PerBatchMap:
    """Adapts MindSpore's per_batch_map(*column_lists, batch_info) -> tuple of lists to the
    engine's rows -> rows."""

    def __init__(self, fn: Callable, names: List[str], inputs: List[str], outputs: List[str]):
        self.fn, self.outputs = fn, outputs
        self.input_index = [names.index(c) for c in inputs]
        self.first = min(self.input_index)
        self.kept = [i for i in range(len(names)) if i not in self.input_index]

    def __call__(self, rows: List[tuple], batch_num: int, epoch_num: int) -> List[tuple]:
        columns = [list(column) for column in zip(*rows)]
        result = self.fn(*(columns[i] for i in self.input_index), BatchInfo(batch_num, epoch_num))
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(self.outputs):
            count = f"{len(result)} column" + ("" if len(result) == 1 else "s")
            raise ValueError(f"per_batch_map returned {count}; output_columns names {len(self.outputs)}")
        produced = [list(column) for column in result]
        count = len(produced[0])
        if any(len(column) != count for column in produced):
            raise ValueError("per_batch_map returned columns of different lengths")
        if self.kept and count != len(rows):
            raise ValueError(f"per_batch_map returned {count} rows for a batch of {len(rows)} while other "
                             "columns pass through")
        out_columns: List[list] = []
        for i in range(len(columns)):
            if i == self.first:
                out_columns.extend(produced)
            if i in self.kept:
                out_columns.append(columns[i])
        return list(zip(*out_columns))
