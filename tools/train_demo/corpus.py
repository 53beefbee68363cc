"""Corpus: Jane Austen's six novels from the Debian package r-cran-janeaustenr.

The text ships as R package data; it is exported with Rscript, cleaned to plain
prose (paragraphs joined into single lines, headings and editorial notes
dropped), normalised to printable ASCII and split into a training part and a
held-out tail of every novel.
"""
import os
import re
import shutil
import subprocess
import unicodedata

# Debian packages the corpus needs: R itself and the package holding the texts.
APT_PACKAGES = ["r-base-core", "r-cran-janeaustenr"]

# Each line of the export is "<book>\t<line>"; tabs never occur inside the text.
R_EXPORT = (
    'suppressMessages(library(janeaustenr)); b <- austen_books(); '
    'writeLines(paste(as.character(b$book), b$text, sep="\\t"), "{path}", useBytes=TRUE)'
)

HEADING = re.compile(r"^(chapter|volume)\b", re.IGNORECASE)

# Characters outside printable ASCII that occur in the texts, and what replaces them.
# Everything else that is not printable ASCII is dropped, so the pre-tokenizer
# only ever sees characters whose Unicode classes it models exactly.
REPLACE = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "--", "\u00a3": "L", "\u00e9": "e", "\u00e8": "e",
    "\u00e0": "a", "\u00ea": "e", "\u00e7": "c", "\u00f4": "o", "\u00ef": "i",
}


def r_package_installed():
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('janeaustenr', quietly=TRUE))"],
        capture_output=True)
    return probe.returncode == 0


def ensure_packages():
    """Install the Debian packages holding the corpus when they are missing."""
    if r_package_installed():
        return
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + APT_PACKAGES,
                   check=True)


def export_raw(path):
    ensure_packages()
    subprocess.run(["Rscript", "-e", R_EXPORT.replace("{path}", path)], check=True)


def read_books(path):
    """Return {book title: [raw lines]} in the order of the export."""
    books = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            book, _, text = line.rstrip("\n").partition("\t")
            books.setdefault(book, []).append(text)
    return books


def normalise(text):
    """Map the text onto printable ASCII (see REPLACE); also strips the italics
    markers (_word_) and footnote stars of the source edition."""
    out = []
    for ch in text:
        ch = REPLACE.get(ch, ch)
        if len(ch) == 1 and not (" " <= ch <= "~"):
            ch = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
        out.append(ch)
    text = "".join(out).replace("_", "").replace("*", "")
    return re.sub(r"\s+", " ", text).strip()


def is_prose(paragraph):
    """Headings, titles, separators ("* * *") and bracketed editorial notes are not prose."""
    if HEADING.match(paragraph) or paragraph.startswith("["):
        return False
    return any(c.islower() for c in paragraph)


def paragraphs(lines):
    """Group hard-wrapped lines into paragraphs, starting at the first chapter heading
    (drops title pages and front matter)."""
    start = next(i for i, line in enumerate(lines) if HEADING.match(line.strip())
                 and line.strip().lower().startswith("chapter"))
    result, current = [], []
    for line in lines[start:] + [""]:
        if line.strip():
            current.append(line)
        elif current:
            para = normalise(" ".join(current))
            if para and is_prose(para):
                result.append(para)
            current = []
    return result


def split_heldout(paras, fraction):
    """The last `fraction` of a novel (by characters, at a paragraph boundary) is held out."""
    total = sum(len(p) for p in paras)
    acc, cut = 0, len(paras)
    for i, p in enumerate(paras):
        if acc >= total * (1.0 - fraction):
            cut = i
            break
        acc += len(p)
    return paras[:cut], paras[cut:]


def load_corpus(work_dir, heldout_fraction=0.02):
    """Return (train, heldout): lists of (book title, text), paragraphs joined by a blank line."""
    raw = os.path.join(work_dir, "austen_raw.tsv")
    if not os.path.exists(raw):
        export_raw(raw + ".tmp")
        os.replace(raw + ".tmp", raw)
    train, heldout = [], []
    for book, lines in read_books(raw).items():
        head, tail = split_heldout(paragraphs(lines), heldout_fraction)
        train.append((book, "\n\n".join(head)))
        heldout.append((book, "\n\n".join(tail)))
    return train, heldout
