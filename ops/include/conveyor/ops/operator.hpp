#pragma once
/// \file operator.hpp
/// Operators: the native ops as a pipeline uses them. Each declares its name, parameters and
/// defaults once, here in C++; conveyor.dataset.vision and conveyor.dataset.transforms generate
/// their Python classes from these declarations. Names and parameters follow MindSpore's
/// mindspore.dataset.vision and .transforms, in canonical form (a size is always a list, a
/// padding always {top, bottom, left, right}); the Python wrappers accept MindSpore's shorthands.
///
/// \code
///   auto ops = conveyor::ops::make_ops({{"Decode", {}},
///                                       {"RandomResizedCrop", {{"size", std::vector<double>{224}}}}});
///   dataset.map(ops, {"image"});
/// \endcode

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "conveyor/op.hpp"

namespace conveyor::ops {

/// A parameter's value; std::monostate as a default marks a required parameter.
using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string, std::vector<double>>;

/// One declared parameter.
struct Param {
  std::string name;
  Value default_value;
  std::string doc;
};

/// Argument values by parameter name, defaults filled in, with typed access. Immutable.
class Arguments {
 public:
  /// Checks `values` against `params` (unknown names, missing required values) for operator `op`.
  Arguments(const std::string& op, const std::vector<Param>& params, std::map<std::string, Value> values);
  bool boolean(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  const std::string& text(const std::string& name) const;
  std::vector<double> numbers(const std::string& name) const;

 private:
  const Value& at(const std::string& name) const;
  [[noreturn]] void wrong_kind(const std::string& name, const char* wanted) const;

  std::string op_;
  std::map<std::string, Value> values_;
};

/// A native operator: MindSpore's name, the Python module it belongs to ("vision" or
/// "transforms"), what it does, its parameters, and how to make the op from arguments. The op
/// maps one input column to one output column, draws random numbers (if any) from a generator
/// seeded by its OpContext, and never touches Python.
struct Operator {
  std::string name;
  std::string module;
  std::string doc;
  std::vector<Param> params;
  std::function<ContextOp(const Arguments&)> make;
};

/// Every native operator, built afresh on each call (no registry, no static initialisers).
std::vector<Operator> operators();

/// An operator with its argument values, as a map() list names it.
struct OpSpec {
  std::string name;
  std::map<std::string, Value> values;
};

/// The ops for `specs`, in order, ready for Dataset::map. Adjacent pairs that have a fused
/// kernel are fused (Normalize then HWC2CHW: one pass writing float32 CHW, a SlotOp). Throws
/// std::invalid_argument for an unknown operator or parameter, a missing required value, a value
/// of the wrong kind, or a value the operator rejects.
std::vector<ContextOp> make_ops(const std::vector<OpSpec>& specs);

}  // namespace conveyor::ops
