// Shared subcommand pieces; see common.h.
#include "cli/common.h"

#include <charconv>
#include <fstream>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <sstream>

#include "base/error.h"

namespace bamba::cli {

std::filesystem::path resolve_model_dir(const std::string& model_flag) {
  std::filesystem::path dir;
  std::string origin;
  if (!model_flag.empty()) {
    dir = model_flag;
    origin = "-m";
  } else if (const char* env = std::getenv("BAMBA_MODEL"); env != nullptr && *env != '\0') {
    dir = env;
    origin = "BAMBA_MODEL";
  } else {
    dir = std::filesystem::path(BAMBA_SOURCE_DIR) / "models" / "bamba-demo";
    origin = "the default model (no -m and no BAMBA_MODEL given)";
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    fail("model folder ", dir, " from ", origin, " does not exist or is not a folder");
  }
  return dir;
}

CLI::Option* add_model_flag(CLI::App& cmd, std::string& model_dir) {
  return cmd.add_option("-m,--model", model_dir,
                 "model folder (config.json, *.safetensors, tokenizer.json); default: $BAMBA_MODEL, "
                 "else models/bamba-demo of the source tree");
}

std::filesystem::path resolve_tokenizer_path(const std::string& tokenizer_flag,
                                             const std::string& model_flag) {
  if (!tokenizer_flag.empty()) return tokenizer_flag;
  const std::filesystem::path path = resolve_model_dir(model_flag) / "tokenizer.json";
  if (!std::filesystem::exists(path)) fail("the model folder has no tokenizer: ", path, " does not exist");
  return path;
}

kernels::MathMode ComputeFlags::math_mode() const {
  return precision == "f32" ? kernels::MathMode::F32 : kernels::MathMode::BF16;
}

DType CacheFlags::kv_dtype(bool exact_math) const {
  if (kv == "int8") return DType::I8;
  if (kv == "bf16") return DType::BF16;
  if (kv == "f32") return DType::F32;
  return exact_math ? DType::F32 : DType::BF16;
}

DType CacheFlags::state_dtype() const { return state == "bf16" ? DType::BF16 : DType::F32; }

std::string_view cache_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::I8: return "int8";
    case DType::BF16: return "bf16";
    default: return "f32";
  }
}

void add_cache_flags(CLI::App& cmd, CacheFlags& flags) {
  cmd.add_option("--kv-dtype", flags.kv,
                 "KV cache storage: f32, bf16, or int8 (one f32 scale per position and kv head, about half "
                 "of bf16's bytes; lossy); default: f32 with --precision f32, else bf16")
      ->check(CLI::IsMember({"f32", "bf16", "int8"}));
  cmd.add_option("--state-dtype", flags.state,
                 "SSM state storage: f32, or bf16 (half the per-sequence state memory; lossy: the state "
                 "is rounded to bf16 after every forward, so the error builds up along a sequence)")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
}

DType ComputeFlags::kv_dtype() const { return cache.kv_dtype(precision == "f32"); }

DType ComputeFlags::state_dtype() const { return cache.state_dtype(); }

std::unique_ptr<ThreadPool> ComputeFlags::make_thread_pool() const {
  return std::make_unique<ThreadPool>(threads > 0 ? threads : default_thread_count());
}

void add_compute_flags(CLI::App& cmd, ComputeFlags& flags) {
  cmd.add_option("--threads", flags.threads, "threads (default: every CPU available)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--precision", flags.precision,
                 "f32: exact f32 math and (by default) KV cache; bf16: bf16 matmul inputs and KV cache")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  add_cache_flags(cmd, flags.cache);
}

std::vector<int32_t> parse_id_list(const std::string& text, const std::string& what) {
  std::vector<int32_t> ids;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string_view item(text.data() + begin, end - begin);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      fail(what, ": expected comma-separated token ids, found \"", item, "\" in \"", text, "\"");
    }
    if (value < 0 || value > INT32_MAX) fail(what, ": token id ", value, " is out of range");
    ids.push_back(int32_t(value));
    begin = end + 1;
  }
  return ids;
}

void check_ids_in_vocab(const std::vector<int32_t>& ids, int64_t vocab_size, const std::string& what) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size) {
      fail(what, ": token id ", ids[i], " at index ", i, " is outside the vocabulary [0, ", vocab_size, ")");
    }
  }
}

std::string json_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string read_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(what, ": cannot read \"", path, "\"");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace bamba::cli
