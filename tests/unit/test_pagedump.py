"""Tests for the plain-text page-dump parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from rejoinder.core.pagedump import DumpComment, PageDump, PageDumpError, parse_page_dump

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_bd5f883b5d055f83.txt"


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"seed page dump not found at {SEED} (it lives outside the repository)")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed(seed_text: str) -> PageDump:
    return parse_page_dump(seed_text)


# --- the seed ---------------------------------------------------------------------------


def test_seed_title_and_dek_are_the_first_and_third_lines(seed_text: str, seed: PageDump) -> None:
    lines = seed_text.splitlines()
    assert lines[1] == "" and lines[3] == ""
    assert seed.title == lines[0]
    assert seed.dek == lines[2]


def test_seed_source_is_taken_out_of_the_body(seed: PageDump) -> None:
    assert seed.source_name == "The American Conservative"
    assert "Source:" not in seed.body_markdown
    assert "The American Conservative" not in seed.body_markdown


def test_seed_body_paragraphs_match_the_file_with_three_quotes(
    seed_text: str, seed: PageDump
) -> None:
    lines = seed_text.splitlines()
    source_line = next(i for i, line in enumerate(lines) if line.startswith("Source: "))
    expected_text = [line for line in lines[4:source_line] if line]
    paragraphs = seed.body_markdown.split("\n\n")
    assert len(paragraphs) == 12
    assert len(paragraphs) == len(expected_text)

    quoted = [i for i, p in enumerate(paragraphs) if p.startswith("> ")]
    assert quoted == [1, 5, 9]
    for i in quoted:
        assert paragraphs[i - 1].endswith(":"), "each quote follows a lead-in colon"
    for i, (paragraph, line) in enumerate(zip(paragraphs, expected_text, strict=True)):
        assert paragraph == (f"> {line}" if i in quoted else line)
    # Exactly three paragraphs of the article end with a lead-in colon.
    assert sum(p.endswith(":") for p in paragraphs) == 3


def test_seed_comments_authors_numbers_and_thread(seed: PageDump) -> None:
    assert len(seed.comments) == 8
    assert [c.author for c in seed.comments] == [
        "Ron Wheeler",
        "Séamus Ó Néill",
        "Linda Wren",
        "Inferior",
        "JustPassingThrough",
        "jm74",
        "John C Carleton",
        "CHUCKMAN",
    ]
    assert [c.number for c in seed.comments] == [1, 2, 1, 3, 4, 5, 6, 7]
    assert [c.depth for c in seed.comments] == [0, 0, 1, 0, 0, 0, 0, 0]
    top_level = [c for c in seed.comments if c.parent_index is None]
    replies = [c for c in seed.comments if c.parent_index is not None]
    assert len(top_level) == 7
    assert len(replies) == 1
    reply = replies[0]
    assert reply.author == "Linda Wren"
    assert reply.parent_index is not None
    parent = seed.comments[reply.parent_index]
    assert parent.number == 2 and parent.depth == 0
    assert reply.parent_index == 1


def test_seed_comment_bodies_match_the_file(seed_text: str, seed: PageDump) -> None:
    lines = seed_text.splitlines()
    for comment in seed.comments:
        indent = "  " * (comment.depth + 1)
        header = f"{indent}{comment.number}. {comment.author} says"
        at = lines.index(header)
        if comment.body and "\n" not in comment.body:
            # A one-paragraph comment: the next non-empty line, dedented.
            assert lines[at + 1] == ""
            assert comment.body == lines[at + 2].removeprefix(indent + "  ")
        for body_line in comment.body.splitlines():
            if body_line:
                assert f"{indent}  {body_line}" in lines


def test_seed_multi_paragraph_comment(seed: PageDump) -> None:
    comment = next(c for c in seed.comments if c.author == "John C Carleton")
    paragraphs = comment.body.split("\n\n")
    assert len(paragraphs) == 3
    assert [len(p.splitlines()) for p in paragraphs] == [1, 3, 1]
    assert not comment.body.startswith((" ", "\n"))
    assert not comment.body.endswith((" ", "\n"))


def test_seed_quote_characters_kept_and_trailing_blank_lines_stripped(seed: PageDump) -> None:
    comment = next(c for c in seed.comments if c.author == "JustPassingThrough")
    assert comment.body.startswith("\u201c")
    assert comment.body.endswith("\u201d")
    assert "\n" not in comment.body


def test_seed_last_comment_is_empty_and_page_furniture_is_dropped(seed: PageDump) -> None:
    last = seed.comments[-1]
    assert last.author == "CHUCKMAN"
    assert last.number == 7
    assert last.body == ""
    for comment in seed.comments:
        assert "Leave A Reply" not in comment.body
        assert "leave a reply" not in comment.body.lower()
        assert "email address" not in comment.body
    assert "Leave A Reply" not in seed.body_markdown


def test_seed_with_crlf_and_decomposed_accents_parses_the_same(
    seed_text: str, seed: PageDump
) -> None:
    import unicodedata

    mangled = unicodedata.normalize("NFD", seed_text).replace("\n", "\r\n")
    assert mangled != seed_text
    assert parse_page_dump(mangled) == seed


# --- synthetic dumps ---------------------------------------------------------------------

NESTED = """\
A headline

A standfirst

First paragraph.

Second paragraph.

  1. Alice says

    Top-level one.

    1. Bob says

      Reply to Alice.

      1. Carol says

        Reply to Bob.

      2. Dan says

        Another reply to Bob.

    2. Erin says

      Second reply to Alice.

  2. Frank says

    Top-level two.

Leave a Reply
Your email address will not be published.
  3. Ghost says
    Not a comment: it comes after the reply form.
"""


def test_nested_replies_two_levels_deep() -> None:
    dump = parse_page_dump(NESTED)
    assert dump.title == "A headline"
    assert dump.dek == "A standfirst"
    assert dump.body_markdown == "First paragraph.\n\nSecond paragraph."
    assert dump.source_name is None
    assert dump.comments == (
        DumpComment("Alice", "Top-level one.", 1, 0, None),
        DumpComment("Bob", "Reply to Alice.", 1, 1, 0),
        DumpComment("Carol", "Reply to Bob.", 1, 2, 1),
        DumpComment("Dan", "Another reply to Bob.", 2, 2, 1),
        DumpComment("Erin", "Second reply to Alice.", 2, 1, 0),
        DumpComment("Frank", "Top-level two.", 2, 0, None),
    )


def test_crlf_input() -> None:
    dump = parse_page_dump(NESTED.replace("\n", "\r\n"))
    assert dump == parse_page_dump(NESTED)
    assert all("\r" not in c.body for c in dump.comments)
    assert "\r" not in dump.title + dump.dek + dump.body_markdown


def test_no_comments_at_all() -> None:
    text = "Title\n\nDek\n\nOnly paragraph,\nwith a second line.\n\nSource: The Daily Example\n"
    dump = parse_page_dump(text)
    assert dump.title == "Title"
    assert dump.dek == "Dek"
    assert dump.body_markdown == "Only paragraph,\nwith a second line."
    assert dump.source_name == "The Daily Example"
    assert dump.comments == ()


def test_no_comments_and_no_source_stops_at_the_reply_form() -> None:
    text = "Title\n\nDek\n\nBody.\n\nLEAVE A REPLY\n\nYour email address will not be published.\n"
    dump = parse_page_dump(text)
    assert dump.body_markdown == "Body."
    assert dump.source_name is None
    assert dump.comments == ()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n \t \n",
        "  1. Alice says\n\n    Hello.\n",
        "Source: Somewhere\n",
        "Leave a Reply\n\nA title after the form\n",
    ],
    ids=["empty", "blank", "starts-with-a-comment", "starts-with-source", "only-furniture"],
)
def test_missing_title_raises(text: str) -> None:
    with pytest.raises(PageDumpError, match="no title"):
        parse_page_dump(text)


def test_page_dump_error_is_a_value_error() -> None:
    assert issubclass(PageDumpError, ValueError)


def test_comment_body_with_several_paragraphs() -> None:
    text = (
        "T\n\nD\n\nB.\n\n"
        "  1. Alice says\n\n"
        "    First paragraph\n"
        "    continues here.\n\n\n"
        "    Second paragraph.\n"
        "      indented more, kept relative.\n\n"
        "    Third.   \n\n\n"
        "  2. Bob says\n"
        "  3. Carol says\n"
        "    Straight after the header.\n"
    )
    dump = parse_page_dump(text)
    assert [c.author for c in dump.comments] == ["Alice", "Bob", "Carol"]
    assert dump.comments[0].body == (
        "First paragraph\ncontinues here.\n\n"
        "Second paragraph.\n  indented more, kept relative.\n\n"
        "Third."
    )
    assert dump.comments[1].body == ""
    assert dump.comments[2].body == "Straight after the header."


def test_lead_in_colon_quotes_only_the_next_paragraph() -> None:
    text = (
        "T\n\nD\n\n"
        "He said this:\n\n"
        "A quoted line\nand its second line:\n\n"
        "Not a quote.\n\n"
        "> An explicit\n>quote\n>\n> block.\n\n"
        "After the explicit quote.\n"
    )
    dump = parse_page_dump(text)
    assert dump.body_markdown.split("\n\n") == [
        "He said this:",
        "> A quoted line\n> and its second line:",
        "Not a quote.",
        "> An explicit\n> quote\n>\n> block.",
        "After the explicit quote.",
    ]


def test_source_line_ends_the_body_and_text_before_comments_is_ignored() -> None:
    text = "T\n\nD\n\nBody.\n\nSource: Example Weekly\n\nTags: a, b\n\n  1. Alice says\n\n    Hi.\n"
    dump = parse_page_dump(text)
    assert dump.body_markdown == "Body."
    assert dump.source_name == "Example Weekly"
    assert dump.comments == (DumpComment("Alice", "Hi.", 1, 0, None),)


def test_title_only_and_comments_right_after_the_dek() -> None:
    assert parse_page_dump("Just a title\n") == PageDump("Just a title", "", "", None, ())
    dump = parse_page_dump("Title\nDek\n1. Al says\nHello\n")
    assert (dump.title, dump.dek, dump.body_markdown) == ("Title", "Dek", "")
    assert dump.comments == (DumpComment("Al", "Hello", 1, 0, None),)


def test_tabs_and_bom_and_author_containing_says() -> None:
    text = "\ufeffTitle\n\nDek\n\n\t1. Simon says says\n\t\tHi.\n\t\t1. Ann says\n\t\t\tYo.\n"
    dump = parse_page_dump(text)
    assert dump.title == "Title"
    assert dump.comments == (
        DumpComment("Simon says", "Hi.", 1, 0, None),
        DumpComment("Ann", "Yo.", 1, 1, 0),
    )
