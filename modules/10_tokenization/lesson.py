# %% [markdown]
# # Module 10: Tokenization
#
# A language model never sees text: it sees integers. A tokenizer turns a string into a list
# of ids from a fixed vocabulary and back. In this module you write two tokenizers: one id
# per character, and byte-level byte-pair encoding (BPE), the family used by GPT-2 and its
# successors, which learns to merge frequent pairs of bytes into single tokens.
#
# ## Learning objectives
#
# - Encode and decode with a character vocabulary, handling characters it has never seen.
# - Explain why byte-level BPE needs no `<unk>` token: every string is a sequence of bytes.
# - Train BPE by hand on `"aaabdaaabac"` and check your merges against the code.
# - Encode a word by applying learned merges in the order they were learned.
# - Measure the trade-off: vocabulary size vs sequence length, and the cost of training.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Data Engineering" (turning raw data into the inputs a model consumes).
#
# **Prerequisites:** module 09 in the course order; in practice only Python strings, bytes
# and lists are needed here. Module 11 (embeddings) consumes the ids you produce.

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import random
import tempfile
import time
from pathlib import Path

from tinytorch.text.bpe import BPETokenizer, learn_merges, merge
from tinytorch.text.char import CharTokenizer


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# Three ways to cut the string $s = $ `"aaabdaaabac"` (11 characters):
#
# - **characters**: 11 ids from a vocabulary of the distinct characters (here 4: a, b, c, d);
# - **bytes** (UTF-8): also 11 ids here, from a fixed vocabulary of 256; a non-ASCII
#   character such as "é" takes 2 bytes, an emoji 4;
# - **BPE**: start from the bytes and repeatedly replace the most frequent adjacent pair by a
#   new token. Each merge adds one entry to the vocabulary and shortens the sequence.
#
# Worked by hand (ties go to the pair with the smaller ids):
#
# | tokens | most frequent pair | new token |
# |---|---|---|
# | `a a a b d a a a b a c` | (a, a): 4 | Z = aa (id 256) |
# | `Z a b d Z a b a c` | (a, b): 2 | Y = ab (id 257) |
# | `Z Y d Z Y a c` | (Z, Y): 2 | X = aaab (id 258) |
# | `X d X a c` | none occurs twice: stop | |
#
# Eleven tokens became five, for three extra vocabulary entries. The compression ratio is
# bytes per token: $11 / 5 = 2.2$.

# %%
text = "aaabdaaabac"
raw = list(text.encode("utf-8"))
print("characters:", len(text), " distinct:", sorted(set(text)), " bytes:", len(raw))
print("'é' is", len("é".encode()), "bytes; '🙂' is", len("🙂".encode()), "bytes")
check("an ASCII string has one byte per character", len(raw) == len(text))

# %% [markdown]
# ## Exercise 1: the character tokenizer
#
# **Write** in `tinytorch/text/char.py`: `CharTokenizer._encode_ordinary`,
# `CharTokenizer._decode_ids`
#
# - `_encode_ordinary(text)`: one id per character from `self.char_to_id`. An unknown
#   character becomes the id of `<unk>` (`self.special_ids["<unk>"]`) when
#   `self.unknown == "replace"`, else raise a `ValueError` that names the character.
# - `_decode_ids(ids)`: join `self.id_to_token[i]` for each id.
#
# The base class `Tokenizer` handles special tokens, `add_bos`/`add_eos` and batches.

# %%
chars = CharTokenizer("hello world")
print("vocabulary:", chars.id_to_token, " size:", chars.vocab_size)
ids = chars.encode("hello")
expected_ids = [chars.char_to_id[c] for c in "hello"]
check("encode gives one id per character", ids == expected_ids, str(ids))
check("decode(encode(s)) == s", chars.decode(chars.encode("hello world")) == "hello world")
unk = chars.special_id("<unk>")
check("an unseen character becomes <unk>", chars.encode("hex") == [*expected_ids[:2], unk])
strict = CharTokenizer("abc", unknown="error")
try:
    strict.encode("abz")
    raised = False
except ValueError:
    raised = True
check("unknown='error' raises ValueError", raised)

# %% [markdown]
# ## Exercise 2: learning merges
#
# **Write** in `tinytorch/text/bpe.py`: `merge`, `learn_merges`
#
# - `merge(ids, pair, new_id)`: scan left to right; where `(ids[p], ids[p + 1]) == pair`,
#   emit `new_id` and skip two, else emit `ids[p]` and skip one. So `aaa` with `(a, a)`
#   becomes `Z a`, not `a Z`.
# - `learn_merges(word_counts, num_merges)`: loop until `num_merges` merges or no pair occurs
#   twice (`pairs.most_frequent()` returns `None`). The new id is `256 + len(merges)`. For
#   each word containing the pair (`pairs.words_with[pair]`, copied to a list first): remove
#   the word's pairs from the counts, merge the word, add its new pairs back.

# %%
check("merge: left to right", merge([97, 97, 97, 98], (97, 97), 256) == [256, 97, 98])


def merge_by_hand(tokens: list[int], num_merges: int) -> list[tuple[int, int]]:
    """The slow, obvious algorithm: count every pair again after every merge."""
    found = []
    for k in range(num_merges):
        counts: dict[tuple[int, int], int] = {}
        for pair in zip(tokens, tokens[1:]):
            counts[pair] = counts.get(pair, 0) + 1
        best = min(counts, key=lambda p: (-counts[p], p), default=None)
        if best is None or counts[best] < 2:
            break
        found.append(best)
        tokens = merge(tokens, best, 256 + k)
    return found


merges = learn_merges({text: 1}, num_merges=10)
print("learned merges:", merges)
check("merges match the hand table", merges == [(97, 97), (97, 98), (256, 257)], str(merges))
check("incremental counting == recounting", merges == merge_by_hand(raw, 10))

# %% [markdown]
# ## Exercise 3: encoding and decoding with BPE
#
# **Write** in `tinytorch/text/bpe.py`: `BPETokenizer._encode_word`,
# `BPETokenizer._decode_ids`
#
# - `_encode_word(word)`: start from the UTF-8 bytes. While at least two ids remain, find the
#   adjacent pair whose merge was learned *earliest* (smallest value in `self.merges`); stop if
#   no pair was learned, else `merge` it everywhere.
# - `_decode_ids(ids)`: join `self.vocab[i]` (bytes) and decode UTF-8 with `"replace"`, so ids
#   cut in the middle of a character give U+FFFD instead of an exception.

# %%
bpe = BPETokenizer(merges)
encoded = bpe.encode(text)
print("BPE ids:", encoded, " tokens:", [bpe.vocab[i] for i in encoded])
check("aaabdaaabac -> X d X a c", encoded == [258, 100, 258, 97, 99], str(encoded))
check("decode round-trips", bpe.decode(encoded) == text)
check("order matters: 'aaab' is one token", bpe.encode("aaab") == [258])
emoji = "naïve 🙂"
check("any Unicode round-trips without <unk>", bpe.decode(bpe.encode(emoji)) == emoji)
check("half an emoji decodes to U+FFFD", bpe.decode(bpe.encode("🙂")[:2]) == "\ufffd")
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "bpe.json"
    bpe.save(path)
    again = BPETokenizer.load(path)
check("save and load keep the merges", again.encode(text) == encoded)

# %% [markdown]
# ## Systems analysis
#
# Measured live on a small synthetic English-like corpus (about 60 KB): train BPE at several
# vocabulary sizes, then compare each tokenizer's vocabulary with the number of tokens it
# needs for the same held-out text. A larger vocabulary gives shorter sequences (cheaper
# attention, which grows with the square of the length) but a larger embedding table
# (vocab_size x d_model parameters).

# %%
words = (
    "the model learns from data and the data shapes the model . training a network takes "
    "time , memory and energy ; tokenization turns text into numbers that the network reads"
).split()
rng = random.Random(0)  # a seeded shuffle: repeatable, varied word order
sentences = [" ".join(rng.sample(words, len(words))) for _ in range(400)]
corpus = "\n".join(sentences)
held_out = "the network learns the data , and tokenization shapes the numbers it reads."
n_bytes = len(held_out.encode())
print(f"corpus: {len(corpus.encode()):,} bytes; held-out text: {n_bytes} bytes\n")
print(f"{'tokenizer':>14}{'vocab':>8}{'tokens':>8}{'bytes/token':>13}{'train ms':>10}")
char_tok = CharTokenizer(corpus)
n_char = len(char_tok.encode(held_out))
print(f"{'characters':>14}{char_tok.vocab_size:>8}{n_char:>8}{n_bytes / n_char:>13.2f}{'-':>10}")
print(f"{'bytes':>14}{256:>8}{n_bytes:>8}{1.0:>13.2f}{'-':>10}")
lengths = []
for vocab_size in (270, 300, 1000):
    start = time.perf_counter()
    trained = BPETokenizer.train(corpus, vocab_size=vocab_size)
    ms = (time.perf_counter() - start) * 1e3
    n_tokens = len(trained.encode(held_out))
    lengths.append(n_tokens)
    label = f"BPE {vocab_size}"
    print(f"{label:>14}{trained.vocab_size:>8}{n_tokens:>8}{n_bytes / n_tokens:>13.2f}{ms:>10.1f}")
    assert trained.decode(trained.encode(held_out)) == held_out
check(
    "a larger BPE vocabulary never gives longer sequences", lengths == sorted(lengths, reverse=True)
)
check("BPE compresses the held-out text below one token per byte", lengths[-1] < n_bytes)

# %% [markdown]
# Read the table: characters and bytes give one token per byte on ASCII text; each merge
# buys shorter sequences until the corpus runs out of repeated pairs (the vocabulary can stop
# below the size asked for). Training time grows with the number of merges, but the pair
# counts are updated only for words that contain the merged pair, so it stays in
# milliseconds here.
#
# ## Reflection
#
# 1. GPT-2 uses about 50,000 tokens. With an embedding width of 768, how many parameters does
#    the embedding table hold, and how does that compare with a character vocabulary?
# 2. Why do merges never cross a word boundary (pre-tokenization)? What would go wrong in
#    the vocabulary if they did?
# 3. Encoding applies merges in the order they were learned, not by the frequency of pairs in
#    the new text. Why must it, for `encode` to be consistent with training?
# 4. A tokenizer trained on English compresses code or another language worse. What does
#    that cost a model, in sequence length and in compute per character?
