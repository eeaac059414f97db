#pragma once
/// \file dataset_options.hpp
/// The options of Dataset's methods beyond their plain arguments: how GeneratorDataset reads its
/// source, and how batch() pads and transforms its rows.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/row.hpp"
#include "conveyor/sampler.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor {

/// How GeneratorDataset reads its source. Unset values come from conveyor::config().
struct GeneratorOptions {
  /// Global shuffle of a random-access source (a RandomSampler); unset means true for random
  /// access. An iterable source cannot be shuffled here: use Dataset::shuffle(buffer_size).
  std::optional<bool> shuffle{};
  /// Seed of the shuffle or sharding.
  std::optional<std::uint64_t> seed{};
  /// Threads reading the source at once (its read_many()).
  std::optional<std::size_t> num_parallel_workers{};
  /// An explicit sampler; excludes shuffle, num_shards and shard_id.
  std::shared_ptr<const Sampler> sampler{};
  /// Rows per epoch (at most the source's size).
  std::optional<std::size_t> num_samples{};
  /// Sharding: read shard `shard_id` of `num_shards` (a DistributedSampler).
  std::optional<std::size_t> num_shards{};
  std::optional<std::size_t> shard_id{};
};

/// Padding for one column of a batch: each row is padded to `shape` (an extent of -1 means
/// the largest in the batch; an empty shape means the largest along every axis) with `value`.
struct PadInfo {
  Shape shape;
  double value = 0;
};

/// What a per_batch_map learns about the batch in hand.
struct BatchInfo {
  /// The batch's number within its epoch, from 0.
  std::uint64_t batch_num = 0;
  /// The epoch, from 0.
  std::uint64_t epoch_num = 0;
};

/// Options of batch() beyond its size and drop_remainder.
struct BatchOptions {
  /// Transforms each batch's rows before they are collated (MindSpore's per_batch_map): gets the
  /// rows, returns the rows to collate (any number), each with as many columns as
  /// output_columns names (as the input has, when it is empty). Runs on the batch stage's
  /// thread.
  std::function<std::vector<Row>(std::vector<Row>, const BatchInfo&)> per_batch_map{};
  std::vector<std::string> output_columns{};
  /// Columns whose rows may differ in shape, and how to pad them.
  std::map<std::string, PadInfo> pad_info{};
};

}  // namespace conveyor
