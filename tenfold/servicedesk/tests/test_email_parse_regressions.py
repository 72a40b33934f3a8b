"""Messages the email fuzzing target (fuzz/parsers.py email) found crashing the parser: each now gives a
ParsedEmail, with what could be read of it."""

from __future__ import annotations

from tenfold.servicedesk.email_parse import parse_email


def test_a_to_header_that_parses_as_a_group_with_a_nul_falls_back_to_its_raw_text() -> None:
    # The standard library's address header raised AttributeError ('Group' object has no 'local_part').
    parsed = parse_email(b"From: bob@example.com\r\nTo: sutent-Type: text/plain; \x00\x00\r\n"
                         b"Subject: Imprimante\r\n\r\nEn panne.\r\n")
    assert parsed.sender == "bob@example.com"
    assert parsed.subject == "Imprimante"
    assert parsed.text == "En panne.\n"


def test_a_from_header_that_is_no_address_leaves_the_sender_empty() -> None:
    # Address(addr_spec=...) raised HeaderParseError, which is not a ValueError.
    parsed = parse_email(b'From:",JeFroe: bob@example.com>p.example\t\t=\r\n\r\nbody\r\n')
    assert parsed.sender == ""
    assert parsed.text == "body\n"


def test_a_charset_with_a_nul_reads_the_body_as_utf8() -> None:
    # get_content() raised ValueError("embedded null character") for the charset name.
    parsed = parse_email(b"From: a@example.com\r\nContent-Type: text/plain; charset=ut\x00f-8\r\n\r\n"
                         b"Toujours en panne.\r\n")
    assert parsed.sender == "a@example.com"
    assert parsed.text == "Toujours en panne.\n"
