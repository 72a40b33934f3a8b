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


def test_a_content_type_whose_parameter_ends_in_the_middle_is_kept_as_text() -> None:
    # The standard library's Content-Type parser raised IndexError while the message was being read (at
    # parse time, before any of our code); the header is now kept unstructured and the body read as text.
    parsed = parse_email(b"From: bob@example.com\r\nSubject: Serveur\r\nContent-Type: text/plain; b*\r\n\r\n"
                         b"Le serveur est en panne.\r\n")
    assert (parsed.sender, parsed.subject) == ("bob@example.com", "Serveur")
    assert parsed.text == "Le serveur est en panne.\n"


def test_nul_characters_are_dropped_from_every_text() -> None:
    # A NUL reached the subject, body and names (encoded words, quoted-printable =00): PostgreSQL refused the
    # ticket, so the message failed on every poll and never became one.
    parsed = parse_email(
        b"From: =?utf-8?q?Bob=00?= <bob@example.com>\r\nTo: support@msp.example\r\n"
        b"Subject: =?utf-8?q?Imprimante=00_HS?=\r\nMessage-ID: <a\x00b@example.com>\r\n"
        b"References: <r1\x00@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"En=00 panne.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="=?utf-8?q?devis=00.pdf?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n")
    assert (parsed.sender, parsed.sender_name, parsed.subject) == ("bob@example.com", "Bob", "Imprimante HS")
    assert parsed.text == "En panne."  # the part's last line break belongs to the boundary
    assert (parsed.message_id, parsed.references) == ("<ab@example.com>", ["<r1@example.com>"])
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("devis.pdf", "application/pdf", b"%PDF-")]
