// Pieces several subcommands share: finding the model folder, the --threads / --precision /
// --kv-dtype / --state-dtype flags, id lists on the command line, JSON output, reading files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/dtype.h"
#include "base/thread_pool.h"
#include "kernels/ops.h"

namespace bamba::cli {

// -m DIR; when empty, $BAMBA_MODEL, else the demo model of the source tree. Error when the
// folder does not exist, saying where the path came from.
[[nodiscard]] std::filesystem::path resolve_model_dir(const std::string& model_flag);

// Adds `-m,--model DIR` to `cmd`.
CLI::Option* add_model_flag(CLI::App& cmd, std::string& model_dir);

// --tokenizer FILE when given, else tokenizer.json of the model folder (-m / default).
[[nodiscard]] std::filesystem::path resolve_tokenizer_path(const std::string& tokenizer_flag,
                                                           const std::string& model_flag);

// Storage precision of the decoding state: --kv-dtype and --state-dtype.
struct CacheFlags {
  std::string kv;             // "f32", "bf16" or "int8"; empty: the default of the math precision
  std::string state = "f32";  // "f32" or "bf16"

  // --kv-dtype when given, else F32 for exact f32 math and BF16 otherwise.
  [[nodiscard]] DType kv_dtype(bool exact_math) const;
  [[nodiscard]] DType state_dtype() const;
};

// Adds --kv-dtype and --state-dtype to `cmd`.
void add_cache_flags(CLI::App& cmd, CacheFlags& flags);

// "f32", "bf16" or "int8": a cache dtype as --kv-dtype / --state-dtype spell it.
[[nodiscard]] std::string_view cache_dtype_name(DType dtype);

struct ComputeFlags {
  int threads = 0;               // 0: every CPU this process may use
  std::string precision = "bf16";  // "f32" or "bf16"
  CacheFlags cache;

  [[nodiscard]] kernels::MathMode math_mode() const;
  // The KV cache dtype: --kv-dtype, else the one that goes with the precision.
  [[nodiscard]] DType kv_dtype() const;
  // The SSM state dtype (--state-dtype).
  [[nodiscard]] DType state_dtype() const;
  // The process's one thread pool.
  [[nodiscard]] std::unique_ptr<ThreadPool> make_thread_pool() const;
};

// Adds --threads, --precision, --kv-dtype and --state-dtype to `cmd`.
void add_compute_flags(CLI::App& cmd, ComputeFlags& flags);

// "1,2,3" -> {1, 2, 3}; `what` names the flag in errors (empty list, non-numbers, range).
[[nodiscard]] std::vector<int32_t> parse_id_list(const std::string& text, const std::string& what);

// Checks every id against the vocabulary size; `what` names where they came from.
void check_ids_in_vocab(const std::vector<int32_t>& ids, int64_t vocab_size, const std::string& what);

// One line of JSON; invalid UTF-8 in strings becomes U+FFFD instead of an exception.
[[nodiscard]] std::string json_line(const nlohmann::json& j);

// All of stdin.
[[nodiscard]] std::string read_stdin();

// All of the file at `path`; an Error naming `what` (the flag it came from) and the path.
[[nodiscard]] std::string read_text_file(const std::string& path, const std::string& what);

}  // namespace bamba::cli
