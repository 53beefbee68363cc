// SafetensorsFile: a mapped file plus its validated header.
#include <algorithm>

#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "io/safetensors_header.h"

namespace bamba::io {

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

struct SafetensorsFile::Impl {
  std::filesystem::path path;
  MappedFile mapping;
  SafetensorsHeader header;
};

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  MappedFile mapping = MappedFile::open(path);
  SafetensorsHeader header = parse_safetensors_header(path, mapping.bytes());
  // Every tensor is read on each forward pass: start paging the data in now.
  mapping.prefetch(header.data_begin, mapping.bytes().size() - header.data_begin);
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->impl_ = std::make_unique<Impl>(Impl{path, std::move(mapping), std::move(header)});
  return file;
}

SafetensorsFile::~SafetensorsFile() = default;

const std::filesystem::path& SafetensorsFile::path() const { return impl_->path; }

const std::vector<TensorInfo>& SafetensorsFile::tensors() const { return impl_->header.tensors; }

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto& tensors = impl_->header.tensors;
  const auto it = std::find_if(tensors.begin(), tensors.end(), [&](const TensorInfo& t) { return t.name == name; });
  return it == tensors.end() ? nullptr : &*it;
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->header.metadata; }

}  // namespace bamba::io
