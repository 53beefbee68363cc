// `bamba bench`: prompt and decode speed of a real model (-m) or of random weights with a
// real shape (--synthetic), over a grid of prompt lengths, decode lengths, context depths and
// batch sizes; medians over repetitions, the split of time between op classes, and with
// --roofline every figure as a fraction of this machine's measured limits.
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/error.h"
#include "cli/command.h"
#include "cli/common.h"
#include "cli/synthetic_model.h"
#include "kernels/dispatch.h"
#include "kernels/op_profile.h"
#include "kernels/roofline.h"
#include "model/model.h"

namespace bamba::cli {
namespace {

struct BenchFlags {
  std::string model_dir;
  std::string synthetic;
  std::vector<std::string> dtypes = {"bf16"};  // one model after another, in this process
  std::string prompt = "512";
  std::string decode = "128";
  std::string depth = "0";
  std::string batch = "1";
  int64_t ubatch = 512;
  CacheFlags cache;
  int threads = 0;
  int reps = 3;
  bool json = false;
  bool roofline = false;
};

// "512,1024" -> {512, 1024}; every value >= min_value.
std::vector<int64_t> parse_sizes(const std::string& text, const std::string& flag, int64_t min_value) {
  std::vector<int64_t> out;
  for (int32_t v : parse_id_list(text, flag)) {
    if (v < min_value) fail(flag, ": expected values >= ", min_value, ", found ", v);
    out.push_back(v);
  }
  return out;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The resident-set peak since the last reset_peak_rss() (VmHWM), else since the start.
int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:  123 kB"
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t(usage.ru_maxrss) * 1024;
}

// Starts a new resident-set peak at the current size (Linux: "5" to clear_refs resets
// VmHWM), after handing the heap's free memory back (malloc_trim), so that each --dtype's
// model is measured nearly alone.
void reset_peak_rss() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

struct Config {
  int64_t prompt = 0, decode = 0, depth = 0, batch = 1;
};

// The --dtype name of a folder's quantized weights ("int8", "q4", "fp8"), or `float_dtype`.
std::string stored_weights_name(const QuantConfig& quant, const std::string& float_dtype) {
  switch (quant.format) {
    case WeightFormat::Int8: return "int8";
    case WeightFormat::Int4: return "q4";
    case WeightFormat::Fp8: return "fp8";
    case WeightFormat::Float: break;
  }
  return float_dtype;
}

// CPU seconds this process has used (all threads).
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto sec = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return sec(usage.ru_utime) + sec(usage.ru_stime);
}

// One measured phase: wall time, CPU time and the op profile over it.
struct Phase {
  double seconds = 0;
  double cpu_seconds = 0;
  kernels::OpProfile ops;
};

class Bench {
 public:
  Bench(Model& model, ThreadPool& pool, DType kv_dtype, DType state_dtype, int64_t ubatch)
      : model_(model),
        config_(model.config()),
        pool_(pool),
        kv_dtype_(kv_dtype),
        state_dtype_(state_dtype),
        ubatch_(ubatch) {}

  // Feeds `n` tokens to `seq` in chunks of ubatch, logits for the last one only.
  void feed(StateCache& cache, int seq, int64_t n) {
    for (int64_t done = 0; done < n;) {
      const int64_t len = std::min(ubatch_, n - done);
      Batch batch;
      batch.tokens.resize(size_t(len));
      for (int64_t t = 0; t < len; ++t) batch.tokens[size_t(t)] = token(done + t);
      batch.sequences.push_back({seq, 0, len});
      done += len;
      if (done == n) batch.logit_rows.push_back(len - 1);
      logits_.resize(size_t(config_.vocab_size));
      model_.forward(batch, cache, logits_.data(), pool_);
    }
  }

  StateCache make_cache(const Config& c) const {
    StateCacheOptions options;
    options.max_sequences = int(c.batch);
    options.kv_dtype = kv_dtype_;
    options.state_dtype = state_dtype_;
    const int64_t positions = c.depth + std::max(c.prompt, c.decode) + 1;
    options.kv_block_count = c.batch * ((positions + options.block_len - 1) / options.block_len);
    return StateCache(config_, options);
  }

  // p tokens of one sequence after `depth` tokens of context.
  Phase prompt(const Config& c) {
    StateCache cache = make_cache(c);
    const int seq = *cache.acquire();
    feed(cache, seq, c.depth);
    kernels::reset_op_profile();
    const double start = now_s(), cpu_start = cpu_seconds();
    feed(cache, seq, c.prompt);
    return {now_s() - start, cpu_seconds() - cpu_start, kernels::op_profile()};
  }

  // n steps of one token for each of `batch` sequences, each after `depth` tokens.
  Phase decode(const Config& c) {
    StateCache cache = make_cache(c);
    std::vector<int> seqs;
    for (int64_t b = 0; b < c.batch; ++b) {
      seqs.push_back(*cache.acquire());
      feed(cache, seqs.back(), c.depth);
    }
    logits_.resize(size_t(c.batch * config_.vocab_size));
    kernels::reset_op_profile();
    const double start = now_s(), cpu_start = cpu_seconds();
    for (int64_t step = 0; step < c.decode; ++step) {
      Batch batch;
      for (int64_t b = 0; b < c.batch; ++b) {
        batch.tokens.push_back(token(c.depth + step + b));
        batch.sequences.push_back({seqs[size_t(b)], b, b + 1});
        batch.logit_rows.push_back(b);
      }
      model_.forward(batch, cache, logits_.data(), pool_);
    }
    return {now_s() - start, cpu_seconds() - cpu_start, kernels::op_profile()};
  }

  const ModelConfig& config() const { return config_; }
  DType kv_dtype() const { return kv_dtype_; }
  DType state_dtype() const { return state_dtype_; }

 private:
  // A fixed pseudo-random token id for position i.
  int32_t token(int64_t i) const { return int32_t((uint64_t(i) * 2654435761u + 12345u) % uint64_t(config_.vocab_size)); }

  Model& model_;
  const ModelConfig& config_;
  ThreadPool& pool_;
  DType kv_dtype_;
  DType state_dtype_;
  int64_t ubatch_;
  std::vector<float> logits_;
};

// Time split of a phase: each op class, and the rest (model code between the ops).
nlohmann::json split_of(const Phase& phase) {
  const char* names[kernels::kOpClassCount] = {"gemm", "scan", "conv", "attention", "elementwise"};
  nlohmann::json out;
  double ops = 0;
  for (int i = 0; i < kernels::kOpClassCount; ++i) {
    out[names[i]] = phase.ops.seconds[size_t(i)] / phase.seconds;
    ops += phase.ops.seconds[size_t(i)];
  }
  out["rest"] = std::max(0.0, phase.seconds - ops) / phase.seconds;
  return out;
}

// The rep whose time is the median (the lower middle one for an even count).
const Phase& median_phase(std::vector<Phase>& phases) {
  std::sort(phases.begin(), phases.end(), [](const Phase& a, const Phase& b) { return a.seconds < b.seconds; });
  return phases[(phases.size() - 1) / 2];
}

std::string split_text(const nlohmann::json& split) {
  std::string out;
  for (const auto& [name, share] : split.items()) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%s %.0f%%", out.empty() ? "" : ", ", name.c_str(), 100 * share.get<double>());
    out += buf;
  }
  return out;
}

// cpu_share: CPU time over wall time × threads; well below 1 means other processes held
// the cores (or threads waited on memory-bound partners), so the figures understate speed.
nlohmann::json run_config(Bench& bench, const Config& c, int reps, int threads) {
  const ModelConfig& mc = bench.config();
  nlohmann::json r = {{"n_prompt", c.prompt}, {"n_decode", c.decode}, {"depth", c.depth}, {"batch", c.batch}};
  if (c.prompt > 0) {
    std::vector<Phase> runs;
    for (int i = 0; i < reps; ++i) runs.push_back(bench.prompt(c));
    std::vector<double> rates;
    for (const Phase& p : runs) rates.push_back(double(c.prompt) / p.seconds);
    const Phase& mid = median_phase(runs);
    r["prompt_tokens_per_s"] = median(rates);
    r["prompt_seconds"] = mid.seconds;
    r["prompt_gflop_per_s"] = mid.ops.gemm_flops / mid.seconds * 1e-9;
    r["prompt_gemm_gflop_per_s"] = mid.ops.gemm_flops / std::max(1e-12, mid.ops.seconds[0]) * 1e-9;
    r["prompt_split"] = split_of(mid);
    r["prompt_cpu_share"] = mid.cpu_seconds / (mid.seconds * threads);
  }
  if (c.decode > 0) {
    std::vector<Phase> runs;
    for (int i = 0; i < reps; ++i) runs.push_back(bench.decode(c));
    std::vector<double> rates;
    for (const Phase& p : runs) rates.push_back(double(c.batch * c.decode) / p.seconds);
    const Phase& mid = median_phase(runs);
    // Bytes one step reads: the weights its matmuls stream, and per sequence the KV cache
    // up to its average context (int8 scales included) and the recurrent state.
    const double mean_context = double(c.depth) + double(c.decode - 1) / 2 + 1;
    const double kv_bytes = double(c.batch) * mean_context * double(mc.kv_bytes_per_token(bench.kv_dtype()));
    const double state_bytes = double(c.batch) * double(mc.state_bytes_per_sequence(bench.state_dtype()));
    const double step_bytes = mid.ops.gemm_weight_bytes / double(c.decode) + kv_bytes + state_bytes;
    r["decode_tokens_per_s"] = median(rates);
    r["decode_step_seconds"] = mid.seconds / double(c.decode);
    r["decode_bytes_per_step"] = step_bytes;
    r["decode_gb_per_s"] = step_bytes / (mid.seconds / double(c.decode)) * 1e-9;
    r["decode_split"] = split_of(mid);
    r["decode_cpu_share"] = mid.cpu_seconds / (mid.seconds * threads);
  }
  r["peak_rss_bytes"] = peak_rss_bytes();
  return r;
}

// The machine's limits, and our own bf16 GEMM at M=512, K=N=4096 for comparison.
nlohmann::json measure_roofline(ThreadPool& pool) {
  const kernels::PeakRate bf16 = kernels::measure_peak_bf16(pool);
  const kernels::PeakRate int8 = kernels::measure_peak_int8(pool);
  const double bandwidth = kernels::measure_read_bandwidth(pool, int64_t(1) << 30);
  constexpr int64_t kM = 512, kN = 4096, kK = 4096;
  std::vector<uint16_t> w(size_t(kN * kK), 0x3c00);  // bf16 1/128
  std::vector<float> x(size_t(kM * kK), 0.5f), y(size_t(kM * kN));
  const kernels::Matrix matrix{w.data(), DType::BF16, kN, kK};
  std::vector<double> times;
  for (int rep = 0; rep < 5; ++rep) {
    const double start = now_s();
    kernels::matmul(x.data(), kM, kK, matrix, y.data(), kN, kernels::MathMode::BF16, pool);
    times.push_back(now_s() - start);
  }
  return {{"read_gb_per_s", bandwidth * 1e-9},
          {"peak_bf16_gflop_per_s", bf16.per_s * 1e-9},
          {"peak_bf16_isa", bf16.isa},
          {"peak_int8_gop_per_s", int8.per_s * 1e-9},
          {"peak_int8_isa", int8.isa},
          {"gemm_bf16_m512_gflop_per_s", 2.0 * kM * kN * kK / median(times) * 1e-9},
          {"kernel_isa", kernels::isa_name(kernels::active_isa())},
          {"threads", pool.size()}};
}

// Each figure of a result as a fraction of the machine's limits.
void add_fractions(nlohmann::json& r, const nlohmann::json& roof) {
  const double bw = roof["read_gb_per_s"], peak = roof["peak_bf16_gflop_per_s"];
  const double gemm = roof["gemm_bf16_m512_gflop_per_s"];
  if (r.contains("decode_gb_per_s")) r["decode_fraction_of_read_bandwidth"] = r["decode_gb_per_s"].get<double>() / bw;
  if (r.contains("prompt_gflop_per_s")) {
    const double rate = r["prompt_gflop_per_s"];
    r["prompt_fraction_of_peak_bf16"] = rate / peak;
    r["prompt_fraction_of_gemm_bf16_m512"] = rate / gemm;
  }
}

void print_text(const nlohmann::json& r) {
  std::printf("p=%-6lld n=%-4lld depth=%-6lld batch=%-3lld", r["n_prompt"].get<long long>(),
              r["n_decode"].get<long long>(), r["depth"].get<long long>(), r["batch"].get<long long>());
  if (r.contains("prompt_tokens_per_s")) {
    std::printf("  prompt %8.1f t/s %7.1f GFLOP/s", r["prompt_tokens_per_s"].get<double>(),
                r["prompt_gflop_per_s"].get<double>());
    if (r.contains("prompt_fraction_of_peak_bf16")) {
      std::printf(" (%.0f%% of peak, %.0f%% of GEMM m512)", 100 * r["prompt_fraction_of_peak_bf16"].get<double>(),
                  100 * r["prompt_fraction_of_gemm_bf16_m512"].get<double>());
    }
  }
  if (r.contains("decode_tokens_per_s")) {
    std::printf("  decode %7.2f t/s %6.1f GB/s", r["decode_tokens_per_s"].get<double>(),
                r["decode_gb_per_s"].get<double>());
    if (r.contains("decode_fraction_of_read_bandwidth")) {
      std::printf(" (%.0f%% of read bandwidth)", 100 * r["decode_fraction_of_read_bandwidth"].get<double>());
    }
  }
  std::printf("  peak RSS %.2f GB\n", r["peak_rss_bytes"].get<double>() * 1e-9);
  if (r.contains("prompt_split")) {
    std::printf("    prompt time: %s (cpu share %.2f)\n", split_text(r["prompt_split"]).c_str(),
                r["prompt_cpu_share"].get<double>());
  }
  if (r.contains("decode_split")) {
    std::printf("    decode time: %s (cpu share %.2f)\n", split_text(r["decode_split"]).c_str(),
                r["decode_cpu_share"].get<double>());
  }
}

int run_bench(const BenchFlags& flags) {
  if (flags.synthetic.empty() == flags.model_dir.empty()) fail("bench: give exactly one of --synthetic and -m");
  const std::vector<int64_t> prompts = parse_sizes(flags.prompt, "-p", 0);
  const std::vector<int64_t> decodes = parse_sizes(flags.decode, "-n", 0);
  const std::vector<int64_t> depths = parse_sizes(flags.depth, "--depth", 0);
  const std::vector<int64_t> batches = parse_sizes(flags.batch, "--batch", 1);
  if (flags.dtypes.size() > 1 && flags.synthetic.empty()) {
    fail("bench: -m runs the folder's weights as stored: give one --dtype (bf16 or f32), found ", flags.dtypes.size());
  }
  ThreadPool pool(flags.threads > 0 ? flags.threads : default_thread_count());

  nlohmann::json roof;
  if (flags.roofline) {
    roof = measure_roofline(pool);
    if (flags.json) {
      std::cout << json_line({{"roofline", roof}}) << std::endl;
    } else {
      std::printf("machine: read %.1f GB/s; peak bf16 %.0f GFLOP/s (%s); peak int8 %.0f GOP/s (%s); "
                  "our bf16 GEMM m512 %.0f GFLOP/s (%s), %d threads\n",
                  roof["read_gb_per_s"].get<double>(), roof["peak_bf16_gflop_per_s"].get<double>(),
                  roof["peak_bf16_isa"].get<std::string>().c_str(), roof["peak_int8_gop_per_s"].get<double>(),
                  roof["peak_int8_isa"].get<std::string>().c_str(),
                  roof["gemm_bf16_m512_gflop_per_s"].get<double>(), roof["kernel_isa"].get<std::string>().c_str(),
                  pool.size());
    }
  }

  kernels::set_op_profiling(true);
  for (const std::string& dtype : flags.dtypes) {
    reset_peak_rss();
    const bool f32 = dtype == "f32";
    const LoadOptions load{f32 ? kernels::MathMode::F32 : kernels::MathMode::BF16};
    std::unique_ptr<Model> model;
    std::string source;
    if (!flags.synthetic.empty()) {
      const std::filesystem::path path = synthetic_config_path(flags.synthetic);
      source = "synthetic:" + path.stem().string();
      model = build_synthetic_model(path, dtype, load, pool);
    } else {
      source = flags.model_dir;
      model = Model::load(resolve_model_dir(flags.model_dir), load);
    }
    // A folder's weights are as stored: its quantization format, or floats used per --dtype.
    const std::string weights = flags.synthetic.empty() ? stored_weights_name(model->config().quant, dtype) : dtype;
    if (!flags.json) {
      std::printf("%s, %s weights, %.2f GB, %d threads, kernels %s, medians of %d\n", source.c_str(), weights.c_str(),
                  double(model->weight_bytes()) * 1e-9, pool.size(),
                  std::string(kernels::isa_name(kernels::active_isa())).c_str(), flags.reps);
    }

    Bench bench(*model, pool, flags.cache.kv_dtype(f32), flags.cache.state_dtype(), flags.ubatch);
    for (int64_t depth : depths) {
      for (int64_t batch : batches) {
        for (int64_t prompt : prompts) {
          for (int64_t decode : decodes) {
            nlohmann::json r = run_config(bench, {prompt, decode, depth, batch}, flags.reps, pool.size());
            r["model"] = source;
            r["dtype"] = weights;
            r["kv_dtype"] = cache_dtype_name(bench.kv_dtype());
            r["state_dtype"] = cache_dtype_name(bench.state_dtype());
            r["threads"] = pool.size();
            r["kernel_isa"] = kernels::isa_name(kernels::active_isa());
            r["weight_bytes"] = model->weight_bytes();
            if (flags.roofline) add_fractions(r, roof);
            if (flags.json) {
              std::cout << json_line(r) << std::endl;
            } else {
              print_text(r);
              std::fflush(stdout);
            }
          }
        }
      }
    }
  }
  kernels::set_op_profiling(false);
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& root) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = root.add_subcommand("bench", "prompt and decode speed, real or random weights");
  add_model_flag(*cmd, flags->model_dir);
  cmd->add_option("--synthetic", flags->synthetic,
                  "random weights in memory with the shape of bench/shapes/NAME.json (bamba-9b, bamba-1b, "
                  "transformer-1b) or of a config.json path");
  cmd->add_option("--dtype", flags->dtypes,
                  "bf16: bf16 weights, bf16 matmul inputs and KV; f32: exact f32; int8 / q4 (--synthetic): weights "
                  "quantized as `bamba quantize --type int8|q4` does, bf16 KV (--kv-dtype overrides the KV's). "
                  "A comma list (--synthetic) measures each in turn in this process, for ratios from one run")
      ->delimiter(',')
      ->check(CLI::IsMember({"f32", "bf16", "int8", "q4"}))
      ->capture_default_str();
  cmd->add_option("-p,--prompt", flags->prompt, "prompt tokens (comma list: one configuration each)")
      ->capture_default_str();
  cmd->add_option("-n,--decode", flags->decode, "decoded tokens per sequence (comma list)")->capture_default_str();
  cmd->add_option("--depth", flags->depth, "tokens already in the context before measuring (comma list)")
      ->capture_default_str();
  cmd->add_option("--batch", flags->batch, "sequences decoding together (comma list)")->capture_default_str();
  cmd->add_option("--ubatch", flags->ubatch, "prompt tokens per forward call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_cache_flags(*cmd, flags->cache);
  cmd->add_option("--threads", flags->threads, "threads (default: every CPU available)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--reps", flags->reps, "repetitions; medians are reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "one JSON object per configuration");
  cmd->add_flag("--roofline", flags->roofline,
                "measure read bandwidth and peak bf16/int8 rates first, and report fractions of them");
  return {cmd, [flags] { return run_bench(*flags); }};
}

}  // namespace bamba::cli
