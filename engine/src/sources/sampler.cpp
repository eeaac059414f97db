#include "conveyor/sampler.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "conveyor/detail/random.hpp"

namespace conveyor {
namespace {

// Keeps the samplers' generators apart: one seed gives unrelated orders in different kinds.
enum class Stream : std::uint64_t { random = 1, distributed = 2, subset = 3, weighted = 4 };

detail::Rng rng_for(std::uint64_t seed, std::uint64_t epoch, Stream stream) {
  return detail::Rng(detail::mix({seed, epoch, static_cast<std::uint64_t>(stream)}));
}

std::vector<std::size_t> identity(std::size_t n) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  return order;
}

// Throws std::out_of_range naming the first index >= dataset_size, its position and the size.
void check_in_range(const std::vector<std::size_t>& indices, std::size_t dataset_size, const char* sampler) {
  for (std::size_t position = 0; position < indices.size(); ++position)
    if (indices[position] >= dataset_size)
      throw std::out_of_range("conveyor: " + std::string(sampler) + " index " + std::to_string(indices[position]) +
                              " at position " + std::to_string(position) + " is out of range for a dataset of " +
                              std::to_string(dataset_size) + " rows");
}

// Independent draws: binary search of uniform() * total in the running sums. An index whose
// weight is zero shares its running sum with the one before it, so upper_bound never lands on it.
std::vector<std::size_t> draw_with_replacement(const std::vector<double>& weights, std::size_t count,
                                               detail::Rng& rng) {
  std::vector<double> cumulative(weights.size());
  std::partial_sum(weights.begin(), weights.end(), cumulative.begin());
  std::vector<std::size_t> drawn(count);
  for (std::size_t& index : drawn) {
    const double r = rng.uniform() * cumulative.back();
    index = static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin());
  }
  return drawn;
}

// Successive draws, each removing the drawn index, from a sum tree (leaves hold the weights, each
// inner node the sum of its children): O(log n) a draw. Only + and < touch the weights, so the
// draws are identical on every IEEE-754 machine, which keys such as u^(1/w) (libm's pow) are not.
std::vector<std::size_t> draw_without_replacement(const std::vector<double>& weights, std::size_t count,
                                                  detail::Rng& rng) {
  const std::size_t leaves = std::bit_ceil(weights.size());
  std::vector<double> tree(2 * leaves, 0.0);
  std::copy(weights.begin(), weights.end(), tree.begin() + static_cast<std::ptrdiff_t>(leaves));
  for (std::size_t node = leaves - 1; node > 0; --node) tree[node] = tree[2 * node] + tree[2 * node + 1];

  std::vector<std::size_t> drawn(count);
  for (std::size_t& index : drawn) {
    double r = rng.uniform() * tree[1];
    std::size_t node = 1;
    while (node < leaves) {
      const double left = tree[2 * node];
      const double right = tree[2 * node + 1];
      // Rounding can carry r past a subtree's sum: never step into a subtree whose sum is zero.
      if (right == 0 || (left > 0 && r < left)) {
        node = 2 * node;
      } else {
        r -= left;
        node = 2 * node + 1;
      }
    }
    index = node - leaves;
    tree[node] = 0;
    for (node /= 2; node > 0; node /= 2) tree[node] = tree[2 * node] + tree[2 * node + 1];
  }
  return drawn;
}

}  // namespace

SequentialSampler::SequentialSampler(std::size_t start_index, std::optional<std::size_t> num_samples)
    : start_(start_index), num_samples_(num_samples) {}

std::size_t SequentialSampler::num_samples(std::size_t dataset_size) const {
  if (start_ > dataset_size)
    throw std::invalid_argument("conveyor: SequentialSampler start_index " + std::to_string(start_) +
                                " is past the end of a dataset of " + std::to_string(dataset_size) + " rows");
  const std::size_t rest = dataset_size - start_;
  return num_samples_ ? std::min(*num_samples_, rest) : rest;
}

std::vector<std::size_t> SequentialSampler::indices(std::size_t dataset_size, std::uint64_t /*epoch*/) const {
  std::vector<std::size_t> order(num_samples(dataset_size));
  std::iota(order.begin(), order.end(), start_);
  return order;
}

RandomSampler::RandomSampler(std::uint64_t seed, bool replacement, std::optional<std::size_t> num_samples)
    : seed_(seed), replacement_(replacement), num_samples_(num_samples) {}

std::size_t RandomSampler::num_samples(std::size_t dataset_size) const {
  const std::size_t count = num_samples_.value_or(dataset_size);
  if (!replacement_ && count > dataset_size)
    throw std::invalid_argument("conveyor: RandomSampler without replacement cannot draw " + std::to_string(count) +
                                " samples from a dataset of " + std::to_string(dataset_size) + " rows");
  if (replacement_ && count > 0 && dataset_size == 0)
    throw std::invalid_argument("conveyor: RandomSampler cannot draw " + std::to_string(count) +
                                " samples from an empty dataset");
  return count;
}

std::vector<std::size_t> RandomSampler::indices(std::size_t dataset_size, std::uint64_t epoch) const {
  const std::size_t count = num_samples(dataset_size);
  detail::Rng rng = rng_for(seed_, epoch, Stream::random);
  if (replacement_) {
    std::vector<std::size_t> drawn(count);
    for (std::size_t& index : drawn) index = static_cast<std::size_t>(rng.below(dataset_size));
    return drawn;
  }
  std::vector<std::size_t> order = identity(dataset_size);
  rng.shuffle(order.begin(), order.end());
  order.resize(count);
  return order;
}

DistributedSampler::DistributedSampler(std::size_t num_shards, std::size_t shard_id, bool shuffle, std::uint64_t seed,
                                       bool drop_last)
    : num_shards_(num_shards), shard_id_(shard_id), shuffle_(shuffle), seed_(seed), drop_last_(drop_last) {
  if (num_shards_ == 0) throw std::invalid_argument("conveyor: DistributedSampler needs num_shards >= 1, not 0");
  if (shard_id_ >= num_shards_)
    throw std::invalid_argument("conveyor: DistributedSampler shard_id " + std::to_string(shard_id_) +
                                " is out of range for num_shards " + std::to_string(num_shards_));
}

std::size_t DistributedSampler::num_samples(std::size_t dataset_size) const {
  const bool partial = dataset_size % num_shards_ != 0;
  return dataset_size / num_shards_ + (partial && !drop_last_ ? 1 : 0);
}

std::vector<std::size_t> DistributedSampler::indices(std::size_t dataset_size, std::uint64_t epoch) const {
  std::vector<std::size_t> order = identity(dataset_size);
  if (shuffle_) rng_for(seed_, epoch, Stream::distributed).shuffle(order.begin(), order.end());
  // Position p of the padded order is order[p % n]: wrapping around as often as needed.
  std::vector<std::size_t> shard(num_samples(dataset_size));
  for (std::size_t i = 0; i < shard.size(); ++i) shard[i] = order[(shard_id_ + i * num_shards_) % dataset_size];
  return shard;
}

SubsetRandomSampler::SubsetRandomSampler(std::vector<std::size_t> indices, std::uint64_t seed)
    : subset_(std::move(indices)), seed_(seed) {}

std::size_t SubsetRandomSampler::num_samples(std::size_t dataset_size) const {
  check_in_range(subset_, dataset_size, "SubsetRandomSampler");
  return subset_.size();
}

std::vector<std::size_t> SubsetRandomSampler::indices(std::size_t dataset_size, std::uint64_t epoch) const {
  check_in_range(subset_, dataset_size, "SubsetRandomSampler");
  std::vector<std::size_t> order = subset_;
  rng_for(seed_, epoch, Stream::subset).shuffle(order.begin(), order.end());
  return order;
}

WeightedRandomSampler::WeightedRandomSampler(std::vector<double> weights, std::size_t num_samples, bool replacement,
                                             std::uint64_t seed)
    : weights_(std::move(weights)), num_samples_(num_samples), replacement_(replacement), seed_(seed) {
  if (weights_.empty()) throw std::invalid_argument("conveyor: WeightedRandomSampler needs at least one weight");
  std::size_t non_zero = 0;
  double total = 0;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (!std::isfinite(weights_[i]) || weights_[i] < 0)
      throw std::invalid_argument("conveyor: WeightedRandomSampler weight " + std::to_string(i) + " is " +
                                  std::to_string(weights_[i]) + "; weights must be finite and >= 0");
    non_zero += weights_[i] > 0 ? 1 : 0;
    total += weights_[i];
  }
  if (non_zero == 0) throw std::invalid_argument("conveyor: WeightedRandomSampler weights are all zero");
  if (!std::isfinite(total)) throw std::invalid_argument("conveyor: WeightedRandomSampler weights sum to infinity");
  if (!replacement_ && num_samples_ > non_zero)
    throw std::invalid_argument("conveyor: WeightedRandomSampler without replacement cannot draw " +
                                std::to_string(num_samples_) + " samples from " + std::to_string(non_zero) +
                                " non-zero weights");
}

std::size_t WeightedRandomSampler::num_samples(std::size_t dataset_size) const {
  if (dataset_size < weights_.size())
    throw std::invalid_argument("conveyor: WeightedRandomSampler has " + std::to_string(weights_.size()) +
                                " weights but the dataset has only " + std::to_string(dataset_size) + " rows");
  return num_samples_;
}

std::vector<std::size_t> WeightedRandomSampler::indices(std::size_t dataset_size, std::uint64_t epoch) const {
  const std::size_t count = num_samples(dataset_size);
  detail::Rng rng = rng_for(seed_, epoch, Stream::weighted);
  return replacement_ ? draw_with_replacement(weights_, count, rng) : draw_without_replacement(weights_, count, rng);
}

UserSampler::UserSampler(Function function) : function_(std::move(function)) {
  if (!function_) throw std::invalid_argument("conveyor: UserSampler needs a function");
}

std::size_t UserSampler::num_samples(std::size_t dataset_size) const { return indices(dataset_size, 0).size(); }

std::vector<std::size_t> UserSampler::indices(std::size_t dataset_size, std::uint64_t epoch) const {
  std::vector<std::size_t> order = function_(dataset_size, epoch);
  check_in_range(order, dataset_size, "UserSampler");
  return order;
}

}  // namespace conveyor
