"""Byte-level BPE tokenizer in the layout of the Llama-3 tokenizer.json.

Pre-tokenization is the Llama-3 split regex.  Python's `re` has no \\p{L} / \\p{N},
so the pattern is written with ASCII classes; on printable ASCII text (all the
corpus contains after normalisation, see corpus.normalise) \\p{L} is exactly
[A-Za-z], \\p{N} is exactly [0-9] and \\s is exactly [ \\t\\n\\v\\f\\r], so both
patterns split such text identically.  `check_against_pcre2` verifies this
against the PCRE2 library itself when it is available.
"""
import collections
import ctypes
import ctypes.util
import heapq
import json
import re

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
ASCII_PATTERN = re.compile(
    LLAMA3_PATTERN.replace(r"\p{L}+", "[A-Za-z]+").replace(r"\p{N}{1,3}", "[0-9]{1,3}")
    .replace(r"\p{L}", "A-Za-z").replace(r"\p{N}", "0-9"),
    re.ASCII)

BOS = "<|begin_of_text|>"
EOS = "<|end_of_text|>"


def check_pattern_text(text):
    """The ASCII rendering of the split is only exact on printable ASCII plus newlines."""
    bad = {c for c in set(text) if not (" " <= c <= "~" or c == "\n")}
    if bad:
        raise ValueError(f"characters outside the tokenizer's alphabet: {sorted(bad)!r}")


def pretokenize(text):
    return ASCII_PATTERN.findall(text)


def byte_to_unicode():
    """GPT-2 / HF ByteLevel map: printable bytes map to themselves, the rest to U+0100.."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_CHARS = byte_to_unicode()


def to_symbol(token_bytes):
    return "".join(BYTE_CHARS[b] for b in token_bytes)


# ---------------------------------------------------------------------------------------------
# Training

def merge_word(word, pair, joined):
    """Replace every non-overlapping occurrence of `pair` (left to right) by `joined`."""
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(joined)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def pair_counts_of(word, freq, counts, sign):
    for a, b in zip(word, word[1:]):
        counts[(a, b)] += sign * freq


def train(texts, n_merges, progress=None):
    """Learn `n_merges` merges over the pre-token frequencies of `texts`.

    Pair counts are kept incrementally: a merge only revisits the words that contain
    the merged pair.  The best pair is taken from a lazy max-heap; ties go to the
    smallest pair of byte strings, which makes training deterministic.
    """
    word_freq = collections.Counter()
    for text in texts:
        word_freq.update(pretokenize(text))
    words = [tuple(bytes([b]) for b in w.encode("utf-8")) for w in word_freq]
    freqs = list(word_freq.values())

    counts = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words containing it
    for idx, (word, freq) in enumerate(zip(words, freqs)):
        pair_counts_of(word, freq, counts, +1)
        for pair in zip(word, word[1:]):
            where[pair].add(idx)
    heap = [(-c, pair) for pair, c in counts.items()]
    heapq.heapify(heap)

    merges = []
    while len(merges) < n_merges and heap:
        neg, pair = heapq.heappop(heap)
        if counts.get(pair, 0) != -neg or -neg <= 0:
            continue  # stale heap entry
        joined = pair[0] + pair[1]
        merges.append(pair)
        touched = collections.Counter()
        for idx in sorted(where.pop(pair)):
            old = words[idx]
            new = merge_word(old, pair, joined)
            if new == old:
                continue
            pair_counts_of(old, freqs[idx], touched, -1)
            pair_counts_of(new, freqs[idx], touched, +1)
            for p in zip(new, new[1:]):
                where[p].add(idx)
            words[idx] = new
        for p, delta in touched.items():
            if delta:
                counts[p] += delta
                if counts[p] > 0 and p != pair:
                    heapq.heappush(heap, (-counts[p], p))
        counts.pop(pair, None)
        if progress:
            progress(len(merges), n_merges)
    return merges


# ---------------------------------------------------------------------------------------------
# Encoding

class Tokenizer:
    """Byte-level BPE: ids 0..255 are the bytes, then one id per merge, then BOS and EOS."""

    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.tokens = [bytes([b]) for b in range(256)] + [a + b for a, b in self.merges]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.rank = {m: r for r, m in enumerate(self.merges)}
        self.bos_id = len(self.tokens)
        self.eos_id = len(self.tokens) + 1
        self.vocab_size = len(self.tokens) + 2
        self.cache = {}

    def bpe(self, piece):
        """Apply merges in rank order (lowest rank first, leftmost occurrence first)."""
        word = [bytes([b]) for b in piece]
        while len(word) > 1:
            ranked = [(self.rank.get((a, b), len(self.rank)), i)
                      for i, (a, b) in enumerate(zip(word, word[1:]))]
            best, i = min(ranked)
            if best == len(self.rank):
                break
            word[i:i + 2] = [word[i] + word[i + 1]]
        return [self.ids[t] for t in word]

    def encode(self, text, add_bos=False):
        check_pattern_text(text)
        ids = [self.bos_id] if add_bos else []
        for piece in pretokenize(text):
            cached = self.cache.get(piece)
            if cached is None:
                cached = self.cache[piece] = self.bpe(piece.encode("utf-8"))
            ids.extend(cached)
        return ids

    def decode(self, ids):
        data = b"".join(self.tokens[i] for i in ids if i < len(self.tokens))
        return data.decode("utf-8", errors="replace")

    def merges_are_self_consistent(self):
        """True when BPE-encoding the bytes of every vocabulary entry yields that entry.
        Then `ignore_merges` true and false give the same ids for every input."""
        bad = [t for t in self.tokens if self.bpe(t) != [self.ids[t]]]
        return bad

    # -----------------------------------------------------------------------------------------
    # Hugging Face files

    def to_json(self, ignore_merges=False):
        vocab = {to_symbol(t): i for i, t in enumerate(self.tokens)}
        special = {"single_word": False, "lstrip": False, "rstrip": False,
                   "normalized": False, "special": True}
        bos_ref = {"id": BOS, "type_id": 0}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": self.bos_id, "content": BOS, **special},
                             {"id": self.eos_id, "content": EOS, **special}],
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN},
                 "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                 "use_regex": False}]},
            "post_processor": {"type": "Sequence", "processors": [
                {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                 "use_regex": True},
                {"type": "TemplateProcessing",
                 "single": [{"SpecialToken": bos_ref}, {"Sequence": {"id": "A", "type_id": 0}}],
                 "pair": [{"SpecialToken": bos_ref}, {"Sequence": {"id": "A", "type_id": 0}},
                          {"SpecialToken": {"id": BOS, "type_id": 1}},
                          {"Sequence": {"id": "B", "type_id": 1}}],
                 "special_tokens": {BOS: {"id": BOS, "ids": [self.bos_id], "tokens": [BOS]}}}]},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                        "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": ignore_merges,
                      "vocab": vocab,
                      "merges": [f"{to_symbol(a)} {to_symbol(b)}" for a, b in self.merges]},
        }

    def config_json(self, max_len):
        special = {"lstrip": False, "normalized": False, "rstrip": False,
                   "single_word": False, "special": True}
        return {
            "add_bos_token": True,
            "add_eos_token": False,
            "added_tokens_decoder": {str(self.bos_id): {"content": BOS, **special},
                                     str(self.eos_id): {"content": EOS, **special}},
            "bos_token": BOS,
            "eos_token": EOS,
            "pad_token": EOS,
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
            "model_max_length": max_len,
            "tokenizer_class": "PreTrainedTokenizerFast",
        }

    @classmethod
    def from_json(cls, data):
        unicode_to_byte = {c: b for b, c in BYTE_CHARS.items()}
        def raw(sym):
            return bytes(unicode_to_byte[c] for c in sym)
        merges = [tuple(raw(s) for s in m.split(" ")) for m in data["model"]["merges"]]
        tok = cls(merges)
        assert all(tok.ids[raw(s)] == i for s, i in data["model"]["vocab"].items())
        return tok


def save(tok, path, ignore_merges=False):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tok.to_json(ignore_merges), f, ensure_ascii=False, indent=1)


def load(path):
    with open(path, encoding="utf-8") as f:
        return Tokenizer.from_json(json.load(f))


# ---------------------------------------------------------------------------------------------
# Cross-check of the split against PCRE2 (the engine's regex library)

def pcre2_split(text):
    """Split `text` with the real Llama-3 pattern through libpcre2-8 (UTF + UCP), or
    return None when the library is not installed."""
    name = ctypes.util.find_library("pcre2-8")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.pcre2_compile_8.restype = ctypes.c_void_p
    lib.pcre2_compile_8.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
                                    ctypes.POINTER(ctypes.c_int),
                                    ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p]
    lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
    lib.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.pcre2_match_8.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                  ctypes.c_size_t, ctypes.c_uint32, ctypes.c_void_p,
                                  ctypes.c_void_p]
    lib.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(ctypes.c_size_t)
    lib.pcre2_get_ovector_pointer_8.argtypes = [ctypes.c_void_p]
    PCRE2_UTF, PCRE2_UCP, PCRE2_NO_UTF_CHECK = 0x00080000, 0x00020000, 0x40000000
    err, off = ctypes.c_int(), ctypes.c_size_t()
    pat = LLAMA3_PATTERN.encode()
    code = lib.pcre2_compile_8(pat, len(pat), PCRE2_UTF | PCRE2_UCP, ctypes.byref(err),
                               ctypes.byref(off), None)
    assert code, f"pcre2_compile failed: {err.value}"
    md = lib.pcre2_match_data_create_from_pattern_8(code, None)
    data = text.encode("utf-8")
    pieces, pos, flags = [], 0, 0
    while pos < len(data):
        rc = lib.pcre2_match_8(code, data, len(data), pos, flags, md, None)
        flags = PCRE2_NO_UTF_CHECK  # the subject was validated by the first call
        if rc < 0:
            break
        ov = lib.pcre2_get_ovector_pointer_8(md)
        start, end = ov[0], ov[1]
        assert start == pos, "the pattern leaves no gaps on this alphabet"
        pieces.append(data[start:end].decode("utf-8"))
        pos = end
    return pieces
