#pragma once
/// \file random.hpp
/// conveyor's own deterministic random numbers.
///
/// Hand-written on purpose: std::uniform_int_distribution, std::uniform_real_distribution and
/// std::shuffle are implementation-defined, so the same seed would give different orders with
/// libstdc++, libc++ and MSVC. Everything here is fully specified (splitmix64, xoshiro256**,
/// Lemire's bounded draw, Fisher–Yates), so a seed gives the same numbers on every machine.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <utility>

namespace conveyor::detail {

/// splitmix64's increment, the golden ratio in 64-bit fixed point.
inline constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

/// splitmix64's output function: a bijection on 64-bit words in which every input bit affects
/// every output bit. Pure; thread-safe.
constexpr std::uint64_t finalize(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Hashes a tuple of keys (e.g. {seed, epoch, stream}) to one 64-bit seed. Keys that differ in
/// any bit, or only in their order, give unrelated seeds. Pure; thread-safe.
constexpr std::uint64_t mix(std::initializer_list<std::uint64_t> keys) noexcept {
  std::uint64_t h = 0;
  for (std::uint64_t key : keys) h = finalize((h ^ key) + kGoldenGamma);
  return h;
}

/// xoshiro256** seeded from one word through splitmix64. Not thread-safe: make one per use
/// (e.g. one per (seed, epoch) call), never share one between threads.
class Rng {
 public:
  /// A generator whose whole sequence is determined by `seed`.
  explicit Rng(std::uint64_t seed) noexcept {
    for (std::uint64_t& word : state_) {
      seed += kGoldenGamma;
      word = finalize(seed);
    }
  }

  /// A generator that continues from `state` (from state()).
  static Rng from_state(const std::array<std::uint64_t, 4>& state) noexcept {
    Rng rng(0);
    for (std::size_t i = 0; i < state.size(); ++i) rng.state_[i] = state[i];
    return rng;
  }
  /// The whole state: from_state(state()) continues this generator's sequence.
  std::array<std::uint64_t, 4> state() const noexcept { return {state_[0], state_[1], state_[2], state_[3]}; }

  /// The next 64 uniformly distributed bits.
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// A uniform integer in [0, bound), without bias (Lemire's multiply-and-reject). `bound` must
  /// be > 0; below(0) returns 0.
  std::uint64_t below(std::uint64_t bound) noexcept {
    __extension__ using u128 = unsigned __int128;
    u128 product = static_cast<u128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(product);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
      while (low < threshold) {
        product = static_cast<u128>(next()) * bound;
        low = static_cast<std::uint64_t>(product);
      }
    }
    return static_cast<std::uint64_t>(product >> 64);
  }

  /// A uniform double in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Shuffles the random-access range [first, last) uniformly (Fisher–Yates over below()).
  template <class It>
  void shuffle(It first, It last) noexcept {
    const auto n = static_cast<std::uint64_t>(std::distance(first, last));
    for (std::uint64_t i = 0; i + 1 < n; ++i) {
      const std::uint64_t j = i + below(n - i);
      using std::swap;
      swap(first[static_cast<std::ptrdiff_t>(i)], first[static_cast<std::ptrdiff_t>(j)]);
    }
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

  std::uint64_t state_[4];
};

}  // namespace conveyor::detail
