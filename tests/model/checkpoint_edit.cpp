// EditableCheckpoint (see checkpoint_edit.h).
#include "checkpoint_edit.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "base/error.h"
#include "base/half.h"
#include "golden.h"
#include "io/json_file.h"
#include "io/safetensors.h"

namespace bamba::testing {

EditableCheckpoint::EditableCheckpoint(const std::string& model) {
  std::string pattern = (std::filesystem::temp_directory_path() / "bamba-model-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  const std::filesystem::path source = model_dir(model);
  config_ = io::read_json_file(source / "config.json");
  std::filesystem::copy_file(source / "generation_config.json", dir_ / "generation_config.json");
  const auto file = io::SafetensorsFile::open(source / "model.safetensors");
  for (const io::TensorInfo& t : file->tensors()) {
    tensors_.push_back({t.name, t.dtype, t.shape, std::vector<std::byte>(t.data, t.data + t.nbytes)});
  }
}

EditableCheckpoint::~EditableCheckpoint() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

EditableTensor& EditableCheckpoint::tensor(const std::string& name) {
  for (EditableTensor& t : tensors_) {
    if (t.name == name) return t;
  }
  fail("test checkpoint has no tensor ", name);
}

void EditableCheckpoint::drop(const std::string& name) {
  (void)tensor(name);
  std::erase_if(tensors_, [&](const EditableTensor& t) { return t.name == name; });
}

void EditableCheckpoint::convert(const std::string& name, DType to) {
  EditableTensor& t = tensor(name);
  const size_t n = t.bytes.size() / dtype_size(t.dtype);
  std::vector<double> values(n);
  for (size_t i = 0; i < n; ++i) {
    if (t.dtype == DType::F32) {
      float f;
      std::memcpy(&f, t.bytes.data() + 4 * i, 4);
      values[i] = f;
    } else {
      bf16_t h;
      std::memcpy(&h, t.bytes.data() + 2 * i, 2);
      values[i] = bf16_to_f32(h);
    }
  }
  std::vector<std::byte> out(n * dtype_size(to));
  for (size_t i = 0; i < n; ++i) {
    if (to == DType::F32) {
      const float f = float(values[i]);
      std::memcpy(out.data() + 4 * i, &f, 4);
    } else if (to == DType::F64) {
      std::memcpy(out.data() + 8 * i, &values[i], 8);
    } else {
      const uint16_t h = to == DType::F16 ? f32_to_f16(float(values[i])) : f32_to_bf16(float(values[i]));
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  }
  t.dtype = to;
  t.bytes = std::move(out);
}

const std::filesystem::path& EditableCheckpoint::write() {
  std::ofstream(dir_ / "config.json", std::ios::trunc) << config_.dump(2);
  std::vector<io::TensorToWrite> out;
  for (const EditableTensor& t : tensors_) out.push_back({t.name, t.dtype, t.shape, t.bytes});
  io::write_safetensors(dir_ / "model.safetensors", out);
  return dir_;
}

}  // namespace bamba::testing
