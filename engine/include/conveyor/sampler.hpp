#pragma once
/// \file sampler.hpp
/// Samplers: which source indices an epoch reads, and in what order.
///
/// A sampler is a pure function of (dataset size, seed, epoch): the same arguments give the same
/// indices on any machine and with any standard library (conveyor uses its own generator and
/// bounded draws, never std::*_distribution), different epochs give different orders, and
/// there is no global RNG. Samplers are immutable after construction except for `set_epoch`,
/// and every member is safe to call from several threads at once.
///
/// \code
///   conveyor::DistributedSampler shard(/*num_shards=*/4, /*shard_id=*/1, /*shuffle=*/true, /*seed=*/7);
///   std::vector<std::size_t> mine = shard.indices(/*dataset_size=*/1000, /*epoch=*/3);
/// \endcode

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace conveyor {

/// The interface every sampler implements.
class Sampler {
 public:
  virtual ~Sampler() = default;

  /// How many indices one epoch yields over a dataset of `dataset_size` rows. Throws
  /// std::invalid_argument when the sampler cannot serve that dataset (e.g. num_samples larger
  /// than the dataset without replacement).
  virtual std::size_t num_samples(std::size_t dataset_size) const = 0;

  /// The indices of epoch `epoch`, in the order they are read; each is < dataset_size. Pure:
  /// the same (dataset_size, epoch) always gives the same vector. Throws like num_samples.
  virtual std::vector<std::size_t> indices(std::size_t dataset_size, std::uint64_t epoch) const = 0;

  /// Sets the epoch a pipeline starts counting from (torch's DistributedSampler.set_epoch): a
  /// pipeline's k-th epoch reads `indices(n, epoch() + k)`. Thread-safe.
  void set_epoch(std::uint64_t epoch) noexcept { epoch_.store(epoch, std::memory_order_relaxed); }
  /// The epoch set by set_epoch (0 by default).
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> epoch_{0};
};

/// Indices start_index, start_index+1, ... (num_samples of them, or to the end).
class SequentialSampler final : public Sampler {
 public:
  explicit SequentialSampler(std::size_t start_index = 0, std::optional<std::size_t> num_samples = std::nullopt);
  std::size_t num_samples(std::size_t dataset_size) const override;
  std::vector<std::size_t> indices(std::size_t dataset_size, std::uint64_t epoch) const override;

 private:
  std::size_t start_;
  std::optional<std::size_t> num_samples_;
};

/// A random permutation (or, with replacement, independent uniform draws) per (seed, epoch).
/// num_samples defaults to the dataset size; without replacement it may not exceed it.
class RandomSampler final : public Sampler {
 public:
  explicit RandomSampler(std::uint64_t seed, bool replacement = false,
                         std::optional<std::size_t> num_samples = std::nullopt);
  std::size_t num_samples(std::size_t dataset_size) const override;
  std::vector<std::size_t> indices(std::size_t dataset_size, std::uint64_t epoch) const override;

 private:
  std::uint64_t seed_;
  bool replacement_;
  std::optional<std::size_t> num_samples_;
};

/// Shard `shard_id` of `num_shards`, as torch's DistributedSampler: every shard has the same
/// length. The (optionally shuffled, per (seed, epoch), identical on every shard) order is padded
/// by wrapping around to a multiple of num_shards, or its tail is dropped when `drop_last`; shard
/// k takes positions k, k + num_shards, ... Throws std::invalid_argument when shard_id >=
/// num_shards or num_shards == 0.
class DistributedSampler final : public Sampler {
 public:
  DistributedSampler(std::size_t num_shards, std::size_t shard_id, bool shuffle = true, std::uint64_t seed = 0,
                     bool drop_last = false);
  std::size_t num_samples(std::size_t dataset_size) const override;
  std::vector<std::size_t> indices(std::size_t dataset_size, std::uint64_t epoch) const override;

 private:
  std::size_t num_shards_;
  std::size_t shard_id_;
  bool shuffle_;
  std::uint64_t seed_;
  bool drop_last_;
};

/// A random permutation of the given indices per (seed, epoch). Throws from indices() when one is
/// >= the dataset size.
class SubsetRandomSampler final : public Sampler {
 public:
  SubsetRandomSampler(std::vector<std::size_t> indices, std::uint64_t seed);
  std::size_t num_samples(std::size_t dataset_size) const override;
  std::vector<std::size_t> indices(std::size_t dataset_size, std::uint64_t epoch) const override;

 private:
  std::vector<std::size_t> subset_;
  std::uint64_t seed_;
};

/// Index i drawn with probability weights[i] / sum(weights), num_samples times per epoch, with or
/// without replacement (without: num_samples <= number of non-zero weights). Throws
/// std::invalid_argument on a negative or non-finite weight, all-zero weights, or too many
/// samples; indices() throws when the dataset is smaller than the weight vector.
class WeightedRandomSampler final : public Sampler {
 public:
  WeightedRandomSampler(std::vector<double> weights, std::size_t num_samples, bool replacement = true,
                        std::uint64_t seed = 0);
  std::size_t num_samples(std::size_t dataset_size) const override;
  std::vector<std::size_t> indices(std::size_t dataset_size, std::uint64_t epoch) const override;

 private:
  std::vector<double> weights_;
  std::size_t num_samples_;
  bool replacement_;
  std::uint64_t seed_;
};

/// A user's function of (dataset_size, epoch) returning the epoch's indices. The function must be
/// pure and thread-safe; indices() throws std::out_of_range naming the first index >= dataset_size.
/// num_samples() calls the function for epoch 0.
class UserSampler final : public Sampler {
 public:
  using Function = std::function<std::vector<std::size_t>(std::size_t dataset_size, std::uint64_t epoch)>;
  explicit UserSampler(Function function);
  std::size_t num_samples(std::size_t dataset_size) const override;
  std::vector<std::size_t> indices(std::size_t dataset_size, std::uint64_t epoch) const override;

 private:
  Function function_;
};

}  // namespace conveyor
