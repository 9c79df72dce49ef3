"""Redaction of people, contact details and councils; attribution by kind, not by name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from coder.report.anonymise import anonymise, attribution, name_parts, organisation_type, place_of

NAMES = [
    "Deborah Sykes",
    "Cllr Eleanor Greenhalgh",
    "F. Baird",
    "Grace Mensah",
    "Rhian Morgan-Jones",
    "Bridget O'Rourke",
]
ORGS = [
    "Waltham Forest Council",
    "Tunbridge Wells Borough Council",
    "Camden London Borough",
    "Department for Communities & Local Government",
    "Reading Borough Council",
    "Kent County Council",
]


def redact(text: str) -> str:
    return anonymise(text, names=NAMES, organisations=ORGS)


@pytest.mark.parametrize(
    "text, expected",
    [
        # email addresses, including ones built from a name
        ("mail deborah.sykes@walthamforest.gov.uk now", "mail [email] now"),
        ("j_o'neil+survey@example.co.uk.", "[email]."),
        # UK phone numbers
        ("call 01234 567890 today", "call [phone] today"),
        ("call +44 20 7946 0000.", "call [phone]."),
        ("mobile 07700 900123", "mobile [phone]"),
        ("(01234) 567890 or +44 (0)161 496 0000", "[phone] or [phone]"),
        ("07700900123", "[phone]"),
        ("freephone 0800 123 4567", "freephone [phone]"),
        # UK postcodes
        ("we are at SW1P 4DF.", "we are at [postcode]."),
        ("M1 1AE and EC1A 1BB", "[postcode] and [postcode]"),
        # council names: patterns and the database's own organisations
        ("ask Essex County Council", "ask [council]"),
        ("the London Borough of Barnet helped", "the [council] helped"),
        ("City of Edinburgh Council", "[council]"),
        ("Wigan Metropolitan Borough Council and us", "[council] and us"),
        ("Working with Bury Council.", "Working with [council]."),
        ("Hounslow London Borough", "[council]"),
        ("unlike tunbridge wells borough council", "unlike [council]"),
        ("Camden London Borough", "[council]"),
        ("we in Kent share", "we in [council] share"),
        ("Department for Communities and Local Government", "[organisation]"),  # not a council: its own mark
        # people: titles, the database's names and their parts
        ("Cllr Smith said so", "Cllr [name] said so"),
        ("ask Mr J. Jones", "ask Mr [name]"),
        ("Dr Ann Patel chaired", "Dr [name] chaired"),
        ("Cllr Eleanor Greenhalgh agreed", "Cllr [name] agreed"),
        ("Deborah Sykes wrote this", "[name] wrote this"),
        ("deborah sykes, DEBORAH and Sykes's team", "[name], [name] and [name]'s team"),
        ("Morgan-Jones and O’Rourke", "[name] and [name]"),
        ("Baird knows", "[name] knows"),
        ("Grace Mensah, Grace", "[name], [name]"),
        # URLs go whole (a council's site names the council), but for the state's public sites
        ("see https://www.linkedin.com/in/dsykes/.", "see [url]."),
        ("twitter.com/dsykes", "[url]"),
        ("www.example.gov.uk/staff/jsmith", "[url]"),
        ("www.example.gov.uk/~sykes/cv", "[url]"),
        ("https://github.com/alphagov", "[url]"),
        ("www.gov.uk/government/people/deborah-sykes", "[url]"),
    ],
    ids=lambda v: v[:30] if isinstance(v, str) else None,
)
def test_redacts(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "DWP",
        "Universal Credit",
        "Cabinet Office",
        "GOV.UK",
        "GDS and GOV.UK Verify",
        "HMRC, DVLA and the NHS",
        "Department for Work & Pensions",
        "a grace period for rent arrears",
        "Reading the small print costs time",
        "'Future Council' programme",
        "The County Council agreed, then full Council voted",
        "Cllrs who understand digital",
        "councils & health",
        "Care Act 2014 - online assessments",
        "95% or 98% coverage",
        "budget down 12,000,000 since 2010",
        "B2B and b2b 2nd phase",
        "www.gov.uk/service-manual",
        "github.com and twitter.com",
        "Lord Mayor's show",
    ],
)
def test_leaves_ordinary_text(text):
    assert redact(text) == text


def test_respondent_own_name_only():
    assert anonymise("Thanks - jo rowntree", names=["jo rowntree"], organisations=[]) == "Thanks - [name]"
    assert anonymise("no names here", names=[], organisations=[]) == "no names here"


def test_name_parts_skip_titles_and_initials():
    assert name_parts("Cllr Eleanor Greenhalgh") == ["Eleanor", "Greenhalgh"]
    assert name_parts("F. Baird") == ["Baird"]
    assert name_parts("Rhian Morgan-Jones") == ["Rhian", "Morgan-Jones", "Morgan", "Jones"]


@pytest.mark.parametrize(
    "organisation, place",
    [
        ("Kent County Council", "Kent"),
        ("Hammersmith & Fulham London Borough", "Hammersmith & Fulham"),
        ("London Borough of Barnet", "Barnet"),
        ("City of London Corporation", None),  # "London" alone is no council
        ("Reading Borough Council", None),  # an everyday word
        ("Department for Communities & Local Government", None),
    ],
)
def test_place_of(organisation, place):
    assert place_of(organisation) == place


@pytest.mark.parametrize(
    "organisation, kind",
    [
        ("Kent County Council", "English county council"),
        ("Tunbridge Wells Borough Council", "English district or borough council"),
        ("Craven District Council", "English district or borough council"),
        ("Oxford City Council", "English district or borough council"),
        ("Camden London Borough", "London borough"),
        ("London Borough of Barnet", "London borough"),
        ("Islington Council", "London borough"),
        ("Rochdale Metropolitan Borough Council", "English metropolitan borough"),
        ("Leeds City Council", "English metropolitan borough"),
        ("Renfrewshire Council", "Scottish council"),
        ("City of Edinburgh Council", "Scottish council"),
        ("Neath & Port Talbot County Borough Council", "Welsh council"),
        ("Monmouthshire County Council", "Welsh council"),
        ("Belfast City Council", "Northern Irish council"),
        ("Department for Communities & Local Government", "central government"),
        ("Milton Keynes Council", "local authority"),
        ("", ""),
    ],
)
def test_organisation_type(organisation, kind):
    assert organisation_type(organisation) == kind


def test_attribution_is_role_and_kind():
    assert attribution("Digital Practitioner (web teams etc)", "Kent County Council") == (
        "Digital Practitioner (web teams etc), English county council"
    )
    assert attribution("", "Kent County Council") == "Respondent, English county council"
    assert attribution("Service Head", None) == "Service Head"


def test_anonymise_imports_no_ui_nor_cli():
    code = "import sys, coder.report.anonymise; bad = [m for m in ('click', 'textual', 'rich', 'sqlite_utils') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
