// The batch buffer pool (engine/src/memory/buffer_pool.hpp, internal): which idle buffer a request
// gets, and which one a full pool lets go of.
#include <gtest/gtest.h>

#include <memory>

#include "memory/buffer_pool.hpp"

namespace conveyor::detail {
namespace {

TEST(BufferPoolTest, ReusesAnIdleBufferOfTheSizeOrUpToTwiceIt) {
  auto pool = BufferPool::create(4);
  void* big = pool->allocate(1000).get();  // returns to the pool at once
  EXPECT_EQ(pool->reuse(401), nullptr) << "more than twice the size asked for";
  auto reused = pool->reuse(600);
  EXPECT_EQ(reused.get(), big);
  EXPECT_TRUE(pool->owns(reused));
  EXPECT_EQ(pool->reuse(600), nullptr) << "the only idle buffer is taken";
}

TEST(BufferPoolTest, PrefersTheSmallestThatFitsAndOfEqualsTheLastReturned) {
  auto pool = BufferPool::create(4);
  auto large = pool->allocate(1000), small = pool->allocate(700), first = pool->allocate(700);
  void* small_buffer = small.get();
  first.reset();
  small.reset();  // returned after `first`
  large.reset();
  EXPECT_EQ(pool->reuse(600).get(), small_buffer);
}

TEST(BufferPoolTest, AFullPoolLetsGoOfTheBufferIdleLongest) {
  auto pool = BufferPool::create(2);
  auto a = pool->allocate(100), b = pool->allocate(100), c = pool->allocate(5000);
  void* b_buffer = b.get();
  void* c_buffer = c.get();
  a.reset();
  b.reset();  // the pool is full: a, b
  c.reset();  // takes a's place
  auto again_c = pool->reuse(5000);
  auto again_b = pool->reuse(100);
  EXPECT_EQ(again_c.get(), c_buffer);
  EXPECT_EQ(again_b.get(), b_buffer);
  EXPECT_EQ(pool->reuse(100), nullptr) << "a was freed";
}

TEST(BufferPoolTest, APoolOfNoIdleBuffersKeepsNone) {
  auto pool = BufferPool::create(0);
  pool->allocate(64).reset();
  EXPECT_EQ(pool->reuse(64), nullptr);
}

TEST(BufferPoolTest, OwnsOnlyItsOwnBuffers) {
  auto pool = BufferPool::create(1), other = BufferPool::create(1);
  auto mine = pool->allocate(64);
  EXPECT_TRUE(pool->owns(mine));
  EXPECT_FALSE(other->owns(mine));
  EXPECT_FALSE(pool->owns(std::make_shared<int>(0)));
}

}  // namespace
}  // namespace conveyor::detail
