"""CharTokenizer: alphabet, special tokens, unknown characters (module 10)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.text import CharTokenizer

pytestmark = pytest.mark.module10

ALPHABET = "abcdefghijklmnopqrstuvwxyz .,!é日本🙂\u0301\n"


def test_vocabulary_is_special_tokens_then_sorted_characters() -> None:
    tokenizer = CharTokenizer("hello world")
    assert tokenizer.id_to_token == ["<pad>", "<unk>", "<bos>", "<eos>"] + list(" dehlorw")
    assert tokenizer.vocab_size == len(tokenizer) == 12
    assert tokenizer.encode("hello") == [7, 6, 8, 8, 9]
    assert tokenizer.decode([7, 6, 8, 8, 9]) == "hello"


def test_corpus_may_be_a_list_of_texts_or_characters() -> None:
    assert CharTokenizer(["ab", "bc"]).alphabet == ["a", "b", "c"]
    assert CharTokenizer(list("cab")).alphabet == ["a", "b", "c"]


@given(st.text(alphabet=ALPHABET))
def test_round_trip_over_the_alphabet(text: str) -> None:
    tokenizer = CharTokenizer(ALPHABET)
    ids = tokenizer.encode(text)
    assert len(ids) == len(text)
    assert tokenizer.decode(ids) == text


def test_special_tokens_are_whole_and_configurable() -> None:
    tokenizer = CharTokenizer("ab", special_tokens=["<unk>", "<sep>"])
    assert tokenizer.encode("a<sep>b") == [2, 1, 3]
    assert tokenizer.decode([2, 1, 3]) == "a<sep>b"
    assert tokenizer.decode([2, 1, 3], skip_special_tokens=True) == "ab"


def test_bos_and_eos() -> None:
    tokenizer = CharTokenizer("ab")
    ids = tokenizer.encode("ab", add_bos=True, add_eos=True)
    assert ids == [tokenizer.special_id("<bos>"), 4, 5, tokenizer.special_id("<eos>")]


def test_unknown_characters_become_unk_or_raise() -> None:
    assert CharTokenizer("ab").encode("axb") == [4, 1, 5]
    with pytest.raises(ValueError, match=r"'x' \(U\+0078\) is not in the alphabet"):
        CharTokenizer("ab", unknown="error").encode("axb")


def test_replace_without_unk_is_refused() -> None:
    with pytest.raises(ValueError, match="'<unk>' is not a special token"):
        CharTokenizer("ab", special_tokens=["<pad>"])
    with pytest.raises(ValueError, match="unknown must be"):
        CharTokenizer("ab", unknown="ignore")
