// Checks `bamba bench` on random weights with a tiny checkpoint's shape: the flags and the
// --json fields the speed issue spells out (one object per configuration, in the order of
// the comma lists), several --dtype models measured in turn in one process, and --roofline
// printed first with the results as fractions of it; a quantized folder reports its type.
//
// usage: bench_check BAMBA TINY_CONFIG_JSON
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run_command.h"
#include "scratch_folder.h"

using namespace bamba::testing;

namespace {

std::vector<nlohmann::json> json_lines(const std::vector<std::string>& args) {
  const CommandResult r = run_command(args);
  check(r.exit_code == 0, "bench --json failed: " + r.describe());
  std::vector<nlohmann::json> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

double number(const nlohmann::json& j, const char* key) {
  check(j.contains(key) && j[key].is_number(), std::string("missing number '") + key + "' in " + j.dump());
  return j[key].get<double>();
}

void check_split(const nlohmann::json& r, const char* key) {
  check(r.contains(key), std::string("missing '") + key + "' in " + r.dump());
  double total = 0;
  for (const char* part : {"gemm", "scan", "conv", "attention", "elementwise", "rest"}) total += number(r[key], part);
  check(std::fabs(total - 1.0) < 0.01, std::string(key) + " does not sum to 1: " + r[key].dump());
}

}  // namespace

int main(int argc, char** argv) {
  check(argc == 3, "usage: bench_check BAMBA TINY_CONFIG_JSON");
  const std::string bamba = argv[1], config = argv[2];

  // Every combination, dtype outermost, then depth, batch, prompt, decode.
  const std::vector<nlohmann::json> results =
      json_lines({bamba, "bench", "--synthetic", config, "--dtype", "bf16,int8,q4", "-p", "0,8", "-n", "3", "--depth",
                  "0,5", "--batch", "1,2", "--reps", "1", "--threads", "2", "--json"});
  check(results.size() == 24, "expected 24 configurations, found " + std::to_string(results.size()));
  size_t i = 0;
  double weight_bytes[3] = {};
  for (int d = 0; d < 3; ++d) {
    const std::string dtype = d == 0 ? "bf16" : d == 1 ? "int8" : "q4";
    for (int depth : {0, 5}) {
      for (int batch : {1, 2}) {
        for (int prompt : {0, 8}) {
          const nlohmann::json& r = results[i++];
          check(r.value("dtype", "") == dtype && number(r, "depth") == depth && number(r, "batch") == batch &&
                    number(r, "n_prompt") == prompt && number(r, "n_decode") == 3,
                "configuration " + std::to_string(i) + " out of order: " + r.dump());
          check(number(r, "decode_tokens_per_s") > 0 && number(r, "decode_gb_per_s") > 0, "no decode speed: " + r.dump());
          check(number(r, "peak_rss_bytes") > 0, "no peak RSS: " + r.dump());
          check_split(r, "decode_split");
          if (prompt > 0) {
            check(number(r, "prompt_tokens_per_s") > 0 && number(r, "prompt_gflop_per_s") > 0, "no prompt speed: " + r.dump());
            check_split(r, "prompt_split");
          }
          weight_bytes[d] = number(r, "weight_bytes");
        }
      }
    }
  }
  check(weight_bytes[2] < weight_bytes[1] && weight_bytes[1] < weight_bytes[0],
        "weight bytes should shrink bf16 > int8 > q4: " + std::to_string(weight_bytes[0]) + ", " +
            std::to_string(weight_bytes[1]) + ", " + std::to_string(weight_bytes[2]));

  // --roofline: the machine's figures first, then fractions of them.
  const std::vector<nlohmann::json> roof =
      json_lines({bamba, "bench", "--synthetic", config, "--roofline", "-p", "8", "-n", "2", "--reps", "1", "--threads",
                  "2", "--json"});
  check(roof.size() == 2 && roof[0].contains("roofline"), "expected the roofline, then one configuration");
  for (const char* key : {"read_gb_per_s", "peak_bf16_gflop_per_s", "peak_int8_gop_per_s", "gemm_bf16_m512_gflop_per_s"}) {
    check(number(roof[0]["roofline"], key) > 0, std::string("roofline without ") + key);
  }
  check(number(roof[1], "decode_fraction_of_read_bandwidth") > 0 && number(roof[1], "prompt_fraction_of_peak_bf16") > 0,
        "no fractions of the roofline: " + roof[1].dump());

  // A quantized folder (-m) reports its stored weight type.
  const ScratchFolder scratch;
  const std::string folder = (scratch.path() / "int8").string();
  const CommandResult q = run_command(
      {bamba, "quantize", "-m", std::filesystem::path(config).parent_path().string(), "--out", folder, "--type", "int8"});
  check(q.exit_code == 0, "quantize failed: " + q.describe());
  const std::vector<nlohmann::json> stored =
      json_lines({bamba, "bench", "-m", folder, "-p", "4", "-n", "2", "--reps", "1", "--threads", "2", "--json"});
  check(stored.size() == 1 && stored[0].value("dtype", "") == "int8", "a quantized folder's dtype: " + stored[0].dump());

  // Text output.
  const CommandResult text =
      run_command({bamba, "bench", "--synthetic", config, "-p", "8", "-n", "2", "--reps", "1", "--threads", "2"});
  check(text.exit_code == 0 && text.out.find("decode") != std::string::npos, "bench (text) failed: " + text.describe());
  return 0;
}
