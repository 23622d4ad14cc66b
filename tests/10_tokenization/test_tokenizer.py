"""What both tokenizers share: batches as tensors, save and load, errors (module 10)."""

import json

import pytest

import tinytorch
from tinytorch.text import BPETokenizer, CharTokenizer, Tokenizer

pytestmark = pytest.mark.module10

CORPUS = "hello world, hello tokens! 日本 🙂\n" * 10


def make_char() -> CharTokenizer:
    return CharTokenizer(CORPUS)


def make_bpe() -> BPETokenizer:
    return BPETokenizer.train(CORPUS, vocab_size=280)


TOKENIZERS = {"char": make_char, "bpe": make_bpe}


@pytest.fixture(params=TOKENIZERS)
def tokenizer(request: pytest.FixtureRequest) -> Tokenizer:
    return TOKENIZERS[request.param]()


def test_encode_batch_pads_on_the_right(tokenizer: Tokenizer) -> None:
    texts = ["hello", "hello world 🙂", ""]
    batch = tokenizer.encode_batch(texts)
    lengths = [len(tokenizer.encode(text)) for text in texts]
    assert batch.dtype == tinytorch.int64
    assert batch.shape == (3, max(lengths))
    pad = tokenizer.special_id("<pad>")
    assert batch[0].tolist() == tokenizer.encode("hello") + [pad] * (max(lengths) - lengths[0])
    assert tokenizer.decode_batch(batch) == texts


def test_encode_batch_pad_to(tokenizer: Tokenizer) -> None:
    batch = tokenizer.encode_batch(["hello"], pad_to=20, add_bos=True, add_eos=True)
    assert batch.shape == (1, 20)
    assert tokenizer.decode_batch(batch, skip_special_tokens=True) == ["hello"]
    with pytest.raises(ValueError, match="more than pad_to=2; raise pad_to"):
        tokenizer.encode_batch(["hello world 🙂"], pad_to=2)


def test_batches_need_a_pad_token() -> None:
    tokenizer = CharTokenizer("ab", special_tokens=["<unk>"])
    with pytest.raises(ValueError, match="'<pad>' is not a special token"):
        tokenizer.encode_batch(["ab"])


def test_decode_accepts_a_tensor(tokenizer: Tokenizer) -> None:
    ids = tinytorch.tensor(tokenizer.encode("hello world"))
    assert tokenizer.decode(ids) == "hello world"


def test_decode_rejects_ids_out_of_range(tokenizer: Tokenizer) -> None:
    size = tokenizer.vocab_size
    for bad_id in (size, -1):
        with pytest.raises(
            ValueError, match=rf"token id {bad_id} is out of range.*0\.\.{size - 1}"
        ):
            tokenizer.decode([0, bad_id])


def test_save_and_load_round_trip(tokenizer: Tokenizer, tmp_path) -> None:
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    loaded = type(tokenizer).load(path)
    assert loaded.vocab_size == tokenizer.vocab_size
    assert loaded.special_tokens == tokenizer.special_tokens
    assert loaded.encode(CORPUS + "<eos>") == tokenizer.encode(CORPUS + "<eos>")


def test_saved_bpe_merges_are_readable(tmp_path) -> None:
    path = tmp_path / "bpe.json"
    BPETokenizer.train("low lower lowest " * 5, vocab_size=260, special_tokens=[]).save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["merges"][:2] == ["l o", "lo w"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json {", "not JSON"),
        ('{"merges": []}', "no format 'tinytorch.text'"),
        ("[1, 2]", "no format 'tinytorch.text'"),
        ('{"format": "tinytorch.text", "type": "CharTokenizer"}', "holds a CharTokenizer"),
    ],
)
def test_load_rejects_files_that_are_not_this_tokenizer(tmp_path, content, message) -> None:
    path = tmp_path / "file.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        BPETokenizer.load(path)


def test_load_rejects_edited_merges(tmp_path) -> None:
    path = tmp_path / "bpe.json"
    path.write_text(
        json.dumps({"format": "tinytorch.text", "type": "BPETokenizer", "merges": ["a zz"]}),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="does not join two existing tokens"):
        BPETokenizer.load(path)


def test_special_tokens_must_be_distinct() -> None:
    with pytest.raises(ValueError, match="distinct non-empty"):
        BPETokenizer(special_tokens=["<pad>", "<pad>"])
