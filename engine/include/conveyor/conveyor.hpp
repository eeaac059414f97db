#pragma once
/// \file conveyor.hpp
/// Everything a C++ user of conveyor needs: tensors, sources, samplers, datasets, iterators.

#include "conveyor/config.hpp"
#include "conveyor/dataset.hpp"
#include "conveyor/dataset_options.hpp"
#include "conveyor/dtype.hpp"
#include "conveyor/error.hpp"
#include "conveyor/iterator.hpp"
#include "conveyor/memory.hpp"
#include "conveyor/op.hpp"
#include "conveyor/position.hpp"
#include "conveyor/row.hpp"
#include "conveyor/sampler.hpp"
#include "conveyor/slot_op.hpp"
#include "conveyor/source.hpp"
#include "conveyor/stats.hpp"
#include "conveyor/tensor.hpp"
