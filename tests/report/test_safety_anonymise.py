"""Issue 10 item 17: every kind of identifying detail a sidebar quote could leak, each with its own mark."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coder.report.anonymise as anonymise_module
from coder.report.anonymise import _EMAIL, _POSTCODE, PLACEHOLDERS, Anonymiser, anonymise, organisation_type

NAMES = ["Deborah Sykes", "Grace Mensah"]
ORGS = ["Kent County Council"]


def redact(text: str) -> str:
    return anonymise(text, names=NAMES, organisations=ORGS)


CASES = [
    # postcodes in any case and spacing
    ("postcode-lower", "we are at m1 1ae now", "we are at [postcode] now"),
    ("postcode-upper", "M1 1AE", "[postcode]"),
    ("postcode-no-space", "m11ae", "[postcode]"),
    ("postcode-london", "sw1a 1aa.", "[postcode]."),
    # phones: dotted, dashed, international
    ("phone-dotted", "ring 0161.496.0000", "ring [phone]"),
    ("phone-0044", "0044 7700 900456", "[phone]"),
    ("phone-plus-0", "+44 (0)161 496 0000", "[phone]"),
    ("phone-dashed", "07700-900-456", "[phone]"),
    ("phone-abroad", "+1 (415) 555-0100 or +33 1 23 45 67 89", "[phone] or [phone]"),
    ("phone-local-cued", "tel: 496 0000", "tel: [phone]"),
    ("phone-two", "0161 496 0000 0161 496 0001", "[phone] [phone]"),
    # National Insurance numbers
    ("ni-spaced", "QQ 12 34 56 C", "[ni number]"),
    ("ni-packed", "AB123456C", "[ni number]"),
    ("ni-lower", "ni number qq123456c", "ni number [ni number]"),
    # URLs and bare domains
    ("url-www", "see www.example.co.uk", "see [url]"),
    ("url-short", "bit.ly/x", "[url]"),
    ("url-query", "https://x.example.org/path?q=1.", "[url]."),
    ("url-bare", "example.com", "[url]"),
    ("url-council-site", "kent.gov.uk/contact", "[url]"),
    ("url-other-scheme", "ftp://files.example.net/a", "[url]"),
    ("url-platform-path", "linkedin.com/in/jsmith", "[url]"),
    # social handles
    ("handle", "follow @jsmith_digital", "follow [handle]"),
    ("handle-start", "@handle said", "[handle] said"),
    # emails written out or obfuscated
    ("email-spelt", "jane dot doe at gmail dot com", "[email]"),
    ("email-bracketed", "jane.doe[at]gmail[dot]com", "[email]"),
    ("email-parens", "jane (at) example (dot) org", "[email]"),
    ("email-spaced", "jane @ gmail.com", "[email]"),
    ("email-plain-at", "write to jsmith at kent.gov.uk", "write to [email]"),
    ("email-fullwidth", "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[email]"),
    ("email-zero-width", "jane\u200b@example\u200b.com", "[email]"),
    # IP addresses
    ("ipv4", "from 192.168.0.1 today", "from [ip address] today"),
    ("ipv6", "from 2001:db8::1", "from [ip address]"),
    ("ipv6-full", "fe80:0000:0000:0000:0202:b3ff:fe1e:8329", "[ip address]"),
    # card numbers
    ("card-spaced", "card 4111 1111 1111 1111", "card [card number]"),
    ("card-dashed", "4111-1111-1111-1111", "[card number]"),
    ("card-packed", "4111111111111111", "[card number]"),
    # dates of birth
    ("dob-numeric", "DOB 01/02/1980", "DOB [date of birth]"),
    ("dob-words", "born 1 Feb 1980", "born [date of birth]"),
    ("dob-year", "I was born in 1980", "I was born in [date of birth]"),
    ("dob-spelt", "date of birth: 3rd of March 1975", "date of birth: [date of birth]"),
    ("dob-dotted", "d.o.b. 1980-02-01", "d.o.b. [date of birth]"),
    # street addresses
    ("address", "I live at 14 Acacia Avenue", "I live at [address]"),
    ("address-flat", "Flat 3, 22 High St", "[address]"),
    ("address-lower", "14 acacia avenue", "[address]"),
    ("address-po-box", "PO Box 123", "[address]"),
    # other identifiers
    ("account", "account number 12345678", "account number [number]"),
    ("nhs-number", "NHS number 943 476 5919", "NHS number [number]"),
    ("passport", "passport 123456789", "passport [number]"),
    ("iban", "GB82 WEST 1234 5698 7654 32", "[number]"),
    ("long-number", "ref:  9434765919", "ref:  [number]"),
    # people who are not respondents
    ("surname-after-first", "Deborah Smith agreed", "[name] agreed"),
    ("given-and-surname", "Sarah Jones said", "[name] said"),
    ("given-alone", "my manager Sarah", "my manager [name]"),
    ("given-lower", "ask sarah", "ask [name]"),
    ("given-possessive", "Sarah's idea", "[name]'s idea"),
    ("cue-unknown-name", "spoke to Zbigniew about it", "spoke to [name] about it"),
    ("cue-colleague", "our colleague Tolu Adeyemi", "our colleague [name]"),
    ("title-lower", "mr smith and dr patel", "mr [name] and dr [name]"),
    ("title-initials", "Dr J. K. Rowling", "Dr [name]"),
    ("ambiguous-with-surname", "Will Smith and Grant Shapps", "[name] and [name]"),
    ("initial-before", "J. Sykes", "[name]"),
    ("given-before-redacted", "Priya Mensah", "[name]"),
    # councils in any case, abbreviated
    ("council-lower", "manchester city council", "[council]"),
    ("council-cased", "Manchester City Council", "[council]"),
    ("council-known-place", "with leeds council", "with [council]"),
    ("council-cc", "Kent CC and Wigan MBC", "[council] and [council]"),
    ("council-initials", "RMBC, LBH and RBKC", "[council], [council] and [council]"),
    ("council-lb", "LB Hackney", "[council]"),
    # NHS bodies
    ("trust", "Leeds Teaching Hospitals NHS Trust", "[health body]"),
    ("trust-lower", "with leeds teaching hospitals nhs trust", "with [health body]"),
    ("ccg", "NHS Leeds CCG", "[health body]"),
    ("health-board", "Betsi Cadwaladr University Health Board", "[health body]"),
    ("trust-initials", "GSTFT", "[health body]"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_redacts_each_kind(text, expected):
    assert redact(text) == expected


ORDINARY = [
    "DWP and HMRC, the DVLA and the NHS",
    "the council said no; full Council agreed; the County Council",
    "our local nhs trust and the NHS trust",
    "a big shift: 3 new ways to pay, 10 minutes walk",
    "b2b 2nd phase at 5pm, a4 paper",
    "Care Act 2014 - online, 95% or 98%, budget down 12,000,000 since 2010",
    "www.gov.uk/service-manual and GOV.UK Verify, gov.uk",
    "github.com and twitter.com",
    "ASP.NET and VB.NET apps",
    "at 10:30:00 on version 1.2.3",
    "in 2014 15 we saved",
    "dates 01.02.2014 - 2015",
    "Will the council cope? May elections. Grant Funding",
    "a grace period, a rose garden, the will to change",
    "BBC, DECC and PCC",
    "Digital Practitioner (web teams etc), English county council",
    "e.g. i.e. etc.",
    "Please don't mandate a single national platform",
    "council tax 2015/16 bills, Cllr approval needed",
    "As a large county council; a shire district council; two-tier councils",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_keeps_ordinary_text(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "kind",
    sorted(
        {
            organisation_type(o)
            for o in (
                "Kent County Council",
                "Craven District Council",
                "Camden London Borough",
                "Rochdale Metropolitan Borough Council",
                "Renfrewshire Council",
                "Monmouthshire County Council",
                "Belfast City Council",
                "Milton Keynes Council",
                "Department for Communities & Local Government",
            )
        }
    ),
)
def test_attribution_kinds_survive(kind):
    assert Anonymiser(NAMES, ORGS)(f"Web Manager, {kind}") == f"Web Manager, {kind}"


def test_long_adversarial_input_is_quick():
    anonymiser = Anonymiser(NAMES, ORGS)
    for text in [
        "0 " * 3000,
        "(0)" * 3000,
        "Word " * 3000,
        "0-" * 3000,
        "+4 " * 3000,
        "a.b" * 2000 + "@",
        "foo " * 3000 + "council",
    ]:
        start = time.process_time()
        anonymiser(text)
        assert time.process_time() - start < 1.5, text[:10]


def test_ner_path_marks_people_and_organisations_but_not_departments(monkeypatch):
    """With a trained pipeline, PERSON and ORG entities go; departments and placeholders stay."""

    def fake(text):
        ents = []
        for word, label in (("Zed Quux", "PERSON"), ("Acme Widgets", "ORG"), ("Cabinet Office", "ORG"), ("DWP", "ORG")):
            at = text.find(word)
            if at >= 0:
                ents.append(SimpleNamespace(text=word, label_=label, start_char=at, end_char=at + len(word)))
        return SimpleNamespace(ents=sorted(ents, key=lambda e: e.start_char))

    monkeypatch.setattr(anonymise_module, "_ner_pipeline", lambda: fake)
    text = "zed Quux and Zed Quux of Acme Widgets met the Cabinet Office and DWP"
    assert Anonymiser()(text, ner=True) == "zed Quux and [name] of [organisation] met the Cabinet Office and DWP"
    assert Anonymiser()(text) == text  # no NER unless asked for


_MARKS = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))
_SOUP = st.lists(
    st.sampled_from(
        list("aAbBmMsSwW01456789 .-@+()[]:/,\t")
        + ["dot", "at", " Council", " Sarah", "gmail", "com", "uk", "0161 ", "\u200b", "ｊ"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=80), _SOUP))
def test_redaction_is_idempotent_and_leaves_no_contact_pattern(text):
    anonymiser = Anonymiser(NAMES, ORGS)
    once = anonymiser(text)
    assert anonymiser(once) == once
    rest = _MARKS.sub(" ", once)
    assert not _EMAIL.search(rest), once
    assert _POSTCODE.sub(anonymise_module._postcode, rest) == rest, once
    assert anonymise_module._DIGIT_RUN.sub(anonymise_module._phones, rest) == rest, once


def test_quotes_of_salted_answers_carry_none_of_the_new_kinds(gold_db):
    """Every q16 answer gets details of each kind; no quote keeps any of them."""
    from coder.report.quotes import representative_quotes

    salts = [
        "Post to m1 1ae or 14 Acacia Avenue.",
        "Ring 0161.496.0000 or 0044 7700 900456.",
        "My NI is QQ 12 34 56 C.",
        "See www.example.co.uk and bit.ly/x.",
        "Follow @jsmith_digital.",
        "Mail jane dot doe at gmail dot com.",
        "Server 192.168.0.1.",
        "Card 4111 1111 1111 1111.",
        "DOB 01/02/1980.",
        "Ask my manager Sarah Jones.",
        "We work with manchester city council and Leeds Teaching Hospitals NHS Trust.",
    ]
    rows = gold_db.execute(
        "SELECT id, text FROM answers WHERE question_id = 'q16' AND is_answer = 1 ORDER BY id"
    ).fetchall()
    with gold_db.conn:
        for i, (answer_id, text) in enumerate(rows):
            gold_db.execute("UPDATE answers SET text = ? WHERE id = ?", [f"{salts[i % len(salts)]} {text}", answer_id])
    leaked = re.compile(
        r"m1 1ae|Acacia|0161|7700|QQ 12|example\.co|bit\.ly|jsmith|jane|192\.168|4111|1980|Sarah|Jones|manchester|Leeds",
        re.I,
    )
    quotes = representative_quotes(gold_db, "q16", n=5)
    assert sum("[" in quote.text for quote in quotes) >= 3  # the salted answers are quoted
    for quote in quotes:
        assert not leaked.search(quote.text), quote.text
