// Which instruction-set variant of the kernels runs: chosen once from the CPU's features
// (the best one compiled in and supported), overridden by the environment variable
// BAMBA_ISA=scalar|avx2|avx512|avx512bf16|amx, and switchable by tests that compare every variant.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace bamba::kernels {

// Each level adds to the one before: avx512bf16 = AVX-512 + BF16 dot products (the prompt
// GEMM), amx = that + AMX-BF16 tiles.
enum class Isa : uint8_t { Scalar, Avx2, Avx512, Avx512Bf16, Amx };

[[nodiscard]] std::string_view isa_name(Isa isa);
[[nodiscard]] std::optional<Isa> parse_isa(std::string_view name);

// Compiled into this binary and usable on this CPU and OS.
[[nodiscard]] bool isa_available(Isa isa);
// Every available level, scalar first.
[[nodiscard]] std::vector<Isa> available_isas();

// The level ops.h currently runs; on the first call BAMBA_ISA is read (an unknown or
// unavailable value throws bamba::Error).
[[nodiscard]] Isa active_isa();
// Switches every op to the given level; throws bamba::Error if it is not available.
void set_active_isa(Isa isa);

}  // namespace bamba::kernels
