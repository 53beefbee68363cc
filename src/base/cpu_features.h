// Which instruction-set extensions this CPU has AND the operating system lets this process
// use (XCR0 register state, AMX tile permission), detected once.
#pragma once

#include <string>

namespace bamba {

struct CpuFeatures {
  bool avx2 = false;  // with FMA and F16C, and AVX state enabled by the OS
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;  // the AVX-512 ones also need opmask/ZMM state enabled by the OS
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_bf16 = false;
  bool avx512_vnni = false;
  bool amx_tile = false;  // the AMX ones also need tile state and the kernel's permission
  bool amx_bf16 = false;
  bool amx_int8 = false;

  // E.g. "avx2 fma f16c avx512f ..." (only the features present).
  [[nodiscard]] std::string to_string() const;
};

// Detected on the first call (which also asks the kernel for AMX tile permission).
[[nodiscard]] const CpuFeatures& cpu_features();

}  // namespace bamba
