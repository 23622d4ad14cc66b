"""BPETokenizer: merges, round trips on any Unicode text, training on 1 MB (module 10)."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.text import BPETokenizer
from tinytorch.text.bpe import PairCounts, learn_merges, merge, text_to_token, token_to_text

pytestmark = pytest.mark.module10

CORPUS = "the cat sat on the mat. the cat ate the rat! 日本語 🙂🙂 the end\n" * 20


@pytest.fixture(scope="module")
def tokenizer() -> BPETokenizer:
    return BPETokenizer.train(CORPUS, vocab_size=300)


def test_merge_replaces_pairs_left_to_right() -> None:
    assert merge([97, 97, 97, 98], (97, 97), 256) == [256, 97, 98]
    assert merge([97, 97, 97, 97], (97, 97), 256) == [256, 256]
    assert merge([1, 2, 3, 1, 2], (1, 2), 9) == [9, 3, 9]
    assert merge([], (1, 2), 9) == []


def test_worked_example_aaabdaaabac() -> None:
    # aaabdaaabac -> ZabdZabac (Z = aa) -> ZYdZYac (Y = ab) -> XdXac (X = ZY)
    assert learn_merges({"aaabdaaabac": 1}, num_merges=10) == [(97, 97), (97, 98), (256, 257)]
    tokenizer = BPETokenizer.train("aaabdaaabac", vocab_size=300, special_tokens=[])
    assert tokenizer.encode("aaabdaaabac") == [258, ord("d"), 258, ord("a"), ord("c")]
    assert tokenizer.vocab[258] == b"aaab"


def test_pair_counts_follow_word_changes() -> None:
    words, frequencies = [[1, 2, 1, 2], [1, 2]], [3, 5]
    pairs = PairCounts(words, frequencies)
    assert pairs.count[(1, 2)] == 2 * 3 + 5
    assert pairs.most_frequent() == (1, 2)
    pairs.remove(0, words[0])
    pairs.add(0, [9, 9])
    assert pairs.count[(1, 2)] == 5
    assert pairs.words_with[(1, 2)] == {1}
    assert pairs.most_frequent() == (1, 2)  # (9, 9) occurs 3 times, (1, 2) 5 times


def test_merges_stay_inside_words(tokenizer: BPETokenizer) -> None:
    # A word is an optional space then letters, or an optional space then symbols.
    for token in tokenizer.vocab[256 : 256 + len(tokenizer.merges)]:
        text = token.decode("utf-8", "replace").removeprefix(" ")
        assert " " not in text
        assert not (any(char.isalpha() for char in text) and any(char in ".!" for char in text))


@given(st.text())
def test_round_trip_on_any_text(text: str) -> None:
    tokenizer = BPETokenizer.train(CORPUS, vocab_size=300)
    assert tokenizer.decode(tokenizer.encode(text)) == text


@given(st.text(alphabet=st.sampled_from("ae日🙂\u0301 \n<>")))
def test_round_trip_on_emoji_cjk_and_combining_marks(text: str) -> None:
    tokenizer = BPETokenizer.train(CORPUS, vocab_size=300)
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_untrained_tokenizer_encodes_bytes() -> None:
    tokenizer = BPETokenizer(special_tokens=[])
    assert tokenizer.vocab_size == 256
    assert tokenizer.encode("é") == [0xC3, 0xA9]


def test_special_tokens_are_whole_and_left_out_of_training() -> None:
    tokenizer = BPETokenizer.train("<eos>ab ab<eos>" * 10, vocab_size=270)
    eos = tokenizer.special_id("<eos>")
    assert eos == tokenizer.vocab_size - 1
    assert tokenizer.encode("ab<eos>")[-1] == eos
    assert all(b"<" not in token for token in tokenizer.vocab[256 : 256 + len(tokenizer.merges)])


def test_decoding_half_a_character_gives_the_replacement_character() -> None:
    tokenizer = BPETokenizer(special_tokens=[])
    assert tokenizer.decode([0xC3]) == "\ufffd"


def test_vocab_size_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match=r"vocab_size=258 is too small.*vocab_size >= 259"):
        BPETokenizer.train("abc", vocab_size=258)


def test_training_stops_when_no_pair_repeats() -> None:
    tokenizer = BPETokenizer.train("abcd", vocab_size=1000, special_tokens=[])
    assert tokenizer.vocab_size == 256


def test_token_names_are_printable_and_reversible() -> None:
    assert token_to_text(b" the") == "\u0120the"
    every_byte = bytes(range(256))
    assert " " not in token_to_text(every_byte)
    assert text_to_token(token_to_text(every_byte)) == every_byte


def generated_text(size: int) -> str:
    """About ``size`` characters of sentences over 2,000 made-up words with Zipf frequencies."""
    rng = random.Random(0)
    syllables = ["ka", "to", "ri", "sen", "mo", "lu", "pra", "ve", "dan", "sho", "el", "qui"]
    words = ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(2000)]
    weights = [1 / rank for rank in range(1, len(words) + 1)]
    sentences, length = [], 0
    while length < size:
        sentence = " ".join(rng.choices(words, weights, k=rng.randint(4, 15)))
        sentences.append(sentence.capitalize() + rng.choice([". ", "! ", "? ", ".\n"]))
        length += len(sentences[-1])
    return "".join(sentences)


def test_training_on_a_megabyte_compresses() -> None:
    text = generated_text(1_000_000)
    tokenizer = BPETokenizer.train(text, vocab_size=512)
    assert tokenizer.vocab_size == 512
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert len(text.encode("utf-8")) / len(ids) > 3.0
