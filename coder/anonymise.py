"""Take identifying details out of survey answers before they are quoted.

Quotes go into published reports, so this errs towards redacting: people's names,
email addresses, UK phone numbers and postcodes, personal URLs, and council or
organisation names become `[name]`, `[email]`, `[phone]`, `[postcode]`,
`[council]` and `[organisation]` (one that is not a council, such as a
government department a respondent works for). What counts as a name or an
organisation comes from the database (every `name` and `organisation` value)
plus patterns ("Cllr Jones", "X Borough Council", "London Borough of X").
Pure: no database, no UI, and spaCy NER only when asked for and installed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

NAME, COUNCIL, EMAIL, PHONE, POSTCODE = "[name]", "[council]", "[email]", "[phone]", "[postcode]"
ORGANISATION = "[organisation]"
_COUNCIL_WORDS = re.compile(r"\b(?:Council|Borough|Corporation|Authority)\b", re.IGNORECASE)

TITLES = "Mr Mrs Ms Miss Mx Dr Prof Professor Cllr Councillor Sir Dame Lord Lady Rev Revd Reverend".split()
_TITLE_SET = frozenset(t.casefold() for t in TITLES)

# Everyday words that are also name parts or place names ("Grace", "Will", "Reading"):
# these are redacted only when capitalised, so "a grace period" survives.
COMMON_WORDS = frozenset(
    """will mark bill rose grace rob hope joy faith dawn may june april august summer robin
    jack frank grant wade hunter baker cook smith bell bush hill wood field green white black
    brown young king rich long short hall lane house page price power ward wells reading bath
    hart sale dale lee ben sally kettle chase guy pat penny ray sky storm river brook moss
    rock stone north south east west forest borders islands dales vale city county""".split()
)

# Words that make "X Council" a body rather than a local authority ("Future Council"
# programme, Arts Council, full council meeting).
GENERIC_COUNCILS = frozenset(
    """future arts privy design research security european youth sentencing medical legal science
    funding advisory parish town local community sports crafts british executive regional digital
    transformation new shadow unitary full whole our your their this that the a an each every
    county borough district city metropolitan london royal other neighbouring neighboring
    national health social care economic engineering general nursing""".split()
)

_CAP = r"(?:St\.|[A-Z][\w'’-]*)"  # no full stops: "...Council." ends a sentence
_PLACE = rf"{_CAP}(?:[ \t]+(?:(?:&|and|upon|on|in|under|of)[ \t]+)?{_CAP})*"
_COUNCIL_PATTERNS = [
    # "London Borough of X", "Royal Borough of X", "Metropolitan Borough of X (Council)"
    re.compile(rf"\b(?:(?:Royal|London|Metropolitan|County)[ \t]+)?Borough[ \t]+of[ \t]+{_PLACE}(?:[ \t]+Council)?"),
    # "City of X", "City and County of X", with "Council" or "Corporation"
    re.compile(rf"\bCity[ \t]+(?:and[ \t]+County[ \t]+)?of[ \t]+{_PLACE}(?:[ \t]+(?:Council|Corporation))?"),
    # "Camden London Borough"
    re.compile(rf"\b(?P<place>{_PLACE})[ \t]+London[ \t]+Borough\b"),
    # "X Council", which also covers "X Borough/County/District/City Council"
    re.compile(rf"\b(?P<place>{_PLACE})[ \t]+Councils?\b"),
]
_COUNCIL_TYPE_WORDS = frozenset("county borough district city metropolitan royal london town parish".split())

_EMAIL = re.compile(r"[\w.+'’-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:\bhttps?://|\bwww\.|\b(?=[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|uk|io|me)/))"
    r"(?P<host>[\w-]+(?:\.[\w-]+)*)(?P<path>/[^\s<>\"'“”‘’()\[\]]*)?",
    re.IGNORECASE,
)
_SOCIAL = re.compile(r"(?:^|\.)(?:twitter|x|facebook|instagram|linkedin|tiktok|threads)\.com$", re.I)
_PERSONAL_PATH = re.compile(r"^/(?:~|@|(?:in|pub|profile|profiles|people|person|staff|user|users|member|members|u)/)", re.I)
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44[ \t]?(?:\(0\)[ \t]?)?\d{2,5}|\(?0\d{1,4}\)?)[ \t-]?\d{3,4}[ \t-]?\d{3,4}(?![\w])"
)
# Case-sensitive on purpose: lower-case look-alikes ("b2b 2nd") are ordinary words.
_POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b")
_TITLED = re.compile(
    rf"\b(?P<title>{'|'.join(TITLES)})\.?[ \t]+(?P<who>(?:[A-Z]\.[ \t]*)*(?P<first>[A-Z][\w'’-]+)(?:[ \t]+(?P<second>[A-Z][\w'’-]+))?)"
)
_NOT_A_PERSON = frozenset(
    "mayor mayoress chair chairman leader chancellor president council county borough district city cabinet member members officer officers".split()
)
_REPEATS = re.compile(r"(\[(?:name|council|organisation)\])(?:(?:[ \t]+|-)\1)+")  # "[name] [name]" from "Ann Lee-Smith"


# Function words that start sentences or join names; spaCy's list would pull in spaCy itself.
_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either even ever every few for from further
    had has have having he her here hers herself him himself his how however i if in into is it its itself just
    many me more most much must my myself neither no nor not now of off often on once only or other our ours
    ourselves out over own per please same she should since so some such than that the their theirs them
    themselves then there these they this those though through to too under until up upon us very via was we
    well were what when where whether which while who whom whose why will with within without would yet you
    your yours yourself yourselves""".split()
)


def _words(phrase: str) -> str:
    """A regex for a phrase: flexible spaces, "&" or "and", curly or straight apostrophes."""
    parts = []
    for token in re.split(r"\s+", phrase.strip()):
        if token.casefold() in ("&", "and"):
            parts.append(r"(?:&|and)")
        else:
            parts.append("['’]".join(re.escape(piece) for piece in re.split(r"['’]", token)))
    return r"[\s,]+".join(parts)


def _alternation(phrases: Iterable[str]) -> str:
    # Longest first so "Kent County Council" wins over "Kent".
    return "|".join(_words(p) for p in sorted(set(phrases), key=lambda p: (-len(p), p)))


def name_parts(name: str) -> list[str]:
    """The parts of a full name worth redacting on their own: no titles, no initials."""
    parts = []
    for token in re.split(r"[\s,]+", name.strip()):
        token = token.strip(".,;:()\"'")
        if len(token) < 2 or token.casefold() in _TITLE_SET:
            continue
        parts.append(token)
        if "-" in token:  # "Morgan-Jones" may turn up as "Jones"
            parts += [p for p in token.split("-") if len(p) >= 2]
    return parts


def place_of(organisation: str) -> str | None:
    """The place in a council's name ("Kent" of "Kent County Council"), if it is one."""
    org = organisation.strip()
    if not re.search(r"\b(?:Council|Borough|Corporation)\b", org, re.I):
        return None
    place = re.sub(r"^(?:The\s+)?(?:(?:Royal|London|Metropolitan)\s+)?(?:Borough|City(?:\s+and\s+County)?)\s+of\s+", "", org, flags=re.I)
    place = re.sub(
        r"(?:\s+(?:Metropolitan|County|Royal|London|City|District|Borough|Town|Parish|Council|Corporation))+$", "", place, flags=re.I
    )
    place = place.strip(" ,-")
    if len(place) < 3 or place.casefold() in COMMON_WORDS or place.casefold() in GENERIC_COUNCILS or place.casefold() in _STOP:
        return None
    return place


class Anonymiser:
    """Redaction for one database's names and organisations, compiled once."""

    def __init__(self, names: Iterable[str] = (), organisations: Iterable[str] = ()):
        names = [n for n in (s.strip() for s in names) if n]
        organisations = [o for o in (s.strip() for s in organisations) if o]
        full = {" ".join(name_parts(n)) for n in names} | set(names)
        full = {f for f in full if len(f.split()) > 1}
        parts = {p for n in names for p in name_parts(n)}
        rare = {p for p in parts if p.casefold() not in COMMON_WORDS and p.casefold() not in _STOP}
        common = {p for p in parts if p not in rare and p.casefold() not in _STOP}
        self._full_names = self._compile(full, re.IGNORECASE)
        self._rare_parts = self._compile(rare, re.IGNORECASE)
        # Everyday words among name parts: only when capitalised ("Grace", "GRACE", not "grace").
        cased = {v for p in common for v in (p[:1].upper() + p[1:].lower(), p.upper())}
        self._common_parts = self._compile(cased, 0)
        councils = {o for o in organisations if _COUNCIL_WORDS.search(o)}
        self._organisations = self._compile(councils, re.IGNORECASE)
        self._other_organisations = self._compile(set(organisations) - councils, re.IGNORECASE)
        places = {p for o in organisations if (p := place_of(o))}
        multi = {p for p in places if len(p.split()) > 1}
        single = {v for p in places - multi for v in (p[:1].upper() + p[1:], p.upper())}
        self._multi_places = self._compile(multi, re.IGNORECASE)
        self._single_places = self._compile(single, 0)
        self._name_parts = {p.casefold() for p in parts}

    @staticmethod
    def _compile(phrases: set[str], flags: int) -> re.Pattern | None:
        if not phrases:
            return None
        return re.compile(rf"(?<![\w@/])(?:{_alternation(phrases)})(?![\w@])", flags)

    def __call__(self, text: str, *, ner: bool = False) -> str:
        text = _EMAIL.sub(EMAIL, text)
        text = _URL.sub(self._url, text)
        text = _PHONE.sub(_phone, text)
        text = _POSTCODE.sub(POSTCODE, text)
        for pattern in (self._organisations, self._multi_places):
            if pattern:
                text = pattern.sub(COUNCIL, text)
        if self._other_organisations:
            text = self._other_organisations.sub(ORGANISATION, text)
        for pattern in _COUNCIL_PATTERNS:
            text = pattern.sub(_council, text)
        if self._single_places:
            text = self._single_places.sub(COUNCIL, text)
        text = _TITLED.sub(_titled, text)
        for pattern in (self._full_names, self._rare_parts, self._common_parts):
            if pattern:
                text = pattern.sub(NAME, text)
        if ner:
            text = _ner_names(text)
        return _REPEATS.sub(r"\1", text)

    def _url(self, match: re.Match) -> str:
        url, host, path = match.group(0), match.group("host"), match.group("path") or ""
        trail = re.search(r"[.,;:!?]+$", url)
        if trail:  # the full stop after a URL ends the sentence, not the URL
            url, path = url[: trail.start()], path[: len(path) - len(trail.group(0))] if path else path
        personal = bool(path.strip("/")) and (
            _SOCIAL.search(host) is not None
            or _PERSONAL_PATH.search(path) is not None
            or any(seg.casefold() in self._name_parts for seg in re.split(r"[/._-]+", path) if seg)
        )
        if not personal:
            return match.group(0)
        return url[: len(url) - len(path)] + "/" + NAME + (trail.group(0) if trail else "")


def _phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if digits.startswith("44"):
        national = digits[2:].removeprefix("0")
        ok = 9 <= len(national) <= 10
    else:
        ok = 10 <= len(digits) <= 11
    return PHONE if ok else match.group(0)


def _council(match: re.Match) -> str:
    place = match.groupdict().get("place")
    if place is None:
        return COUNCIL
    # "We and Kent County Council": keep the leading ordinary words, redact the rest.
    words = place.split()
    keep = 0
    while keep < len(words) and (words[keep].casefold() in _STOP or words[keep] in ("&",)):
        keep += 1
    named = [w for w in words[keep:] if w.casefold() not in _COUNCIL_TYPE_WORDS]
    if not named or all(w.casefold() in GENERIC_COUNCILS for w in named):
        return match.group(0)
    prefix = " ".join(words[:keep])
    return f"{prefix} {COUNCIL}" if prefix else COUNCIL


def _titled(match: re.Match) -> str:
    first, second = match.group("first"), match.group("second")
    if re.sub(r"['’]s$", "", first.casefold()) in _NOT_A_PERSON:
        return match.group(0)
    # Keep the title: "Cllr [name]" still tells the reader it was a councillor.
    if second and (second.casefold() in _STOP or second.casefold() in _NOT_A_PERSON):
        end = match.start("second") - match.start()
        tail = match.group(0)[end:]
        return f"{match.group('title')} {NAME} {tail}"
    return f"{match.group('title')} {NAME}"


@lru_cache(maxsize=1)
def _ner_pipeline():
    """en_core_web_sm's NER if it is installed; it is never required nor downloaded."""
    try:
        import spacy

        return spacy.load("en_core_web_sm", exclude=["parser", "lemmatizer"])
    except (ImportError, OSError):
        return None


def ner_available() -> bool:
    return _ner_pipeline() is not None


def _ner_names(text: str) -> str:
    nlp = _ner_pipeline()
    if nlp is None:
        return text
    doc = nlp(text)
    for ent in reversed(doc.ents):
        if ent.label_ == "PERSON" and "[" not in ent.text:
            text = text[: ent.start_char] + NAME + text[ent.end_char :]
    return text


@lru_cache(maxsize=8)
def _cached(names: tuple[str, ...], organisations: tuple[str, ...]) -> Anonymiser:
    return Anonymiser(names, organisations)


def anonymise(text: str, *, names: Iterable[str] = (), organisations: Iterable[str] = (), ner: bool = False) -> str:
    """Redact people, contact details and councils in `text`.

    `names` are full names (every part is redacted too); `organisations` are
    organisation names (and the place in a council's name). `ner=True` also
    redacts PERSON entities when en_core_web_sm is installed.
    """
    return _cached(tuple(names), tuple(organisations))(text, ner=ner)


# Attribution: a role and a kind of organisation, never who or which one.

LONDON_BOROUGHS = """barking dagenham|barnet|bexley|brent|bromley|camden|croydon|ealing|enfield|greenwich|hackney|
hammersmith fulham|haringey|harrow|havering|hillingdon|hounslow|islington|kensington chelsea|kingston upon thames|
lambeth|lewisham|merton|newham|redbridge|richmond upon thames|southwark|sutton|tower hamlets|waltham forest|
wandsworth|westminster|london"""
METROPOLITAN = """barnsley|birmingham|bolton|bradford|bury|calderdale|coventry|doncaster|dudley|gateshead|kirklees|
knowsley|leeds|liverpool|manchester|newcastle upon tyne|north tyneside|oldham|rochdale|rotherham|st helens|salford|
sandwell|sefton|sheffield|solihull|south tyneside|stockport|sunderland|tameside|trafford|wakefield|walsall|wigan|
wirral|wolverhampton"""
SCOTTISH = """aberdeen|aberdeenshire|angus|argyll bute|clackmannanshire|dumfries galloway|dundee|east ayrshire|
east dunbartonshire|east lothian|east renfrewshire|edinburgh|falkirk|fife|glasgow|highland|inverclyde|midlothian|
moray|comhairle nan eilean siar|na h-eileanan siar|western isles|north ayrshire|north lanarkshire|orkney islands|orkney|
perth kinross|renfrewshire|scottish borders|shetland islands|shetland|south ayrshire|south lanarkshire|stirling|
west dunbartonshire|west lothian"""
WELSH = """blaenau gwent|bridgend|caerphilly|cardiff|carmarthenshire|ceredigion|conwy|denbighshire|flintshire|gwynedd|
isle of anglesey|anglesey|merthyr tydfil|monmouthshire|neath port talbot|newport|pembrokeshire|powys|
rhondda cynon taf|swansea|torfaen|vale of glamorgan|wrexham"""
NORTHERN_IRISH = """antrim|ards|armagh|ballymena|ballymoney|banbridge|belfast|carrickfergus|castlereagh|coleraine|
cookstown|craigavon|derry|down|dungannon|fermanagh|larne|limavady|lisburn|magherafelt|moyle|newry mourne|
newtownabbey|north down|omagh|strabane|mid ulster|causeway coast glens|mid east antrim|ards north down|
lisburn castlereagh|newry mourne down|fermanagh omagh|derry strabane|antrim newtownabbey|armagh banbridge craigavon"""


def _place_set(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in text.replace("\n", "").split("|"))


_LONDON, _METS, _SCOTS, _WELSH, _NI = map(_place_set, (LONDON_BOROUGHS, METROPOLITAN, SCOTTISH, WELSH, NORTHERN_IRISH))
_CENTRAL = re.compile(
    r"\b(?:Department|Dept|Ministry|Cabinet Office|HM Treasury|Home Office|Government Digital Service|DCLG|CLG|DWP|HMRC|GDS)\b", re.I
)


def _place_key(organisation: str) -> str:
    """Normalised place of a council ("Neath & Port Talbot" and "Neath Port Talbot" meet)."""
    org = re.sub(r"[&,.'’()]", " ", organisation.casefold())
    org = re.sub(r"^\s*(?:the\s+)?(?:(?:royal|london|metropolitan)\s+)?(?:borough|city(?:\s+and\s+county)?)\s+of\s+", "", org)
    words = [w for w in org.split() if w not in ("and", "the")]
    while len(words) > 1 and words[-1] in _COUNCIL_TYPE_WORDS | {"council", "corporation"}:
        words.pop()
    return " ".join(words).replace("-", " ")


def organisation_type(organisation: str) -> str:
    """What kind of organisation, coarse enough not to identify it."""
    org = organisation.strip()
    if not org:
        return ""
    lower = org.casefold()
    if _CENTRAL.search(org) and "council" not in lower:
        return "central government"
    place = _place_key(org)
    if place in _SCOTS:
        return "Scottish council"
    if place in _WELSH:
        return "Welsh council"
    if place in _NI:
        return "Northern Irish council"
    # The City of London is not a borough, but naming it "the City" would identify it.
    if "london borough" in lower or place in _LONDON:
        return "London borough"
    if "metropolitan" in lower or place in _METS:
        return "English metropolitan borough"
    if "county council" in lower:
        return "English county council"
    if re.search(r"\b(?:borough|district|city)\b", lower):
        return "English district or borough council"
    return "local authority"


def attribution(role: str | None, organisation: str | None) -> str:
    """"Digital Practitioner (web teams etc), English county council": role and kind only."""
    kind = organisation_type(organisation or "")
    role = (role or "").strip() or "Respondent"
    return f"{role}, {kind}" if kind else role
