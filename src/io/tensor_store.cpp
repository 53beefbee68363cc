// TensorStore: one name → tensor view over a single-file or sharded checkpoint folder.
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"
#include "io/json_file.h"
#include "io/safetensors.h"

namespace bamba::io {

namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// Whether `path` exists; a failed check (e.g. no permission) counts as absent, never throws.
bool path_exists(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

// weight_map of a shard index: tensor name → shard file name (a plain name inside the folder).
std::map<std::string, std::string> read_weight_map(const std::filesystem::path& index_path) {
  const nlohmann::json index = read_json_file(index_path);
  if (!index.is_object()) fail(index_path.string(), ": expected a JSON object with \"weight_map\", found ", index.type_name());
  const auto it = index.find("weight_map");
  if (it == index.end()) fail(index_path.string(), ": missing \"weight_map\" (tensor name → shard file)");
  if (!it->is_object()) fail(index_path.string(), ": \"weight_map\" is ", it->type_name(), ", expected an object");

  std::map<std::string, std::string> weight_map;
  for (const auto& [tensor, shard] : it->items()) {
    if (!shard.is_string()) {
      fail(index_path.string(), ": weight_map[\"", tensor, "\"] is ", shard.type_name(), ", expected a shard file name");
    }
    const std::string& name = shard.get_ref<const std::string&>();
    const std::filesystem::path shard_path(name);
    // Shards live beside the index: a path that leaves the folder is refused.
    if (name.empty() || name == "." || name == ".." || shard_path.has_parent_path() || shard_path.is_absolute()) {
      fail(index_path.string(), ": weight_map[\"", tensor, "\"] is \"", name, "\", expected a file name in the same folder");
    }
    weight_map.emplace(tensor, name);
  }
  return weight_map;
}

TensorStore open_sharded(const std::filesystem::path& dir, const std::filesystem::path& index_path) {
  const std::map<std::string, std::string> weight_map = read_weight_map(index_path);

  std::map<std::string, std::string> first_tensor_of_shard;  // shard → a tensor mapped to it
  for (const auto& [tensor, shard] : weight_map) first_tensor_of_shard.emplace(shard, tensor);

  std::vector<std::unique_ptr<SafetensorsFile>> files;
  for (const auto& [shard, tensor] : first_tensor_of_shard) {
    const std::filesystem::path shard_path = dir / shard;
    if (!path_exists(shard_path)) {
      fail(index_path.string(), ": shard \"", shard, "\" (holding e.g. tensor '", tensor, "') does not exist in ",
           dir.string());
    }
    files.push_back(SafetensorsFile::open(shard_path));
  }
  TensorStore store = TensorStore::from_files(std::move(files));

  // The index and the shards must agree exactly, so that no weight is silently ignored.
  for (const std::string& tensor : store.names()) {
    const TensorInfo* info = store.find(tensor);
    const auto listed = weight_map.find(tensor);
    if (listed == weight_map.end()) {
      fail(info->file.string(), ": tensor '", tensor, "' is not listed in ", index_path.string());
    }
    if (listed->second != info->file.filename().string()) {
      fail(index_path.string(), ": tensor '", tensor, "' is listed in shard \"", listed->second, "\" but found in ",
           info->file.string());
    }
  }
  for (const auto& [tensor, shard] : weight_map) {
    if (store.find(tensor) == nullptr) {
      fail(index_path.string(), ": tensor '", tensor, "' is listed in shard \"", shard, "\" but ",
           (dir / shard).string(), " does not contain it");
    }
  }
  return store;
}

}  // namespace

TensorStore TensorStore::open_dir(const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    fail(dir.string(), ": not a directory (expected a checkpoint folder with ", kSingleFile, " or ", kIndexFile, ")");
  }
  // Same precedence as transformers: the single file first, then the sharded index.
  if (path_exists(dir / kSingleFile)) {
    std::vector<std::unique_ptr<SafetensorsFile>> files;
    files.push_back(SafetensorsFile::open(dir / kSingleFile));
    return from_files(std::move(files));
  }
  if (path_exists(dir / kIndexFile)) return open_sharded(dir, dir / kIndexFile);
  fail(dir.string(), ": no checkpoint found: looked for ", kSingleFile, " and for ", kIndexFile,
       " (with the shards it lists)");
}

TensorStore TensorStore::from_files(std::vector<std::unique_ptr<SafetensorsFile>> files) {
  TensorStore store;
  for (const auto& file : files) {
    for (const TensorInfo& tensor : file->tensors()) {
      const auto [it, inserted] = store.by_name_.emplace(tensor.name, &tensor);
      if (!inserted) {
        fail("tensor '", tensor.name, "' is present in two files: ", it->second->file.string(), " and ",
             tensor.file.string());
      }
    }
  }
  store.files_ = std::move(files);
  return store;
}

TensorStore TensorStore::from_memory(std::vector<TensorInfo> tensors, std::shared_ptr<const void> storage) {
  TensorStore store;
  store.memory_tensors_ = std::move(tensors);
  store.memory_ = std::move(storage);
  for (const TensorInfo& tensor : store.memory_tensors_) {
    if (!store.by_name_.emplace(tensor.name, &tensor).second) fail("tensor '", tensor.name, "' is given twice");
  }
  return store;
}

const TensorInfo* TensorStore::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> TensorStore::names() const {
  std::vector<std::string> names;
  names.reserve(by_name_.size());
  for (const auto& entry : by_name_) names.push_back(entry.first);
  return names;
}

size_t TensorStore::total_bytes() const {
  size_t total = 0;
  for (const auto& entry : by_name_) total += entry.second->nbytes;
  return total;
}

void TensorStore::release_pages(const TensorInfo& tensor) const {
  if (files_.empty()) return;  // in memory: MADV_DONTNEED would zero the data
  const auto page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (uintptr_t(tensor.data) + page - 1) / page * page;
  const uintptr_t end = (uintptr_t(tensor.data) + tensor.nbytes) / page * page;
  // Only whole pages inside the tensor; a failure merely leaves the pages resident.
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

std::byte* TensorStore::writable(const TensorInfo& tensor) const {
  auto* data = const_cast<std::byte*>(tensor.data);  // in memory: the store's own buffers
  if (files_.empty() || tensor.nbytes == 0) return data;
  const auto page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = uintptr_t(data) / page * page;
  const uintptr_t end = (uintptr_t(data) + tensor.nbytes + page - 1) / page * page;
  if (mprotect(reinterpret_cast<void*>(begin), end - begin, PROT_READ | PROT_WRITE) != 0) {
    fail(tensor.file.string(), ": tensor '", tensor.name, "' cannot be made writable: ", std::strerror(errno));
  }
  return data;
}

}  // namespace bamba::io
