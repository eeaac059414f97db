// conveyor._core.Tensor: a batch column as Python sees it. It exports its memory through the
// buffer protocol (np.asarray) and DLPack (torch.from_dlpack), both without copying.
#include <dlpack/dlpack.h>
#include <pybind11/stl.h>

#include "core/convert.hpp"
#include "core/registry.hpp"

namespace conveyor::python {
namespace {

std::string buffer_format(DType dtype) {
  switch (dtype) {
    case DType::boolean: return "?";
    case DType::u8: case DType::bytes: return "B";
    case DType::i8: return "b";
    case DType::u16: return "H";
    case DType::i16: return "h";
    case DType::u32: return "I";
    case DType::i32: return "i";
    case DType::u64: return "Q";
    case DType::i64: return "q";
    case DType::f16: return "e";
    case DType::f32: return "f";
    case DType::f64: return "d";
  }
  return "B";
}

DLDataType dlpack_dtype(DType dtype) {
  auto bits = static_cast<std::uint8_t>(8 * itemsize(dtype));
  switch (dtype) {
    case DType::boolean: return {static_cast<std::uint8_t>(6), 8, 1};  // kDLBool, which DLPack 0.6 predates
    case DType::i8: case DType::i16: case DType::i32: case DType::i64: return {kDLInt, bits, 1};
    case DType::f16: case DType::f32: case DType::f64: return {kDLFloat, bits, 1};
    default: return {kDLUInt, bits, 1};
  }
}

// What a DLPack consumer holds: the tensor (and so its bytes) plus shape and strides.
struct DLPackContext {
  Tensor tensor;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
  DLManagedTensor managed{};
};

py::capsule to_dlpack(const Tensor& tensor) {
  auto* ctx = new DLPackContext{tensor, tensor.shape(), {}, {}};
  for (auto s : tensor.strides()) ctx->strides.push_back(s / static_cast<std::int64_t>(itemsize(tensor.dtype())));
  DLTensor& dl = ctx->managed.dl_tensor;
  dl.data = tensor.data();
  dl.device = {kDLCPU, 0};
  dl.ndim = static_cast<std::int32_t>(tensor.ndim());
  dl.dtype = dlpack_dtype(tensor.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  dl.byte_offset = 0;
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = [](DLManagedTensor* self) { delete static_cast<DLPackContext*>(self->manager_ctx); };
  // A consumer renames the capsule to "used_dltensor" and calls the deleter itself; one that
  // never consumes it leaves that to the capsule.
  PyObject* capsule = PyCapsule_New(&ctx->managed, "dltensor", [](PyObject* self) {
    if (!PyCapsule_IsValid(self, "dltensor")) return;
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(self, "dltensor"));
    managed->deleter(managed);
  });
  if (!capsule) {
    delete ctx;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(capsule);
}

}  // namespace

void register_tensor(py::module_& m) {
  py::class_<Tensor>(m, "Tensor", py::buffer_protocol(),
                     "A column of a row or batch: shared memory, exported to NumPy (buffer protocol) and "
                     "torch (DLPack) without copying.")
      .def_buffer([](const Tensor& t) {
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
        std::vector<py::ssize_t> strides(t.strides().begin(), t.strides().end());
        return py::buffer_info(t.data(), static_cast<py::ssize_t>(itemsize(t.dtype())), buffer_format(t.dtype()),
                               static_cast<py::ssize_t>(t.ndim()), shape, strides);
      })
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("dtype", [](const Tensor& t) { return numpy_dtype(t.dtype()); })
      .def_property_readonly("ndim", &Tensor::ndim)
      .def_property_readonly("nbytes", &Tensor::nbytes)
      .def_property_readonly("data_ptr", [](const Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.data()); },
                             "Address of the first element (to check that views share memory).")
      .def("asnumpy", &array_from_tensor, "A NumPy array over the same memory.")
      .def(
          "__array__",
          [](const Tensor& t, py::object dtype, py::object copy) {
            py::object array = array_from_tensor(t);
            if (!dtype.is_none()) array = array.attr("astype")(dtype, py::arg("copy") = !copy.is_none() && copy.cast<bool>());
            else if (!copy.is_none() && copy.cast<bool>()) array = array.attr("copy")();
            return array;
          },
          py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def(
          "__dlpack__",
          [](const Tensor& t, py::kwargs) { return to_dlpack(t); },
          "A DLPack capsule over the same memory (CPU).")
      .def("__dlpack_device__", [](const Tensor&) { return py::make_tuple(static_cast<int>(kDLCPU), 0); })
      .def("__len__",
           [](const Tensor& t) {
             if (t.ndim() == 0) throw py::type_error("len() of a 0-d tensor");
             return t.shape()[0];
           })
      // The values as NumPy prints them (large tensors abbreviated), like torch's tensor(...).
      .def("__repr__",
           [](const Tensor& t) {
             // A bytes column (a str or bytes value) shows as the bytes it holds.
             const py::object values =
                 t.dtype() == DType::bytes && t.ndim() == 1
                     ? py::repr(py::bytes(reinterpret_cast<const char*>(t.contiguous().data()), t.nbytes()))
                     : py::module_::import("numpy").attr("array2string")(
                           array_from_tensor(t), py::arg("separator") = ", ", py::arg("prefix") = "conveyor.Tensor(");
             std::string text = "conveyor.Tensor(" + values.cast<std::string>() + ", dtype=" + std::string(name(t.dtype()));
             if (t.numel() == 0) text += ", shape=" + to_string(t.shape());
             return text + ")";
           })
      .def("__str__", [](const Tensor& t) { return py::str(array_from_tensor(t)); });
}

}  // namespace conveyor::python
