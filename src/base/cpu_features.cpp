// CPUID + XGETBV + arch_prctl based feature detection (x86-64 Linux; elsewhere: nothing).
#include "base/cpu_features.h"

#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace bamba {
namespace {

#if defined(__x86_64__)
struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx)) return {};
  return r;
}

bool bit(uint32_t reg, int index) { return (reg >> index) & 1u; }

// XCR0: which register states the OS saves on context switch (needs OSXSAVE).
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

// Linux: a process must ask once for the AMX tile-data state before using tiles.
bool request_amx_permission() {
  constexpr int kArchReqXcompPerm = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr int kXfeatureXtiledata = 18;     // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

CpuFeatures detect() {
  CpuFeatures f;
  const uint32_t max_leaf = cpuid(0, 0).eax;
  const CpuidRegs leaf1 = cpuid(1, 0);
  if (!bit(leaf1.ecx, 27)) return f;  // no OSXSAVE: no XGETBV, no AVX state
  const uint64_t xcr0 = read_xcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;            // SSE + AVX (YMM) state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;    // XTILECFG + XTILEDATA
  if (!os_avx || max_leaf < 7) return f;

  const CpuidRegs leaf7 = cpuid(7, 0);
  const CpuidRegs leaf7_1 = cpuid(7, 1);
  f.fma = bit(leaf1.ecx, 12) && bit(leaf1.ecx, 28);
  f.f16c = bit(leaf1.ecx, 29) && bit(leaf1.ecx, 28);
  f.avx2 = bit(leaf7.ebx, 5) && f.fma && f.f16c;
  if (os_avx512) {
    f.avx512f = bit(leaf7.ebx, 16);
    f.avx512dq = f.avx512f && bit(leaf7.ebx, 17);
    f.avx512bw = f.avx512f && bit(leaf7.ebx, 30);
    f.avx512vl = f.avx512f && bit(leaf7.ebx, 31);
    f.avx512_vnni = f.avx512f && bit(leaf7.ecx, 11);
    f.avx512_bf16 = f.avx512f && bit(leaf7_1.eax, 5);
  }
  const bool cpu_amx_tile = bit(leaf7.edx, 24);
  if (os_amx && cpu_amx_tile && request_amx_permission()) {
    f.amx_tile = true;
    f.amx_bf16 = bit(leaf7.edx, 22);
    f.amx_int8 = bit(leaf7.edx, 25);
  }
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

std::string CpuFeatures::to_string() const {
  std::string out;
  const auto add = [&out](bool present, const char* name) {
    if (!present) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512dq, "avx512dq");
  add(avx512_bf16, "avx512_bf16");
  add(avx512_vnni, "avx512_vnni");
  add(amx_tile, "amx_tile");
  add(amx_bf16, "amx_bf16");
  add(amx_int8, "amx_int8");
  return out;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace bamba
