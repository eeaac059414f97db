#pragma once
// Checks on the exceptions ops throw.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace conveyor::ops::testing {

/// Runs `call`, expecting std::invalid_argument whose message starts with `prefix` (e.g.
/// "conveyor: decode: ") and contains `fragment`.
template <class Call>
void expect_invalid_argument(Call&& call, const std::string& prefix, const std::string& fragment = "") {
  try {
    call();
    ADD_FAILURE() << "expected std::invalid_argument starting \"" << prefix << "\"";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(prefix, 0), 0u) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what << "\n  lacks \"" << fragment << "\"";
  }
}

}  // namespace conveyor::ops::testing
