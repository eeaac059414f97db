// Datasets and iterators. The GIL is released whenever the engine may wait (next(), teardown,
// output_shapes) and taken by the engine only to call Python.
#include <chrono>
#include <memory>
#include <mutex>
#include <new>

#include <pybind11/stl.h>

#include <conveyor/config.hpp>
#include <conveyor/dataset.hpp>
#include <conveyor/error.hpp>
#include <conveyor/ops/operator.hpp>

#include "core/convert.hpp"
#include "core/python_callables.hpp"
#include "core/python_source.hpp"
#include "core/registry.hpp"
#include "workers/map.hpp"

namespace conveyor::python {
namespace {

using namespace std::chrono_literals;

// A Cut as plain Python values, None for none: {"rows": int, "counts": [int],
// "shuffle": None or {"rows": [int], "rng": [int] * 4}}.
py::object cut_to_python(const std::optional<Cut>& cut) {
  if (!cut) return py::none();
  py::dict out;
  out["rows"] = cut->rows;
  out["counts"] = py::cast(cut->counts);
  if (cut->shuffle) {
    py::dict shuffle;
    shuffle["rows"] = py::cast(cut->shuffle->rows);
    shuffle["rng"] = py::cast(std::vector<std::uint64_t>(cut->shuffle->rng.begin(), cut->shuffle->rng.end()));
    out["shuffle"] = shuffle;
  } else {
    out["shuffle"] = py::none();
  }
  return out;
}

// The Cut cut_to_python made; ValueError for anything else.
std::optional<Cut> cut_from_python(const py::object& value) {
  if (value.is_none()) return std::nullopt;
  try {
    auto in = value.cast<py::dict>();
    Cut cut;
    cut.rows = in["rows"].cast<std::uint64_t>();
    cut.counts = in["counts"].cast<std::vector<std::uint64_t>>();
    if (py::object shuffle = in["shuffle"]; !shuffle.is_none()) {
      auto rng = shuffle["rng"].cast<std::vector<std::uint64_t>>();
      if (rng.size() != 4) throw py::cast_error("rng");
      cut.shuffle = ShuffleState{shuffle["rows"].cast<std::vector<std::uint64_t>>(), {rng[0], rng[1], rng[2], rng[3]}};
    }
    return cut;
  } catch (const py::cast_error&) {
  } catch (const py::error_already_set&) {
  }
  throw py::value_error("not a conveyor iterator state: its 'cut' is not {'rows': int, 'counts': [int], 'shuffle': "
                        "None or {'rows': [int], 'rng': [4 ints]}}");
}

// A running pipeline as Python holds it. Calls share it through a shared_ptr, so that close()
// on one thread cannot free it under a next() waiting on another; whoever lets go last joins
// the pipeline's threads, always with the GIL released (they may need it to finish a call).
class PythonIterator {
 public:
  explicit PythonIterator(Iterator iterator) : iterator_(std::make_shared<Iterator>(std::move(iterator))) {}
  PythonIterator(const PythonIterator&) = delete;
  PythonIterator& operator=(const PythonIterator&) = delete;
  ~PythonIterator() { close(); }

  // The next output's columns, or None at the end of an epoch (then `done` tells whether more
  // epochs follow). Waits in slices with the GIL released, so that Ctrl-C (or any signal
  // handler that raises) interrupts it; raises TimeoutError after `timeout_s` seconds without
  // an output (the pipeline keeps running).
  py::object next(std::optional<double> timeout_s) {
    Held held{iterator_};
    if (!held.iterator) return py::none();
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      bool ready;
      {
        py::gil_scoped_release release;
        ready = held.iterator->wait(50ms);
      }
      if (ready) break;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (timeout_s && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= *timeout_s) {
        PyErr_SetString(PyExc_TimeoutError, ("no output within " + std::to_string(*timeout_s) + " s").c_str());
        throw py::error_already_set();
      }
    }
    std::optional<Batch> batch;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(reading_);
      batch = held.iterator->next_in_epoch();
    }
    if (!batch) return py::none();
    py::list columns;
    for (const Tensor& column : batch->columns()) columns.append(py::cast(column));
    return columns;
  }

  // Stops the pipeline and, unless a next() on another thread still holds it, joins its threads.
  void close() {
    if (iterator_) last_position_ = read_position();
    auto iterator = std::move(iterator_);
    if (!iterator) return;
    iterator->cancel();
    py::gil_scoped_release release;
    iterator.reset();
  }

  bool done() const { return !iterator_ || iterator_->done(); }
  std::uint64_t epoch() const { return iterator_ ? iterator_->epoch() : 0; }
  // (epoch, outputs read of it, the stages' state there as plain values): see
  // Iterator::position and cut_to_python. One reading, so the three agree. Kept after close().
  py::tuple state() {
    if (iterator_) last_position_ = read_position();
    return py::make_tuple(last_position_.epoch, last_position_.outputs, cut_to_python(last_position_.cut));
  }

  py::list stats() const {
    py::list out;
    Held held{iterator_};
    if (!held.iterator) return out;
    for (const StageStats& s : held.iterator->stats()) {
      py::dict d;
      d["name"] = s.name;
      d["workers"] = s.workers;
      d["rows"] = s.rows;
      d["errors"] = s.errors;
      d["busy_s"] = std::chrono::duration<double>(s.busy).count();
      d["wait_input_s"] = std::chrono::duration<double>(s.wait_input).count();
      d["wait_output_s"] = std::chrono::duration<double>(s.wait_output).count();
      out.append(d);
    }
    return out;
  }

 private:
  // A call's own reference, let go with the GIL released in case it is the last one.
  struct Held {
    std::shared_ptr<Iterator> iterator;
    ~Held() {
      if (!iterator) return;
      py::gil_scoped_release release;
      iterator.reset();
    }
  };

  // The reader's state is one thread's at a time (Iterator::position): a state() or close() on
  // another thread than a next() waits for it to take its output. Taken with the GIL released.
  Position read_position() {
    Held held{iterator_};  // a copy: a close() on another thread may drop ours meanwhile
    py::gil_scoped_release release;
    std::lock_guard lock(reading_);
    return held.iterator->position();
  }

  std::shared_ptr<Iterator> iterator_;
  Position last_position_;
  std::mutex reading_;
};

// Raises conveyor._core.PipelineError for a conveyor::Error, with the stage, the sample and the
// original Python exception (when Python raised it) as attributes. A std::bad_alloc cause
// becomes a MemoryError original, so that the user sees MemoryError (conveyor._errors).
void raise_pipeline_error(const Error& error) {
  py::object original = py::none();
  if (error.cause()) {
    try {
      std::rethrow_exception(error.cause());
    } catch (const py::error_already_set& e) {
      original = e.value();
      if (e.trace()) PyException_SetTraceback(original.ptr(), e.trace().ptr());
    } catch (const std::bad_alloc& e) {
      original = py::reinterpret_borrow<py::object>(PyExc_MemoryError)(e.what());
    } catch (...) {
    }
  }
  py::object type = py::module_::import("conveyor._core").attr("PipelineError");
  py::object exception = type(error.what());
  exception.attr("stage") = error.stage();
  exception.attr("sample") = error.sample() ? py::object(py::int_(*error.sample())) : py::none();
  exception.attr("batch") = error.batch() ? py::object(py::int_(*error.batch())) : py::none();
  exception.attr("original") = original;
  PyErr_SetObject(type.ptr(), exception.ptr());
}

// Python callables take the GIL per call; a worker pool (map(python_multiprocessing=True)) runs
// its functions in its processes; runs of adjacent native ops are made (and fused) by
// ops::make_ops and never touch Python.
std::vector<ContextOp> map_ops(const std::vector<py::object>& operations) {
  std::vector<ContextOp> out;
  std::vector<ops::OpSpec> native;
  auto flush = [&] {
    for (auto& op : ops::make_ops(native)) out.push_back(std::move(op));
    native.clear();
  };
  for (const auto& op : operations) {
    if (py::isinstance<ops::OpSpec>(op)) {
      native.push_back(op.cast<ops::OpSpec>());
      continue;
    }
    flush();
    if (py::hasattr(op, "__conveyor_worker_pool__"))
      out.push_back(worker_map_op(op));
    else
      out.push_back([f = python_op(op)](Row row, const OpContext&) { return f(std::move(row)); });
  }
  flush();
  return out;
}

std::shared_ptr<const Sampler> sampler_from(py::object sampler) {
  if (sampler.is_none()) return nullptr;
  if (py::isinstance<Sampler>(sampler)) return sampler.cast<std::shared_ptr<Sampler>>();
  return python_sampler(std::move(sampler));
}

}  // namespace

void register_dataset(py::module_& m) {
  m.attr("PipelineError") =
      py::reinterpret_steal<py::object>(PyErr_NewException("conveyor._core.PipelineError", PyExc_RuntimeError, nullptr));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      raise_pipeline_error(e);
    }
  });

  py::class_<PythonIterator>(m, "Iterator")
      .def("next", &PythonIterator::next, py::arg("timeout_s") = py::none(),
           "The next output's columns, or None at the end of an epoch; TimeoutError after timeout_s.")
      .def("close", &PythonIterator::close, "Stops the pipeline; thread-safe.")
      .def_property_readonly("done", &PythonIterator::done, "True once the last epoch has been read.")
      .def_property_readonly("epoch", &PythonIterator::epoch, "The epoch of the last output.")
      .def_property_readonly("state", &PythonIterator::state,
                             "(epoch, outputs read of it, cut): (next epoch, 0, None) after an epoch's end; cut, "
                             "the stages' state there as plain values (None at an epoch's start, or for a pipeline "
                             "that records none): see conveyor::Position and conveyor::Cut.")
      .def("stats", &PythonIterator::stats, "Per-stage counters, upstream first.");

  py::class_<Dataset>(m, "Dataset")
      .def_property_readonly("column_names", &Dataset::column_names)
      .def("get_dataset_size", &Dataset::get_dataset_size)
      .def("endless", &Dataset::endless)
      .def("output_shapes",
           [](const Dataset& d) {
             py::gil_scoped_release release;
             return d.output_shapes();
           })
      .def("output_types",
           [](const Dataset& d) {
             std::vector<DType> types;
             {
               py::gil_scoped_release release;
               types = d.output_types();
             }
             py::list out;
             for (DType t : types) out.append(numpy_dtype(t));
             return out;
           })
      .def("shuffle", &Dataset::shuffle, py::arg("buffer_size"))
      .def(
          "map",
          [](const Dataset& d, const std::vector<py::object>& operations, std::vector<std::string> input_columns,
             std::vector<std::string> output_columns, std::optional<std::size_t> num_parallel_workers) {
            return d.map(map_ops(operations), std::move(input_columns), std::move(output_columns),
                         num_parallel_workers);
          },
          py::arg("operations"), py::arg("input_columns"), py::arg("output_columns"),
          py::arg("num_parallel_workers") = py::none())
      .def(
          "filter",
          [](const Dataset& d, py::object predicate, std::vector<std::string> input_columns,
             std::optional<std::size_t> num_parallel_workers) {
            return d.filter(python_predicate(std::move(predicate)), std::move(input_columns), num_parallel_workers);
          },
          py::arg("predicate"), py::arg("input_columns"), py::arg("num_parallel_workers") = py::none())
      .def(
          "batch",
          [](const Dataset& d, std::size_t batch_size, bool drop_remainder, py::object per_batch_map,
             std::vector<std::string> output_columns,
             std::map<std::string, std::pair<std::vector<std::int64_t>, double>> pad_info) {
            BatchOptions options;
            if (!per_batch_map.is_none()) options.per_batch_map = python_batch_map(std::move(per_batch_map));
            options.output_columns = std::move(output_columns);
            for (auto& [column, pad] : pad_info) options.pad_info[column] = PadInfo{pad.first, pad.second};
            return d.batch(batch_size, drop_remainder, std::move(options));
          },
          py::arg("batch_size"), py::arg("drop_remainder") = false, py::arg("per_batch_map") = py::none(),
          py::arg("output_columns") = std::vector<std::string>{},
          py::arg("pad_info") = std::map<std::string, std::pair<std::vector<std::int64_t>, double>>{})
      .def("repeat", &Dataset::repeat, py::arg("count") = -1)
      .def("take", &Dataset::take, py::arg("count"))
      .def("skip", &Dataset::skip, py::arg("count"))
      .def("project", &Dataset::project, py::arg("columns"))
      .def("rename", &Dataset::rename, py::arg("input_columns"), py::arg("output_columns"))
      .def("zip", &Dataset::zip, py::arg("others"))
      .def("concat", &Dataset::concat, py::arg("others"))
      .def_property_readonly("signature", &Dataset::signature)
      .def(
          "iterate",
          [](const Dataset& d, std::int64_t num_epochs, std::uint64_t start_epoch, std::uint64_t start_outputs,
             const py::object& cut, std::optional<std::size_t> prefetch_size) {
            Position start{start_epoch, start_outputs, cut_from_python(cut)};
            Config settings = config();
            if (prefetch_size) settings.prefetch_size = *prefetch_size;
            return std::make_unique<PythonIterator>(d.iterate(num_epochs, std::move(start), settings));
          },
          py::arg("num_epochs") = 1, py::arg("start_epoch") = 0, py::arg("start_outputs") = 0,
          py::arg("cut") = py::none(), py::arg("prefetch_size") = py::none(),
          "Starts the pipeline at (start_epoch, start_outputs), with the stages' state `cut` (from "
          "Iterator.cut) when given: see conveyor::Position. `prefetch_size` replaces the config's for "
          "this pipeline.");

  m.def(
      "generator_dataset",
      [](py::object source, std::vector<std::string> column_names, std::optional<bool> shuffle,
         std::optional<std::uint64_t> seed, std::optional<std::size_t> num_parallel_workers, py::object sampler,
         std::optional<std::size_t> num_samples, std::optional<std::size_t> num_shards,
         std::optional<std::size_t> shard_id) {
        GeneratorOptions options;
        options.shuffle = shuffle;
        options.seed = seed;
        options.num_parallel_workers = num_parallel_workers;
        options.sampler = sampler_from(std::move(sampler));
        options.num_samples = num_samples;
        options.num_shards = num_shards;
        options.shard_id = shard_id;
        return GeneratorDataset(python_source(std::move(source)), std::move(column_names), std::move(options));
      },
      py::arg("source"), py::arg("column_names"), py::kw_only(), py::arg("shuffle") = py::none(),
      py::arg("seed") = py::none(), py::arg("num_parallel_workers") = py::none(), py::arg("sampler") = py::none(),
      py::arg("num_samples") = py::none(), py::arg("num_shards") = py::none(), py::arg("shard_id") = py::none(),
      "A dataset over a Python source: random access, iterable, or generator function.");
}

}  // namespace conveyor::python
