// Checks `bamba info` on the benchmark shapes (config.json only: weights computed for bf16),
// on a tiny checkpoint folder (weights measured from the file) and on its quantized copies.
//
// usage: info_check BAMBA SHAPES_DIR TINY_MODEL_DIR
#include <filesystem>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "run_command.h"
#include "scratch_folder.h"

using namespace bamba;
using namespace bamba::testing;
namespace fs = std::filesystem;

namespace {

nlohmann::json info_json(const std::string& bamba, const std::vector<std::string>& source) {
  std::vector<std::string> args = {bamba, "info"};
  args.insert(args.end(), source.begin(), source.end());
  const CommandResult text = run_command(args);
  check(text.exit_code == 0 && text.out.find("parameters") != std::string::npos,
        "info (text) failed: " + text.describe());
  args.push_back("--json");
  const CommandResult r = run_command(args);
  check(r.exit_code == 0, "info --json failed: " + r.describe());
  return nlohmann::json::parse(last_line(r.out));
}

}  // namespace

int main(int argc, char** argv) {
  check(argc == 4, "usage: info_check BAMBA SHAPES_DIR TINY_MODEL_DIR");
  const std::string bamba = argv[1];
  const fs::path shapes = argv[2], tiny = argv[3];

  // Bamba-9B: 9.78B parameters; 3 attention layers with 8 KV heads of 128; 29 mamba layers
  // with conv windows [3, 8448] and SSM states [128, 64, 128] in f32.
  const nlohmann::json b9 = info_json(bamba, {"--config", (shapes / "bamba-9b.json").string()});
  check(b9["n_params_human"] == "9.78B", "bamba-9b: " + b9["n_params_human"].dump() + ", expected 9.78B");
  check(b9["n_layers"] == 32 && b9["attention_layers"] == nlohmann::json({9, 18, 27}), "bamba-9b layers");
  check(b9["weight_bytes_source"] == "computed_bf16" && b9["weight_bytes"] == 2 * b9["n_params"].get<int64_t>(),
        "bamba-9b weight bytes for bf16");
  check(b9["kv_bytes_per_token"]["bf16"] == 3 * 2 * 8 * 128 * 2 && b9["kv_bytes_per_token"]["f32"] == 3 * 2 * 8 * 128 * 4,
        "bamba-9b KV bytes per token: " + b9["kv_bytes_per_token"].dump());
  check(b9["state_bytes_per_sequence"] == int64_t(29) * (3 * 8448 + 128 * 64 * 128) * 4,
        "bamba-9b state bytes: " + b9["state_bytes_per_sequence"].dump());
  check(b9["context_example"]["bytes_bf16_kv"] ==
            b9["state_bytes_per_sequence"].get<int64_t>() + 32768 * b9["kv_bytes_per_token"]["bf16"].get<int64_t>(),
        "bamba-9b 32k context cost");

  // int8 KV: per layer and position, K and V of 8 heads x (128 values + one f32 scale); a bf16
  // SSM state halves the state but not the f32 conv window.
  const nlohmann::json b9q = info_json(bamba, {"--config", (shapes / "bamba-9b.json").string(), "--kv-dtype", "int8",
                                               "--state-dtype", "bf16"});
  check(b9q["kv_dtype"] == "int8" && b9q["state_dtype"] == "bf16", "bamba-9b dtypes: " + b9q["kv_dtype"].dump());
  check(b9q["kv_bytes_per_token"]["int8"] == 3 * 2 * 8 * (128 + 4), "bamba-9b int8 KV bytes per token: " +
                                                                         b9q["kv_bytes_per_token"].dump());
  check(b9q["state_bytes_per_sequence"] == int64_t(29) * (3 * 8448 * 4 + 128 * 64 * 128 * 2),
        "bamba-9b bf16 state bytes: " + b9q["state_bytes_per_sequence"].dump());
  check(b9q["context_example"]["bytes"] == b9q["state_bytes_per_sequence"].get<int64_t>() + 32768 * 3 * 2 * 8 * 132,
        "bamba-9b 32k context cost with int8 KV and bf16 state");

  const nlohmann::json b1 = info_json(bamba, {"--config", (shapes / "bamba-1b.json").string()});
  check(b1["n_params"].get<int64_t>() > 1'800'000'000 && b1["n_params"].get<int64_t>() < 2'000'000'000,
        "bamba-1b parameters: " + b1["n_params"].dump());
  const nlohmann::json t1 = info_json(bamba, {"--config", (shapes / "transformer-1b.json").string()});
  check(t1["n_mamba_layers"] == 0 && t1["state_bytes_per_sequence"] == 0, "transformer-1b has no mamba state");

  // A folder: weight bytes as stored.
  const nlohmann::json tiny_info = info_json(bamba, {"-m", tiny.string()});
  const auto file = io::SafetensorsFile::open(tiny / "model.safetensors");
  int64_t bytes = 0;
  for (const io::TensorInfo& t : file->tensors()) bytes += int64_t(t.nbytes);
  check(tiny_info["weight_bytes_source"] == "file" && tiny_info["weight_bytes"] == bytes,
        "tiny weight bytes: " + tiny_info["weight_bytes"].dump() + ", file has " + std::to_string(bytes));

  // Quantized folders: how their matmuls compute (int8 weights meet int16 activations, int4
  // weights int8 ones).
  const ScratchFolder scratch;
  for (const auto& [type, activations] : {std::pair{"int8", "int16 per 256"}, std::pair{"q4", "int8 per 32"}}) {
    const fs::path out = scratch.path() / type;
    const CommandResult q = run_command({bamba, "quantize", "-m", tiny.string(), "--out", out.string(), "--type", type});
    check(q.exit_code == 0, std::string("quantize ") + type + ": " + q.describe());
    const nlohmann::json info = info_json(bamba, {"-m", out.string()});
    const std::string compute = info["weight_compute"];
    check(compute.find(std::string("activations to ") + activations + " columns") != std::string::npos,
          std::string(type) + " weight_compute: " + compute);
    // The embeddings and lm_head take their own scales.
    const std::string format = info["weight_format"];
    check(format.find("; scale per group of 32 (Embedding, lm_head)") != std::string::npos,
          std::string(type) + " weight_format: " + format);
  }
  return 0;
}
