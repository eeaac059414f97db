#include "conveyor/ops/operator.hpp"

#include <algorithm>
#include <stdexcept>

#include <opencv2/core/utility.hpp>

#include "conveyor/ops/color.hpp"

namespace conveyor::ops {
namespace {

const Operator& find(const std::vector<Operator>& all, const std::string& name) {
  auto it = std::find_if(all.begin(), all.end(), [&](const Operator& op) { return op.name == name; });
  if (it == all.end()) throw std::invalid_argument("conveyor: no native operator named '" + name + "'");
  return *it;
}

// Normalize directly followed by HWC2CHW becomes normalize_hwc2chw: one pass, no float HWC copy,
// and, when a batch follows the map, written straight into the batch.
bool fusable(const std::vector<OpSpec>& specs, std::size_t i) {
  return specs[i].name == "Normalize" && i + 1 < specs.size() && specs[i + 1].name == "HWC2CHW";
}

}  // namespace

Arguments::Arguments(const std::string& op, const std::vector<Param>& params, std::map<std::string, Value> values)
    : op_(op) {
  for (const auto& [name, value] : values)
    if (std::none_of(params.begin(), params.end(), [&](const Param& p) { return p.name == name; }))
      throw std::invalid_argument("conveyor: " + op + " has no parameter '" + name + "'");
  for (const Param& p : params) {
    auto given = values.find(p.name);
    Value value = given != values.end() && !std::holds_alternative<std::monostate>(given->second) ? given->second
                                                                                                  : p.default_value;
    if (std::holds_alternative<std::monostate>(value))
      throw std::invalid_argument("conveyor: " + op + " needs '" + p.name + "'");
    values_[p.name] = std::move(value);
  }
}

const Value& Arguments::at(const std::string& name) const { return values_.at(name); }

void Arguments::wrong_kind(const std::string& name, const char* wanted) const {
  throw std::invalid_argument("conveyor: " + op_ + "'s '" + name + "' must be " + wanted);
}

bool Arguments::boolean(const std::string& name) const {
  if (auto* v = std::get_if<bool>(&at(name))) return *v;
  wrong_kind(name, "a bool");
}

std::int64_t Arguments::integer(const std::string& name) const {
  if (auto* v = std::get_if<std::int64_t>(&at(name))) return *v;
  wrong_kind(name, "an integer");
}

double Arguments::number(const std::string& name) const {
  if (auto* v = std::get_if<double>(&at(name))) return *v;
  if (auto* v = std::get_if<std::int64_t>(&at(name))) return static_cast<double>(*v);
  wrong_kind(name, "a number");
}

const std::string& Arguments::text(const std::string& name) const {
  if (auto* v = std::get_if<std::string>(&at(name))) return *v;
  wrong_kind(name, "a string");
}

std::vector<double> Arguments::numbers(const std::string& name) const {
  if (auto* v = std::get_if<std::vector<double>>(&at(name))) return *v;
  wrong_kind(name, "a list of numbers");
}

std::vector<ContextOp> make_ops(const std::vector<OpSpec>& specs) {
  // The engine parallelises across samples; OpenCV's own thread pool inside a kernel would only
  // oversubscribe the cores. This is process-wide, and what every pipeline with native ops wants.
  cv::setNumThreads(0);
  const std::vector<Operator> all = operators();
  std::vector<ContextOp> ops;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const Operator& op = find(all, specs[i].name);
    Arguments args(op.name, op.params, specs[i].values);
    if (fusable(specs, i)) {
      op.make(args);  // validates both as if unfused
      Arguments(specs[i + 1].name, find(all, specs[i + 1].name).params, specs[i + 1].values);
      auto mean = args.numbers("mean"), std = args.numbers("std");
      std::vector<float> m(mean.begin(), mean.end()), s(std.begin(), std.end());
      ops.push_back(normalize_hwc2chw_op(m, s));
      ++i;
      continue;
    }
    ops.push_back(op.make(args));
  }
  return ops;
}

}  // namespace conveyor::ops
