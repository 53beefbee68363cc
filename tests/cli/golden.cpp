// Golden readers; see golden.h.
#include "golden.h"

#include <cstring>
#include <fstream>

#include "run_command.h"

namespace bamba::testing {
namespace {

template <class T>
std::vector<T> read_tensor(const io::SafetensorsFile& file, const std::string& name, DType dtype) {
  const io::TensorInfo* t = file.find(name);
  check(t != nullptr && t->dtype == dtype, "golden tensor " + name + " missing or of another dtype");
  std::vector<T> v(size_t(t->numel()));
  std::memcpy(v.data(), t->data, t->nbytes);
  return v;
}

}  // namespace

Golden Golden::open(const std::filesystem::path& model_dir) {
  Golden g;
  g.file = io::SafetensorsFile::open(model_dir / "golden.safetensors");
  std::ifstream in(model_dir / "golden.json");
  g.description = nlohmann::json::parse(in);
  g.lengths = g.description.at("lengths").get<std::vector<int64_t>>();
  return g;
}

std::vector<int32_t> Golden::ids(const std::string& name) const { return read_tensor<int32_t>(*file, name, DType::I32); }

std::vector<float> Golden::floats(const std::string& name) const { return read_tensor<float>(*file, name, DType::F32); }

}  // namespace bamba::testing
