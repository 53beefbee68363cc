// PCRE2 (UTF + UCP, JIT) matching of the split patterns in tokenizer.json, rewritten first so that they
// mean what they mean in Oniguruma, the engine HF tokenizers uses.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bamba {

class Regex {
 public:
  // `literal`: match `pattern` as plain text. Throws bamba::Error that starts with `where` when the
  // pattern does not compile.
  Regex(std::string_view pattern, bool literal, std::string_view where);

  // Appends the [begin, end) byte ranges of successive matches in valid UTF-8 `text`. An empty match
  // right where the previous match ended is skipped, as Oniguruma's `find_iter` in HF tokenizers does.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

// Rewrites the escapes whose Oniguruma meaning differs from PCRE2's into explicit classes: `\s`/`\S`
// (Unicode White_Space: PCRE2 would also take U+180E) and `\h`/`\H` (hex digit in Oniguruma, horizontal
// space in PCRE2). Exposed for tests.
[[nodiscard]] std::string oniguruma_to_pcre2(std::string_view pattern);

}  // namespace bamba
