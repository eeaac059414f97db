"""num_shards="auto": the rank and world size come from the launcher (torchrun's RANK and
WORLD_SIZE, Open MPI's OMPI_COMM_WORLD_*), and the shards of a shuffled dataset are disjoint,
cover each epoch and have equal lengths. Ranks run as separate processes, launched by mpirun
and by hand with torch's variables."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conveyor._launcher import launcher_shard, resolve_shards

# Each rank reads two epochs of a shuffled 10-row dataset through GeneratorDataset and through
# conveyor.torch.DataLoader, both sharded with "auto", and writes the indices it saw.
RANK_SCRIPT = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import conveyor.dataset as ds
    from conveyor.torch import DataLoader

    class Indexed:
        def __len__(self):
            return 10
        def __getitem__(self, i):
            return np.int64(i)

    if __name__ == "__main__":
        data = ds.GeneratorDataset(Indexed(), ["x"], num_shards="auto", shard_id="auto")
        iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=2)
        dataset_epochs = [[int(row[0]) for row in iterator] for _ in range(2)]
        loader = DataLoader(Indexed(), batch_size=2, shuffle=True, num_shards="auto", shard_id="auto")
        loader_epochs = [[int(i) for batch in loader for i in batch] for _ in range(2)]
        rank = os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("RANK"))
        with open(os.path.join(sys.argv[1], f"rank{rank}.json"), "w") as out:
            json.dump({"dataset": dataset_epochs, "loader": loader_epochs, "batches": len(loader)}, out)
""")


def check_shards(results, size=10, ranks=2):
    for kind in ("dataset", "loader"):
        epochs = []
        for epoch in range(2):
            shards = [results[r][kind][epoch] for r in range(ranks)]
            assert all(len(s) == size // ranks for s in shards), shards  # equal lengths
            seen = [i for s in shards for i in s]
            assert sorted(seen) == list(range(size)), shards  # disjoint and covering
            # Shard k takes positions k, k + ranks, ... of one permutation shared by every rank.
            epochs.append([shards[p % ranks][p // ranks] for p in range(size)])
        assert epochs[0] != epochs[1], "each epoch draws a new permutation"
        assert epochs[0] != list(range(size)), "the order is shuffled"
    assert all(results[r]["batches"] == (size // ranks + 1) // 2 for r in range(ranks))


def run_ranks(tmp_path, launch):
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    done = launch(str(script), str(tmp_path))
    for process in done:
        assert process.returncode == 0, process.stderr
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="Open MPI's mpirun is not installed (openmpi-bin)")
def test_two_mpi_ranks_read_disjoint_equal_shards_covering_each_epoch(tmp_path):
    def launch(script, out):
        root = ["--allow-run-as-root", "--oversubscribe"] if os.geteuid() == 0 else ["--oversubscribe"]
        return [subprocess.run(["mpirun", *root, "-np", "2", sys.executable, script, out], capture_output=True,
                               text=True, timeout=25)]

    check_shards(run_ranks(tmp_path, launch))


def test_two_ranks_with_torchruns_variables_read_disjoint_equal_shards(tmp_path):
    def launch(script, out):
        processes = []
        for rank in range(2):
            env = {k: v for k, v in os.environ.items() if not k.startswith("OMPI_")}
            env.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank))
            processes.append(subprocess.Popen([sys.executable, script, out], env=env, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True))
        outputs = [p.communicate(timeout=25) for p in processes]
        return [subprocess.CompletedProcess(p.args, p.returncode, *out) for p, out in zip(processes, outputs)]

    check_shards(run_ranks(tmp_path, launch))


def test_launcher_variables():
    assert launcher_shard({}) == (1, 0)
    assert launcher_shard({"RANK": "3", "WORLD_SIZE": "4"}) == (4, 3)
    assert launcher_shard({"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2"}) == (2, 1)
    # torchrun's variables win when both launchers' are present.
    assert launcher_shard({"RANK": "0", "WORLD_SIZE": "8", "OMPI_COMM_WORLD_RANK": "1",
                           "OMPI_COMM_WORLD_SIZE": "2"}) == (8, 0)


@pytest.mark.parametrize("env,message", [
    ({"RANK": "1"}, "WORLD_SIZE is not"),
    ({"OMPI_COMM_WORLD_SIZE": "2"}, "OMPI_COMM_WORLD_RANK is not"),
    ({"RANK": "x", "WORLD_SIZE": "2"}, "RANK='x' is not an integer"),
    ({"RANK": "2", "WORLD_SIZE": "2"}, "do not name a shard"),
])
def test_malformed_launcher_variables_are_errors_naming_them(env, message):
    with pytest.raises(ValueError, match=message):
        launcher_shard(env)


def test_auto_resolution():
    assert resolve_shards(None, None, {"RANK": "1", "WORLD_SIZE": "2"}) == (None, None)
    assert resolve_shards(4, 1, {"RANK": "1", "WORLD_SIZE": "2"}) == (4, 1)
    assert resolve_shards("auto", "auto", {"RANK": "1", "WORLD_SIZE": "2"}) == (2, 1)
    assert resolve_shards("auto", "auto", {}) == (None, None)  # one process: no sharding
    with pytest.raises(ValueError, match="both"):
        resolve_shards("auto", 1, {})


def test_auto_without_a_launcher_reads_the_whole_dataset(monkeypatch):
    import numpy as np

    import conveyor.dataset as ds

    for name in ("RANK", "WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)

    class Indexed:
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return np.int64(i)

    data = ds.GeneratorDataset(Indexed(), ["x"], num_shards="auto", shard_id="auto", shuffle=False)
    assert [int(r[0]) for r in data.create_tuple_iterator(output_numpy=True, num_epochs=1)] == list(range(6))
