#include "workers/source.hpp"

#include <cstring>
#include <vector>

#include "workers/group.hpp"

namespace conveyor::python {
namespace {

/// Reads chunks of rows from the workers: one request per read_many() (a chunk, or a batch of
/// chunks), whose body is ``<QII`` (epoch, n, the first m to answer) and n ``<Q`` indices.
class WorkerSource final : public RandomAccessSource {
 public:
  explicit WorkerSource(py::object pool)  // the GIL held
      : size_(py::len(pool)), block_(pool.attr("rows_per_chunk").cast<std::size_t>()), workers_(std::move(pool)) {}

  std::size_t size() const override { return size_; }

  Row read(std::size_t index, std::uint64_t epoch) const override {
    const std::uint64_t indices[1] = {index};
    Row rows[1];
    std::exception_ptr errors[1];
    read_many(indices, epoch, rows, errors, {});
    if (errors[0]) std::rethrow_exception(errors[0]);
    return std::move(rows[0]);
  }

  void read_many(std::span<const std::uint64_t> indices, std::uint64_t epoch, std::span<Row> rows,
                 std::span<std::exception_ptr> errors, std::stop_token stop) const override {
    const auto body_for = [epoch](std::span<const std::uint64_t> chunk) {
      const auto count = static_cast<std::uint32_t>(chunk.size());
      std::vector<unsigned char> body(16 + 8 * chunk.size());
      std::memcpy(&body[0], &epoch, 8);
      std::memcpy(&body[8], &count, 4);
      std::memcpy(&body[12], &count, 4);
      std::memcpy(&body[16], chunk.data(), 8 * chunk.size());
      return body;
    };
    const WorkerGroup::Rereads rereads{
        // Seeded per chunk as before, so its first k rows are read the same way again.
        .first =
            [](std::span<const unsigned char> body, std::size_t k) {
              std::vector<unsigned char> first(body.begin(), body.end());
              const auto answer = static_cast<std::uint32_t>(k);
              std::memcpy(&first[12], &answer, 4);
              return first;
            },
        .own = body_for,
        .chunk = block_};
    workers_.request(body_for(indices), indices, rows, errors, std::move(stop), &rereads);
  }

  /// A worker lays a request's rows out back to back in one slot (see _RowWriter.start).
  SourceHints hints() const noexcept override { return {.block = block_, .rows_laid_out = true}; }

 private:
  std::size_t size_;
  std::size_t block_;
  WorkerGroup workers_;
};

}  // namespace

std::shared_ptr<RandomAccessSource> worker_source(py::object pool) { return std::make_shared<WorkerSource>(std::move(pool)); }

}  // namespace conveyor::python
