// Runs `bamba logits` on a tiny checkpoint with every golden prompt, each followed by its 16
// greedy tokens, as ONE batch, and compares the result with the float64 goldens: rows
// [0, n) against logits_n (full forward), rows [n, n+16) against decode_logits_n (token k
// fed at position n+k). Tolerances come from golden.json: fp32_engine for --precision f32,
// bf16_engine otherwise. Further arguments (e.g. --kv-dtype int8) go to `bamba logits`.
//
// usage: logits_check BAMBA MODEL_DIR MODE PRECISION OUT.safetensors [BAMBA_ARGS...]
#include <cmath>
#include <cstdio>
#include <string>

#include "golden.h"
#include "io/safetensors.h"
#include "run_command.h"

using namespace bamba;
using namespace bamba::testing;

namespace {

struct Tolerance {
  double atol = 0, rtol = 0, rms_rel_max = 0;
  bool bf16 = false;  // also: top-1 where the row's gap > 2*atol, mean |diff| per row < atol/4
};

// Compares `rows` rows of `engine` and `golden` ([rows, vocab]); returns failures found.
int compare(const std::string& what, const float* engine, const float* golden, int64_t rows, int64_t vocab,
            const Tolerance& tol) {
  int failures = 0;
  double sq_diff = 0, sq_golden = 0, max_abs = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* e = engine + r * vocab;
    const float* g = golden + r * vocab;
    double row_abs = 0;
    int64_t top_e = 0, top_g = 0;
    float first = -INFINITY, second = -INFINITY;
    for (int64_t v = 0; v < vocab; ++v) {
      const double d = std::abs(double(e[v]) - g[v]);
      if (!(d <= tol.atol + tol.rtol * std::abs(g[v]))) {
        if (++failures <= 5) {
          std::fprintf(stderr, "%s row %lld col %lld: engine %.6f golden %.6f\n", what.c_str(), (long long)r,
                       (long long)v, e[v], g[v]);
        }
      }
      row_abs += d;
      max_abs = std::max(max_abs, d);
      sq_diff += d * d;
      sq_golden += double(g[v]) * g[v];
      if (e[v] > e[top_e]) top_e = v;
      if (g[v] > g[top_g]) top_g = v;
      if (g[v] > first) second = first, first = g[v];
      else if (g[v] > second) second = g[v];
    }
    if (tol.bf16) {
      if (first - second > 2 * tol.atol && top_e != top_g) {
        std::fprintf(stderr, "%s row %lld: top-1 %lld, golden %lld (gap %.3f)\n", what.c_str(), (long long)r,
                     (long long)top_e, (long long)top_g, first - second);
        ++failures;
      }
      if (row_abs / double(vocab) >= tol.atol / 4) {
        std::fprintf(stderr, "%s row %lld: mean |diff| %.4f >= %.4f\n", what.c_str(), (long long)r,
                     row_abs / double(vocab), tol.atol / 4);
        ++failures;
      }
    }
  }
  const double rms_rel = std::sqrt(sq_diff / sq_golden);
  if (rms_rel > tol.rms_rel_max) {
    std::fprintf(stderr, "%s: rms relative error %.3g > %.3g\n", what.c_str(), rms_rel, tol.rms_rel_max);
    ++failures;
  }
  std::printf("%-22s max |diff| %.3g, rms rel %.3g%s\n", what.c_str(), max_abs, rms_rel, failures ? "  FAILED" : "");
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  check(argc >= 6, "usage: logits_check BAMBA MODEL_DIR MODE PRECISION OUT.safetensors [BAMBA_ARGS...]");
  const std::string bamba = argv[1], model_dir = argv[2], mode = argv[3], precision = argv[4], out = argv[5];
  const Golden golden = Golden::open(model_dir);
  const nlohmann::json& t = golden.description.at("tolerances").at(precision == "f32" ? "fp32_engine" : "bf16_engine");
  const Tolerance tol{t.at("logits_atol").get<double>(), t.at("logits_rtol").get<double>(),
                      t.at("logits_rms_rel_max").get<double>(), precision != "f32"};
  const int64_t n_decode = golden.description.at("n_decode").get<int64_t>();

  std::vector<std::string> args = {bamba, "logits", "-m", model_dir, "--out", out, "--mode", mode, "--precision", precision};
  args.insert(args.end(), argv + 6, argv + argc);
  for (int64_t n : golden.lengths) {
    std::string ids;
    for (int32_t id : golden.ids("ids_" + std::to_string(n))) ids += std::to_string(id) + ",";
    for (int32_t id : golden.ids("greedy_" + std::to_string(n))) ids += std::to_string(id) + ",";
    ids.pop_back();
    args.insert(args.end(), {"--ids", ids});
  }
  const CommandResult r = run_command(args);
  check(r.exit_code == 0, "bamba logits failed: " + r.describe());

  const auto engine = io::SafetensorsFile::open(out);
  const int64_t vocab = golden.file->find("logits_1")->shape.at(1);
  int failures = 0;
  for (size_t i = 0; i < golden.lengths.size(); ++i) {
    const int64_t n = golden.lengths[i];
    const io::TensorInfo* e = engine->find("logits_" + std::to_string(i));
    check(e != nullptr && e->dtype == DType::F32 && e->shape == std::vector<int64_t>{n + n_decode, vocab},
          "output tensor logits_" + std::to_string(i) + " missing or of the wrong dtype/shape");
    const float* rows = reinterpret_cast<const float*>(e->data);
    failures += compare("logits_" + std::to_string(n), rows, golden.floats("logits_" + std::to_string(n)).data(),
                        n, vocab, tol);
    failures += compare("decode_logits_" + std::to_string(n), rows + n * vocab,
                        golden.floats("decode_logits_" + std::to_string(n)).data(), n_decode, vocab, tol);
  }
  std::remove(out.c_str());
  check(failures == 0, std::to_string(failures) + " mismatches against the goldens");
  return 0;
}
