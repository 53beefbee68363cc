// write_safetensors and SafetensorsStreamWriter: the header, then the tensor bytes, written to
// a temporary file that is renamed over the target only once complete (a crash never leaves a
// half-written file).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/json_file.h"
#include "io/safetensors.h"

namespace bamba::io {

namespace {

// Checks one tensor description; returns its byte count.
size_t checked_nbytes(const std::filesystem::path& path, const TensorHeader& t) {
  uint64_t numel = 1;
  for (int64_t d : t.shape) {
    if (d < 0) fail(path.string(), ": tensor '", t.name, "': negative dimension ", d, " in its shape");
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel)) {
      fail(path.string(), ": tensor '", t.name, "': element count overflows 64 bits");
    }
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, dtype_size(t.dtype), &nbytes) || nbytes > uint64_t(SIZE_MAX)) {
    fail(path.string(), ": tensor '", t.name, "': byte count overflows");
  }
  return static_cast<size_t>(nbytes);
}

// The temporary file: removed on every path out unless `keep()` was called.
class TempFile {
 public:
  explicit TempFile(const std::filesystem::path& target) : name_(target.string() + ".XXXXXX") {
    fd_ = ::mkstemp(name_.data());
    if (fd_ < 0) fail(target.string(), ": cannot create a temporary file beside it: ", std::strerror(errno));
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(name_.c_str());
  }

  void write(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(name_, ": write failed: ", std::strerror(errno));
      bytes = bytes.subspan(static_cast<size_t>(n));
    }
  }

  // Flushes, closes and renames over `target`.
  void commit(const std::filesystem::path& target) {
    // mkstemp creates 0600; a checkpoint or dump is meant to be read by others too.
    if (::fchmod(fd_, 0644) != 0 || ::fsync(fd_) != 0) fail(name_, ": cannot finish: ", std::strerror(errno));
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) fail(name_, ": close failed: ", std::strerror(errno));
    if (::rename(name_.c_str(), target.c_str()) != 0) {
      fail(target.string(), ": cannot rename ", name_, " to it: ", std::strerror(errno));
    }
    kept_ = true;
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool kept_ = false;
};

}  // namespace

struct SafetensorsStreamWriter::Impl {
  std::filesystem::path path;
  std::vector<TensorHeader> tensors;
  std::vector<size_t> nbytes;
  std::vector<size_t> order;
  size_t next = 0;     // position in `order` of the tensor being written
  size_t written = 0;  // bytes of it written so far
  TempFile out;

  Impl(const std::filesystem::path& p, std::vector<TensorHeader> t) : path(p), tensors(std::move(t)), out(p) {}
};

SafetensorsStreamWriter::SafetensorsStreamWriter(const std::filesystem::path& path, std::vector<TensorHeader> tensors,
                                                 const std::map<std::string, std::string>& metadata) {
  std::set<std::string_view> names;
  std::vector<size_t> nbytes(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorHeader& t = tensors[i];
    if (t.name == "__metadata__") fail(path.string(), ": \"__metadata__\" is reserved and cannot name a tensor");
    if (!names.insert(t.name).second) fail(path.string(), ": tensor '", t.name, "' is given twice");
    nbytes[i] = checked_nbytes(path, t);
  }

  // Data is packed without gaps (other readers, e.g. the reference implementation, reject
  // gaps), widest element type first: with the data section starting 8-aligned, every
  // tensor then starts at a multiple of its own element size.
  std::vector<size_t> data_order(tensors.size());
  std::iota(data_order.begin(), data_order.end(), size_t{0});
  std::stable_sort(data_order.begin(), data_order.end(),
                   [&](size_t a, size_t b) { return dtype_size(tensors[a].dtype) > dtype_size(tensors[b].dtype); });
  std::vector<size_t> begin(tensors.size());
  size_t offset = 0;
  for (size_t i : data_order) {
    begin[i] = offset;
    offset += nbytes[i];
  }

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorHeader& t = tensors[i];
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {begin[i], begin[i] + nbytes[i]}}};
  }
  std::string header_text;
  try {
    header_text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), ": a tensor name or metadata string is not valid UTF-8: ", json_error_reason(e));
  }
  header_text.resize((header_text.size() + 7) / 8 * 8, ' ');  // data section starts 8-aligned

  std::array<std::byte, 8> length_field{};
  for (size_t i = 0; i < 8; ++i) length_field[i] = std::byte((uint64_t(header_text.size()) >> (8 * i)) & 0xff);

  impl_ = std::make_unique<Impl>(path, std::move(tensors));
  impl_->nbytes = std::move(nbytes);
  impl_->order = std::move(data_order);
  impl_->out.write(length_field);
  impl_->out.write(std::as_bytes(std::span(header_text)));
}

SafetensorsStreamWriter::~SafetensorsStreamWriter() = default;

const std::vector<size_t>& SafetensorsStreamWriter::write_order() const { return impl_->order; }

void SafetensorsStreamWriter::write(size_t index, std::span<const std::byte> bytes) {
  Impl& w = *impl_;
  // Zero-byte tensors are complete before any write.
  if (index < w.tensors.size() && w.nbytes[index] == 0 && bytes.empty()) return;
  while (w.next < w.order.size() && w.nbytes[w.order[w.next]] == 0) ++w.next;
  if (w.next == w.order.size() || w.order[w.next] != index) {
    fail(w.path.string(), ": tensor '", index < w.tensors.size() ? w.tensors[index].name : std::string("?"),
         "' written out of order", w.next < w.order.size() ? str_cat(" (expected '", w.tensors[w.order[w.next]].name, "')") : "");
  }
  if (w.written + bytes.size() > w.nbytes[index]) {
    fail(w.path.string(), ": tensor '", w.tensors[index].name, "' needs ", w.nbytes[index], " bytes, but ",
         w.written + bytes.size(), " were given");
  }
  w.out.write(bytes);
  w.written += bytes.size();
  if (w.written == w.nbytes[index]) {
    ++w.next;
    w.written = 0;
  }
}

void SafetensorsStreamWriter::finish() {
  Impl& w = *impl_;
  while (w.next < w.order.size() && w.nbytes[w.order[w.next]] == 0) ++w.next;
  if (w.next != w.order.size()) {
    fail(w.path.string(), ": tensor '", w.tensors[w.order[w.next]].name, "' was not written completely");
  }
  w.out.commit(w.path);
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorHeader> headers;
  headers.reserve(tensors.size());
  for (const TensorToWrite& t : tensors) headers.push_back({t.name, t.dtype, t.shape});
  SafetensorsStreamWriter out(path, std::move(headers), metadata);  // validates names and shapes
  for (const TensorToWrite& t : tensors) {
    size_t numel = 1;
    for (int64_t d : t.shape) numel *= size_t(d);
    if (numel * dtype_size(t.dtype) != t.data.size()) {
      fail(path.string(), ": tensor '", t.name, "': shape and ", dtype_name(t.dtype), " need ", numel, " x ",
           dtype_size(t.dtype), " bytes, but ", t.data.size(), " bytes were given");
    }
  }
  for (size_t i : out.write_order()) out.write(i, tensors[i].data);
  out.finish();
}

}  // namespace bamba::io
