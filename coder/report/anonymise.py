"""Take identifying details out of survey answers before they are quoted.

Quotes go into published reports, so this errs towards redacting: when in doubt,
a detail goes. Each kind has its own mark, so a quote still reads: `[name]`,
`[council]`, `[organisation]` (one that is not a council, such as a government
department a respondent works for), `[health body]` (an NHS trust, health board,
CCG or hospital), `[email]`, `[phone]`, `[postcode]`, `[address]`, `[url]`,
`[handle]`, `[ip address]`, `[card number]`, `[ni number]`, `[date of birth]`
and `[number]` (any other long number or reference). What counts as a name or
an organisation comes from the database (every `name` and `organisation` value),
patterns ("Cllr Jones", "my manager Sarah", "X Borough Council", "London Borough
of X", "X NHS Trust") and a list of common given names; spaCy's NER adds people
and organisations when a trained pipeline is installed. Pure: no database, no UI.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

NAME, COUNCIL, EMAIL, PHONE, POSTCODE = "[name]", "[council]", "[email]", "[phone]", "[postcode]"
ORGANISATION, HEALTH_BODY, ADDRESS = "[organisation]", "[health body]", "[address]"
URL, HANDLE, IP_ADDRESS, CARD, NI_NUMBER = "[url]", "[handle]", "[ip address]", "[card number]", "[ni number]"
DATE_OF_BIRTH, NUMBER = "[date of birth]", "[number]"
PLACEHOLDERS = (
    NAME,
    COUNCIL,
    ORGANISATION,
    HEALTH_BODY,
    EMAIL,
    PHONE,
    POSTCODE,
    ADDRESS,
    URL,
    HANDLE,
    IP_ADDRESS,
    CARD,
    NI_NUMBER,
    DATE_OF_BIRTH,
    NUMBER,
)
_COUNCIL_WORDS = re.compile(r"\b(?:Council|Borough|Corporation|Authority)\b", re.IGNORECASE)

TITLES = [
    "Mr",
    "Mrs",
    "Ms",
    "Miss",
    "Mx",
    "Dr",
    "Prof",
    "Professor",
    "Cllr",
    "Councillor",
    "Sir",
    "Dame",
    "Lord",
    "Lady",
    "Rev",
    "Revd",
    "Reverend",
]
_TITLE_SET = frozenset(t.casefold() for t in TITLES)

# Given names that are everyday words too ("Will", "Grace", "May"): both lists below hold them.
_EVERYDAY_GIVEN_NAMES = frozenset(
    [
        "will",
        "mark",
        "bill",
        "rose",
        "grace",
        "rob",
        "hope",
        "joy",
        "faith",
        "dawn",
        "may",
        "june",
        "april",
        "august",
        "summer",
        "robin",
        "jack",
        "frank",
        "grant",
        "hunter",
        "dale",
        "ben",
        "sally",
        "guy",
        "pat",
        "penny",
        "ray",
        "sky",
        "brook",
    ]
)

# Everyday words that are also name parts or place names ("Grace", "Will", "Reading"):
# these are redacted only when capitalised, so "a grace period" survives.
COMMON_WORDS = _EVERYDAY_GIVEN_NAMES | frozenset(
    [
        "wade",
        "baker",
        "cook",
        "smith",
        "bell",
        "bush",
        "hill",
        "wood",
        "field",
        "green",
        "white",
        "black",
        "brown",
        "young",
        "king",
        "rich",
        "long",
        "short",
        "hall",
        "lane",
        "house",
        "page",
        "price",
        "power",
        "ward",
        "wells",
        "reading",
        "bath",
        "hart",
        "sale",
        "lee",
        "kettle",
        "chase",
        "storm",
        "river",
        "moss",
        "rock",
        "stone",
        "north",
        "south",
        "east",
        "west",
        "forest",
        "borders",
        "islands",
        "dales",
        "vale",
        "city",
        "county",
    ]
)

# Common UK given names. A capitalised one is a person ("Sarah said"), in any case if it is
# no everyday word; one in AMBIGUOUS_NAMES only with a surname after it ("Will Smith", not
# "Will the council").
GIVEN_NAMES = frozenset(
    [
        "aaron",
        "abdul",
        "abigail",
        "adam",
        "adrian",
        "ahmed",
        "aidan",
        "aisha",
        "alan",
        "alastair",
        "alex",
        "alexander",
        "alexandra",
        "alfie",
        "alice",
        "alison",
        "alistair",
        "amanda",
        "amelia",
        "amir",
        "amy",
        "andrea",
        "andrew",
        "andy",
        "angela",
        "angus",
        "anita",
        "ann",
        "anna",
        "anne",
        "annette",
        "anthony",
        "antonia",
        "archie",
        "arjun",
        "arthur",
        "ashley",
        "asif",
        "ayesha",
        "barbara",
        "barry",
        "beatrice",
        "becky",
        "ben",
        "benjamin",
        "bernadette",
        "bernard",
        "beth",
        "bethan",
        "bethany",
        "beverley",
        "bilal",
        "brenda",
        "brendan",
        "brian",
        "bridget",
        "bronwen",
        "bruce",
        "bryony",
        "callum",
        "cameron",
        "carl",
        "carla",
        "carmen",
        "caroline",
        "carys",
        "catherine",
        "cathy",
        "ceri",
        "charlie",
        "charlotte",
        "chloe",
        "chris",
        "christian",
        "christina",
        "christine",
        "christopher",
        "ciara",
        "claire",
        "clara",
        "colin",
        "connor",
        "craig",
        "dafydd",
        "daniel",
        "danielle",
        "darren",
        "dave",
        "david",
        "debbie",
        "deborah",
        "declan",
        "deepak",
        "denise",
        "derek",
        "diana",
        "diane",
        "dominic",
        "donna",
        "dorothy",
        "duncan",
        "dylan",
        "eamon",
        "edward",
        "eileen",
        "elaine",
        "eleanor",
        "elena",
        "eliza",
        "elizabeth",
        "ella",
        "ellie",
        "emily",
        "emma",
        "eric",
        "erin",
        "ethan",
        "eve",
        "evelyn",
        "fatima",
        "fiona",
        "fraser",
        "freddie",
        "freya",
        "gail",
        "gareth",
        "gary",
        "gavin",
        "gemma",
        "geoff",
        "geoffrey",
        "george",
        "georgina",
        "gerald",
        "gillian",
        "gordon",
        "graham",
        "gregory",
        "gurpreet",
        "gwen",
        "hamish",
        "hannah",
        "harriet",
        "harry",
        "harvey",
        "hassan",
        "heidi",
        "helen",
        "henry",
        "hugh",
        "hussain",
        "ian",
        "imran",
        "irene",
        "isaac",
        "isabel",
        "isabella",
        "isla",
        "ivan",
        "jacob",
        "jacqueline",
        "james",
        "jamie",
        "jane",
        "janet",
        "janice",
        "jasmine",
        "jason",
        "jasper",
        "jayne",
        "jean",
        "jeff",
        "jeffrey",
        "jennifer",
        "jenny",
        "jeremy",
        "jessica",
        "jill",
        "joan",
        "joanna",
        "joanne",
        "jodie",
        "joe",
        "joel",
        "john",
        "jonathan",
        "joseph",
        "josh",
        "joshua",
        "judith",
        "judy",
        "julia",
        "julian",
        "julie",
        "justin",
        "kamal",
        "karen",
        "karl",
        "kate",
        "katherine",
        "kathleen",
        "kathryn",
        "katie",
        "kayleigh",
        "keith",
        "kelly",
        "kenneth",
        "kerry",
        "kevin",
        "khalid",
        "kieran",
        "kim",
        "kirsty",
        "laura",
        "lauren",
        "leah",
        "leanne",
        "leon",
        "leslie",
        "lewis",
        "liam",
        "linda",
        "lindsay",
        "lisa",
        "lloyd",
        "logan",
        "lorna",
        "lorraine",
        "louise",
        "lucy",
        "luke",
        "lydia",
        "lynn",
        "lynne",
        "mandy",
        "manoj",
        "margaret",
        "maria",
        "marie",
        "marion",
        "martin",
        "martyn",
        "mary",
        "matthew",
        "maureen",
        "megan",
        "melanie",
        "michael",
        "michelle",
        "mohamed",
        "mohammad",
        "mohammed",
        "molly",
        "monica",
        "muhammad",
        "nadia",
        "naomi",
        "natalie",
        "natasha",
        "nathan",
        "neil",
        "niamh",
        "nicholas",
        "nicola",
        "nigel",
        "nikki",
        "noah",
        "oliver",
        "olivia",
        "omar",
        "oscar",
        "owen",
        "paige",
        "pamela",
        "patricia",
        "patrick",
        "paul",
        "paula",
        "pauline",
        "peter",
        "philip",
        "phillip",
        "pippa",
        "priya",
        "rachel",
        "rajesh",
        "ravi",
        "rebecca",
        "rhian",
        "rhys",
        "richard",
        "rita",
        "robert",
        "roberta",
        "roger",
        "ronald",
        "rosemary",
        "ross",
        "rowan",
        "ruth",
        "ryan",
        "sadia",
        "samantha",
        "samuel",
        "sandra",
        "sanjay",
        "sara",
        "sarah",
        "scott",
        "sean",
        "shabana",
        "shane",
        "sharon",
        "sheila",
        "shirley",
        "shona",
        "simon",
        "sinead",
        "siobhan",
        "sophie",
        "stacey",
        "stella",
        "stephanie",
        "stephen",
        "steve",
        "steven",
        "stewart",
        "stuart",
        "susan",
        "suzanne",
        "tariq",
        "teresa",
        "theo",
        "theresa",
        "thomas",
        "timothy",
        "tom",
        "tomasz",
        "tracey",
        "tracy",
        "trevor",
        "tyler",
        "valerie",
        "vanessa",
        "vicky",
        "vikram",
        "vincent",
        "wayne",
        "wendy",
        "william",
        "yasmin",
        "yusuf",
        "zainab",
        "zara",
        "zoe",
    ]
)
AMBIGUOUS_NAMES = _EVERYDAY_GIVEN_NAMES | frozenset(
    [
        "dean",
        "drew",
        "gene",
        "carol",
        "sandy",
        "glen",
        "lance",
        "cliff",
        "rod",
        "miles",
        "max",
        "ken",
        "don",
        "kit",
        "al",
        "ed",
        "nick",
        "bob",
        "norman",
        "sue",
        "amber",
        "holly",
        "ivy",
        "jade",
        "ruby",
        "heather",
        "hazel",
        "olive",
        "violet",
        "daisy",
        "poppy",
        "iris",
        "angel",
        "crystal",
        "autumn",
        "mason",
        "carter",
        "austin",
        "lincoln",
        "chelsea",
        "florence",
        "victoria",
        "georgia",
        "jordan",
        "paris",
        "india",
        "alexa",
        "jasper",
        "jasmine",
        "eve",
        "kim",
    ]
)
# Capitalised words that do not make the word before them a first name ("Grant Funding", "May Council").
_NOT_SURNAMES = frozenset(
    [
        "council",
        "councils",
        "borough",
        "county",
        "district",
        "city",
        "government",
        "digital",
        "local",
        "service",
        "services",
        "office",
        "department",
        "dept",
        "programme",
        "scheme",
        "fund",
        "funding",
        "funds",
        "team",
        "teams",
        "board",
        "group",
        "act",
        "bill",
        "day",
        "days",
        "week",
        "month",
        "year",
        "street",
        "road",
        "avenue",
        "lane",
        "nhs",
        "trust",
        "hospital",
        "centre",
        "center",
        "house",
        "hall",
        "park",
        "online",
        "website",
        "app",
        "apps",
        "portal",
        "project",
        "projects",
        "meeting",
        "meetings",
        "report",
        "plan",
        "strategy",
        "policy",
        "budget",
        "elections",
        "election",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "christmas",
        "easter",
    ]
)

# Words that make "X Council" a body rather than a local authority ("Future Council"
# programme, Arts Council, full council meeting).
GENERIC_COUNCILS = frozenset(
    [
        "future",
        "arts",
        "privy",
        "design",
        "research",
        "security",
        "european",
        "youth",
        "sentencing",
        "medical",
        "legal",
        "science",
        "funding",
        "advisory",
        "parish",
        "town",
        "local",
        "community",
        "sports",
        "crafts",
        "british",
        "executive",
        "regional",
        "digital",
        "transformation",
        "new",
        "shadow",
        "unitary",
        "full",
        "whole",
        "our",
        "your",
        "their",
        "this",
        "that",
        "the",
        "a",
        "an",
        "each",
        "every",
        "county",
        "borough",
        "district",
        "city",
        "metropolitan",
        "london",
        "royal",
        "other",
        "neighbouring",
        "neighboring",
        "national",
        "health",
        "social",
        "care",
        "economic",
        "engineering",
        "general",
        "nursing",
        "big",
        "large",
        "small",
        "rural",
        "urban",
        "shire",
        "two-tier",
        "single",
        "tier",
        "upper",
        "lower",
        "another",
        "nearby",
        "same",
        "previous",
        "former",
        "existing",
        "current",
        "many",
        "most",
        "some",
        "any",
        "all",
        "several",
        "both",
        "first",
        "second",
        "third",
        "last",
        "next",
        "own",
        "principal",
        "home",
        "host",
        "lead",
        "partner",
        "english",
        "welsh",
        "scottish",
        "irish",
        "northern",
        "uk",
    ]
)
_HEALTH_WORDS = frozenset(
    [
        "nhs",
        "foundation",
        "trust",
        "trusts",
        "hospital",
        "hospitals",
        "health",
        "healthcare",
        "care",
        "community",
        "ambulance",
        "mental",
        "partnership",
        "partnerships",
        "teaching",
        "university",
        "acute",
        "specialist",
        "childrens",
        "children's",
        "women's",
        "services",
        "service",
        "board",
        "ccg",
        "icb",
        "clinical",
        "commissioning",
        "integrated",
        "primary",
        "general",
        "district",
        "royal",
        "infirmary",
    ]
)

# English counties, unitaries and larger districts: with LONDON_BOROUGHS and the other
# lists below, the places a lower-case "x council" is a council of.
ENGLISH_PLACES = """bedford|bedfordshire|berkshire|blackburn|blackpool|bournemouth|bracknell|brighton|bristol|
buckinghamshire|cambridge|cambridgeshire|cheshire|cheshire east|cheshire west|cornwall|cumbria|darlington|derby|
derbyshire|devon|dorset|durham|east riding|east sussex|essex|gloucester|gloucestershire|halton|hampshire|hartlepool|
herefordshire|hertfordshire|hull|isle of wight|kent|lancashire|leicester|leicestershire|lincolnshire|luton|
medway|middlesbrough|milton keynes|norfolk|north lincolnshire|north somerset|north yorkshire|northamptonshire|
northumberland|nottingham|nottinghamshire|oxford|oxfordshire|peterborough|plymouth|poole|portsmouth|redcar|
rutland|shropshire|slough|somerset|southampton|southend|staffordshire|stockton|stoke|suffolk|surrey|swindon|
telford|thurrock|torbay|warrington|warwickshire|west berkshire|west sussex|wiltshire|windsor|wokingham|
worcestershire|york|canterbury|carlisle|chelmsford|cheltenham|chester|colchester|crawley|exeter|gedling|
harrogate|ipswich|lancaster|lincoln|maidstone|northampton|norwich|preston|sevenoaks|stevenage|tunbridge wells|
watford|winchester|worcester|woking|craven|eden|broxtowe|ashford|basildon|dartford|gravesham|swale|thanet|
tonbridge|dover|folkestone|hastings|eastbourne|wealden|rother|lewes|mid sussex|horsham|chichester|arun|adur|
worthing|guildford|waverley|elmbridge|epsom|mole valley|reigate|tandridge|spelthorne|runnymede|surrey heath"""

# No full stops ("...Council." ends a sentence), no "Council" ("Kent CC and Wigan MBC" are two).
_CAP = r"(?!(?:Councils?|CC|MBC|CBC|BC|DC|MDC|UA)\b)(?:St\.|[A-Z][\w'’-]*)"
# Bounded, so a long run of capitalised words costs a linear scan, not a quadratic one.
_PLACE = rf"{_CAP}(?:[ \t]+(?:(?:&|and|upon|on|in|under|of)[ \t]+)?{_CAP}){{0,6}}"
_COUNCIL_PATTERNS = [
    # "London Borough of X", "Royal Borough of X", "Metropolitan Borough of X (Council)"
    re.compile(rf"\b(?:(?:Royal|London|Metropolitan|County)[ \t]+)?Borough[ \t]+of[ \t]+{_PLACE}(?:[ \t]+Council)?"),
    # "City of X", "City and County of X", with "Council" or "Corporation"
    re.compile(rf"\bCity[ \t]+(?:and[ \t]+County[ \t]+)?of[ \t]+{_PLACE}(?:[ \t]+(?:Council|Corporation))?"),
    # "Camden London Borough"
    re.compile(rf"\b(?P<place>{_PLACE})[ \t]+London[ \t]+Borough\b"),
    # "X Council", which also covers "X Borough/County/District/City Council"
    re.compile(rf"\b(?P<place>{_PLACE})[ \t]+Councils?\b"),
    # "Kent CC", "Wigan MBC", "Craven DC", "Caerphilly CBC"
    re.compile(rf"\b(?P<place>{_PLACE})[ \t]+(?:CC|MBC|CBC|BC|DC|MDC|UA)\b"),
    # "LB Hackney", "LB of Hackney", "RB Greenwich"
    re.compile(rf"\b(?:LB|RB)[ \t]+(?:of[ \t]+)?{_PLACE}"),
]
# Council initials ("KCC", "RMBC", "LBH", "RBKC"); BBC and the like are no councils.
_COUNCIL_INITIALS = re.compile(r"\b(?:[A-Z]{1,4}(?:MBC|CBC|BC|DC|CC)|(?:LB|RB)[A-Z]{1,3})\b")
_NOT_COUNCIL_INITIALS = frozenset(
    [
        "BBC",
        "CBBC",
        "ABC",
        "NBC",
        "CNBC",
        "CDC",
        "IDC",
        "ADC",
        "RBS",
        "LBC",
        "RBC",
        "DECC",
        "ICC",
        "FCC",
        "PCC",
        "NPCC",
        "LBRO",
    ]
)
_COUNCIL_TYPE_WORDS = frozenset(
    ["county", "borough", "district", "city", "metropolitan", "royal", "london", "town", "parish"]
)
# Any case: "manchester city council", "leeds teaching hospitals nhs trust", "nhs leeds ccg".
_LOWER_COUNCIL = re.compile(r"(?<![\w'’&-])(?P<before>(?:[\w'’&-]+[ \t]+){1,6})(?P<kind>councils?|corporation)\b", re.I)
_HEALTH = re.compile(
    r"(?<![\w'’&.-])(?P<before>(?:[\w'’&.-]+[ \t]+){1,6})(?P<kind>(?:nhs[ \t]+)?(?:foundation[ \t]+)?trusts?|health[ \t]+boards?|"
    r"ccgs?|icbs?|clinical[ \t]+commissioning[ \t]+groups?|integrated[ \t]+care[ \t]+boards?|hospitals?|infirmary)\b",
    re.I,
)
_HEALTH_INITIALS = re.compile(r"\b[A-Z]{2,6}(?:NHS)?FT\b")

_TLD = r"(?:com|org|net|uk|io|me|ly|co|info|biz|gov|edu|eu|us|ie|scot|wales|cymru|london|app|dev|ai|tv|gl|fm|online|site|xyz|tech|blog)"
_EMAIL = re.compile(r"[\w.+'’-]{1,64}@[\w-]+(?:\.[\w-]+){1,8}")
# "jane dot doe at gmail dot com", "jane.doe[at]gmail[dot]com", "jane (at) example (dot) org"
_SPELT_AT = (
    r"(?:[ \t]*(?:@|\[[ \t]*at[ \t]*\]|\([ \t]*at[ \t]*\)|\{[ \t]*at[ \t]*\}|<[ \t]*at[ \t]*>)[ \t]*|[ \t]+at[ \t]+)"
)
_SPELT_DOT = r"(?:[ \t]*(?:\.|\[[ \t]*dot[ \t]*\]|\([ \t]*dot[ \t]*\)|\{[ \t]*dot[ \t]*\}|<[ \t]*dot[ \t]*>)[ \t]*|[ \t]+dot[ \t]+)"
_SPELT_EMAIL = re.compile(
    rf"(?<![\w.+-])(?P<local>[\w+'’-]+(?:{_SPELT_DOT}[\w+'’-]+){{0,4}}){_SPELT_AT}"
    rf"(?P<domain>[\w-]+(?:{_SPELT_DOT}[\w-]+){{1,4}})(?![\w-])",
    re.I,
)
_URL = re.compile(
    rf"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|(?<![\w@.-])(?=(?:[a-z0-9-]+\.)+{_TLD}(?![\w-])))"
    r"(?P<host>[\w-]+(?:\.[\w-]+)*)(?::\d+)?(?P<path>[/?#][^\s<>\"'“”‘’()\[\]]*)?",
    re.IGNORECASE,
)
# Whole sites of the state: their pages are public, so a path there names no one.
_PUBLIC_HOSTS = frozenset(
    [
        "gov.uk",
        "www.gov.uk",
        "direct.gov.uk",
        "www.direct.gov.uk",
        "nhs.uk",
        "www.nhs.uk",
        "gov.wales",
        "gov.scot",
        "nidirect.gov.uk",
        "www.nidirect.gov.uk",
        "parliament.uk",
        "legislation.gov.uk",
        "www.legislation.gov.uk",
        "data.gov.uk",
    ]
)
# Big platforms named bare ("we use twitter.com"); a path on them is an account.
_PLATFORM_HOSTS = frozenset(
    [
        "github.com",
        "twitter.com",
        "x.com",
        "facebook.com",
        "linkedin.com",
        "instagram.com",
        "youtube.com",
        "tiktok.com",
        "google.com",
        "microsoft.com",
        "amazon.com",
        "apple.com",
        "wikipedia.org",
        "asp.net",
        "vb.net",
        "ado.net",
    ]
)
_PERSONAL_PATH = re.compile(
    r"^/(?:~|@|(?:in|pub|profile|profiles|people|person|staff|user|users|member|members|u)/)", re.I
)
_HANDLE = re.compile(r"(?<![\w@./+-])@(?=\w)[\w.]*\w")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9a-f:]*[0-9a-f])(?=[0-9a-f]*:[0-9a-f]*:)[0-9a-f:]{2,39}(?:\.\d{1,3}){0,3}(?:%\w+)?(?![\w:])",
    re.I,
)
_CARD = re.compile(r"(?<![\d.,-])\d(?:[ \t-]?\d){12,18}(?![\d-]|[.,]\d)")
_NINO = re.compile(r"\b[A-Z]{2}[ \t]?(?:\d{6}|\d{2}[ \t]\d{2}[ \t]\d{2})(?:[ \t]?[A-D])?\b", re.I)
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE = (
    rf"(?:\d{{1,4}}[/.-]\d{{1,2}}[/.-]\d{{1,4}}|(?:the[ \t]+)?\d{{1,2}}(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?{_MONTH},?(?:[ \t]+\d{{2,4}})?"
    rf"|{_MONTH}[ \t]+\d{{1,2}}(?:st|nd|rd|th)?,?(?:[ \t]+\d{{2,4}})?|{_MONTH}[ \t]+\d{{4}}|\d{{4}})(?![\w/.-]\d)"
)
_DATE_OF_BIRTH = re.compile(
    rf"(?P<cue>\b(?:d\.?[ \t]?o\.?[ \t]?b\b\.?|date[ \t]+of[ \t]+birth|born|birth[ \t]?day(?:[ \t]+is)?)"
    rf"(?:[ \t]*[:=–-])?[ \t]*(?:(?:on|in|is)[ \t]+)?)(?P<date>{_DATE})",
    re.I,
)
# Identifiers after what they are: "account number 12345678", "passport no: 123456789".
_REFERENCE = re.compile(
    r"(?P<cue>\b(?:account|acct|a/c|reference|ref|customer|payroll|employee|staff|tenancy|membership|member|passport|"
    r"licence|license|nhs|nino|national[ \t]+insurance|council[ \t]+tax|case|claim|student|sort[ \t]+code|iban)"
    r"[ \t]*(?:number|num|no\.?|#|id|code|ref)?[ \t]*[:#=]?[ \t]*)(?P<id>\d{2,}(?:[ \t-]\d{2,})+|(?!(?:19|20)\d\d(?:[/-]\d\d(?:\d\d)?)?\b)(?=[\w/-]*\d[\w/-]*\d[\w/-]*\d)[A-Z0-9][\w/-]{3,})",
    re.I,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ \t]?[A-Z0-9]{4}){3,7}(?:[ \t]?[A-Z0-9]{1,3})?\b")
_LONG_NUMBER = re.compile(r"(?<![\w.,])(?:\d{9,}|\d{3}[ \t-]\d{3}[ \t-]\d{4})(?![\w]|[.,]\d)")
# Digit groups a phone number is made of: "0161.496.0000", "+44 (0)161 496 0000", "0044 7700 900456".
_DIGIT_RUN = re.compile(
    r"(?<![\w+.,/])(?:\+[ \t]?|\(\+?)?\d+\)?(?:(?:[ \t]*[.-][ \t]*|[ \t]+|(?<=\)))\(?\d+\)?)*(?![\w])"
)
_GROUP = re.compile(r"(?P<sep>^|[ \t]*[.-][ \t]*|[ \t]+|(?<=\)))(?P<group>\(?\+?[ \t]?\(?\d+\)?)")
# "[phone] ext 45": the extension reaches the person, so it goes with the number.
_EXTENSION = re.compile(r"\[phone\],?[ \t]*(?:\(?[ \t]*(?:ext(?:n|ension)?\.?|x|#)[ \t]*\d{1,6}\)?)(?!\w)", re.I)
# A phone number in words: "oh seven seven double oh nine..." (seven or more digits).
_DIGIT_WORD = r"(?:zero|nought|oh|o|one|two|three|four|five|six|seven|eight|nine|double|triple|treble|hundred|thousand)"
_SPELT_NUMBER = re.compile(rf"(?<![\w-])(?:{_DIGIT_WORD}(?:[ \t]+|-)){{4,30}}{_DIGIT_WORD}(?![\w-])", re.I)
_PHONE_CUE = re.compile(r"\b(?:tel|telephone|phone|mobile|mob|call|ring|text|whatsapp|fax)\b\W*$", re.I)
_POSTCODE = re.compile(
    r"\b(?:GIR[ \t-]?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]?(?:[ \t]{1,4}|-)?\d[ABD-HJLNP-UW-Z]{2})\b", re.I
)
# Lower-case look-alikes that are ordinary words: "b2b 2nd", "a4 5pm".
_NOT_POSTCODE = re.compile(r"\d(?:st|nd|rd|th|am|pm)$")
_STREET = (
    r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Crescent|Cres|Terrace|Terr|Drive|Dr|Close|Cl|Gardens|Gdns|Grove|Gr|"
    r"Square|Sq|Mews|Parade|Boulevard|Way|Place|Pl|Court|Ct|Walk|Row|Hill|Rise|View|Park|Green|Gate|Mount|Wharf|"
    r"Yard|Parkway|Circus|Broadway|Wynd|Brae|Embankment|Quay"
)
_FLAT = r"(?:(?:flat|apartment|apt|unit|suite|room)\.?[ \t]*\d+[a-z]?,?[ \t]+)?"
_HOUSE = r"\d{1,4}[a-z]?(?:[-–]\d{1,4}[a-z]?)?,?[ \t]+"
_ADDRESS = re.compile(
    rf"\b(?i:{_FLAT}{_HOUSE})(?:(?:[A-Z][\w'’-]*|of|on|the)[ \t]+){{0,3}}[A-Z][\w'’-]*[ \t]+(?:{_STREET})\b"
    rf"|\b(?i:{_FLAT}{_HOUSE}(?:[a-z'’-]+[ \t]+){{1,3}}(?:street|st|road|rd|avenue|ave|lane|crescent|terrace|gardens|grove|mews|boulevard))\b"
    r"|\b(?i:p\.?[ \t]?o\.?[ \t]+box[ \t]+\d+)"
)
_TITLED = re.compile(
    rf"\b(?P<title>{'|'.join(TITLES)})\.?[ \t]+(?P<who>(?:[A-Z]\.[ \t]*)*(?P<first>[A-Z][\w'’-]+)(?:[ \t]+(?P<second>[A-Z][\w'’-]+))?)"
)
# "mr smith", "dr patel": titles that come before a name, in any case ("Cllr approval" is none).
_TITLED_ANY_CASE = re.compile(r"\b(?P<title>mr|mrs|ms|mx|dr)\.?[ \t]+(?P<who>[^\W\d_][\w'’-]*)", re.I)
_NOT_A_PERSON = frozenset(
    [
        "mayor",
        "mayoress",
        "chair",
        "chairman",
        "leader",
        "chancellor",
        "president",
        "council",
        "county",
        "borough",
        "district",
        "city",
        "cabinet",
        "member",
        "members",
        "officer",
        "officers",
    ]
)
_WORD = r"[A-Z][\w'’-]+"
# Someone named by their relation to the writer or by what was done with them.
_PERSON_CUE = re.compile(
    r"\b(?i:(?:my|our|the|his|her|their|a)[ \t]+(?:line[ \t]+)?(?:manager|boss|colleague|director|head|supervisor|team[ \t]+leader|"
    r"ceo|cio|chief[ \t]+executive|friend|partner|husband|wife|son|daughter|mum|mother|dad|father|brother|sister|"
    r"neighbour|neighbor|councillor|mp|client|tenant|carer|gp|doctor|nurse|social[ \t]+worker)|"
    r"(?:spoke|speak|speaking|talked|talking|chatted|wrote|emailed|phoned|rang|asked|contacted|met|told|thanks|thank[ \t]+you)"
    r"(?:[ \t]+(?:to|with))?|cc|cc'd|c\.c\.)[,:]?[ \t]+"
    rf"(?P<who>{_WORD}(?:[ \t]+{_WORD})?)"
)
_AFTER_NAME = re.compile(rf"\[name\](?P<gap>[ \t]+(?:[A-Z]\.[ \t]*)?)(?P<word>{_WORD})")
_BEFORE_NAME = re.compile(r"\b(?P<word>[A-Z]\.|[A-Z][\w'’-]+)[ \t]+\[name\]")
_REPEATS = re.compile(
    r"(\[(?:name|council|organisation|health body|address)\])(?:(?:[ \t]+|-)\1)+"
)  # "[name] [name]" from "Ann Lee-Smith"


class _Plain(dict):
    """str.translate table: a look-alike of a plain character becomes it ("ｊ" is "j", "＠" is "@",
    a no-break space a space) and an invisible one goes; "…" or "½" stay as written."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        if unicodedata.category(char) == "Cf":
            plain = None
        else:
            folded = unicodedata.normalize("NFKC", char)
            plain = (
                folded
                if len(folded) == 1 and folded.isascii()
                else " "
                if char.isspace() and char not in "\n\r"
                else char
            )
        self[code] = plain
        return plain


_PLAIN = _Plain()
_MAX_PASSES = 4
_PHONE_GROUPS = 8  # "+44 (0) 7700 900 456" is six; more is a list of numbers


# Function words that start sentences or join names; spaCy's list would pull in spaCy itself.
_STOP = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "either",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "many",
        "me",
        "more",
        "most",
        "much",
        "must",
        "my",
        "myself",
        "neither",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "often",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "per",
        "please",
        "same",
        "she",
        "should",
        "since",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "though",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "well",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
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


def _normal(text: str) -> str:
    """Look-alikes and invisible characters out, so "ｊａｎｅ＠…" or a zero-width space hides nothing."""
    return unicodedata.normalize("NFC", text).translate(_PLAIN)


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# "Acme Widgets Ltd" is also written "Acme Widgets" or "acme widgets limited".
_LEGAL_SUFFIX = re.compile(r"[\s,]+(?:ltd|limited|plc|llp|llc|inc|cic|co|company|group)\.?$", re.I)


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
    place = re.sub(
        r"^(?:The\s+)?(?:(?:Royal|London|Metropolitan)\s+)?(?:Borough|City(?:\s+and\s+County)?)\s+of\s+",
        "",
        org,
        flags=re.I,
    )
    place = re.sub(
        r"(?:\s+(?:Metropolitan|County|Royal|London|City|District|Borough|Town|Parish|Council|Corporation))+$",
        "",
        place,
        flags=re.I,
    )
    place = place.strip(" ,-")
    if (
        len(place) < 3
        or place.casefold() in COMMON_WORDS
        or place.casefold() in GENERIC_COUNCILS
        or place.casefold() in _STOP
    ):
        return None
    return place


def _place_set(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in text.replace("\n", "").split("|"))


@lru_cache(maxsize=1)
def _known_places() -> frozenset[str]:
    """Every council place the lists know, lower case, "&" and "and" dropped."""
    lists = (ENGLISH_PLACES, LONDON_BOROUGHS, METROPOLITAN, SCOTTISH, WELSH, NORTHERN_IRISH)
    return frozenset(p for text in lists for p in _place_set(text)) - {"london", "down"}


class Anonymiser:
    """Redaction for one database's names and organisations, compiled once."""

    def __init__(self, names: Iterable[str] = (), organisations: Iterable[str] = ()):
        names = [n for n in (_normal(s).strip() for s in names) if n]
        names += [plain for n in names if (plain := _unaccented(n)) != n]  # "Sian" for "Siân"
        organisations = [o for o in (_normal(s).strip() for s in organisations) if o]
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
        others = set(organisations) - councils
        bare = {b for o in others if (b := _LEGAL_SUFFIX.sub("", o)) != o and b}
        others |= {f"{b} {suffix}" for b in bare for suffix in ("Ltd", "Limited", "plc", "LLP")}
        # Without its suffix a name of several words is still this one, in any case; one word only capitalised.
        self._other_organisations = self._compile(others | {b for b in bare if len(b.split()) > 1}, re.IGNORECASE)
        self._single_organisations = self._compile(
            {b for b in bare if len(b.split()) == 1 and b.casefold() not in _STOP | COMMON_WORDS and b[:1].isupper()}, 0
        )
        places = {p for o in organisations if (p := place_of(o))}
        multi = {p for p in places if len(p.split()) > 1}
        single = {v for p in places - multi for v in (p[:1].upper() + p[1:], p.upper())}
        self._multi_places = self._compile(multi, re.IGNORECASE)
        self._single_places = self._compile(single, 0)
        self._places = _known_places() | {_place_words(p) for p in places}
        self._name_parts = {p.casefold() for p in parts}

    @staticmethod
    def _compile(phrases: set[str], flags: int) -> re.Pattern | None:
        if not phrases:
            return None
        return re.compile(rf"(?<![\w@/])(?:{_alternation(phrases)})(?![\w@])", flags)

    def __call__(self, text: str, *, ner: bool = False) -> str:
        """Redact until nothing more changes, so redacting a redacted text changes nothing."""
        text = _normal(text)
        for _ in range(_MAX_PASSES):
            redacted = self._pass(text, ner)
            if redacted == text:
                break
            text = redacted
        return text

    def _pass(self, text: str, ner: bool) -> str:
        text = _EMAIL.sub(EMAIL, text)
        text = _SPELT_EMAIL.sub(_spelt_email, text)
        text = _URL.sub(self._url, text)
        text = _HANDLE.sub(HANDLE, text)
        text = _IPV4.sub(_ipv4, text)
        text = _IPV6.sub(_ipv6, text)
        text = _DATE_OF_BIRTH.sub(lambda m: m.group("cue") + DATE_OF_BIRTH, text)
        text = _IBAN.sub(NUMBER, text)
        text = _REFERENCE.sub(lambda m: m.group("cue") + NUMBER, text)
        text = _NINO.sub(NI_NUMBER, text)
        text = _DIGIT_RUN.sub(_phones, text)
        text = _SPELT_NUMBER.sub(_spelt_number, text)
        text = _EXTENSION.sub(PHONE, text)
        text = _CARD.sub(CARD, text)
        text = _LONG_NUMBER.sub(NUMBER, text)
        text = _POSTCODE.sub(_postcode, text)
        text = _ADDRESS.sub(ADDRESS, text)
        for pattern in (self._organisations, self._multi_places):
            if pattern:
                text = pattern.sub(COUNCIL, text)
        for pattern in (self._other_organisations, self._single_organisations):
            if pattern:
                text = pattern.sub(ORGANISATION, text)
        text = _HEALTH.sub(self._health, text)
        text = _HEALTH_INITIALS.sub(HEALTH_BODY, text)
        for pattern in _COUNCIL_PATTERNS:
            text = pattern.sub(_council, text)
        text = _LOWER_COUNCIL.sub(self._lower_council, text)
        text = _COUNCIL_INITIALS.sub(lambda m: m.group(0) if m.group(0) in _NOT_COUNCIL_INITIALS else COUNCIL, text)
        if self._single_places:
            text = self._single_places.sub(COUNCIL, text)
        text = _TITLED.sub(_titled, text)
        text = _TITLED_ANY_CASE.sub(_titled_any_case, text)
        text = _PERSON_CUE.sub(_cued, text)
        for pattern in (self._full_names, self._rare_parts, self._common_parts):
            if pattern:
                text = pattern.sub(NAME, text)
        text = _given_names(text)
        if ner:
            text = _ner(text)
        text = _AFTER_NAME.sub(_surname, text)
        text = _BEFORE_NAME.sub(_first_name, text)
        return _REPEATS.sub(r"\1", text)

    def _url(self, match: re.Match) -> str:
        url, host, path = match.group(0), match.group("host").casefold(), match.group("path") or ""
        trail = re.search(r"[.,;:!?]+$", url)
        if trail:  # the full stop after a URL ends the sentence, not the URL
            url, path = url[: trail.start()], path[: len(path) - len(trail.group(0))] if path else path
        ending = trail.group(0) if trail else ""
        bare = host.removeprefix("www.")
        personal = _PERSONAL_PATH.search(path) is not None or any(
            seg.casefold() in self._name_parts for seg in re.split(r"[/._?=&#-]+", path) if seg
        )
        if (host in _PUBLIC_HOSTS and not personal) or (bare in _PLATFORM_HOSTS and not path.strip("/")):
            return url + ending
        return URL + ending

    def _health(self, match: re.Match) -> str:
        keep = _body_name(match.group("before"), self._places, health=True)
        return match.group(0) if keep is None else keep + HEALTH_BODY

    def _lower_council(self, match: re.Match) -> str:
        keep = _body_name(match.group("before"), self._places, health=False)
        return match.group(0) if keep is None else keep + COUNCIL


def _place_words(place: str) -> str:
    return " ".join(w for w in re.split(r"[\s&,]+", place.casefold()) if w and w != "and")


def _body_name(before: str, places: frozenset[str], *, health: bool) -> str | None:
    """What stays of the words before "council" or "trust"; the rest is the body's own name.

    None when nothing names a body: "the county council", "our local nhs trust".
    A known place always names one; otherwise a word that is no generic one does, when
    a council type ("city council") or, for health, a health word ("hospitals nhs trust") is there.
    """
    words = before.split()
    # The name is made of words: a placeholder, a dash or a number before it ends it.
    cut = [i for i, w in enumerate(words) if "[" in w or "]" in w or not re.search(r"[^\W\d_]|&", w)]
    if cut:
        words = words[max(cut) + 1 :]
    folded = [w.casefold().strip(".,") for w in words]
    # The body's name is the words back from "council" up to the first ordinary function word.
    start = len(words)
    while start > 0 and folded[start - 1] not in _STOP - {"of", "upon", "on", "and", "in", "under"}:
        start -= 1
    while start < len(words) and folded[start] in _STOP | {"&"}:
        start += 1
    name = folded[start:]
    if not name:
        return None
    kept = before[: len(before) - len(before.lstrip())] + " ".join(words[:start])
    keep = kept + " " if kept.strip() else kept
    tail = [w for w in name if w not in ("&", "and", "of", "on", "upon", "in", "under")]
    if any(" ".join(tail[i:j]) in places for i in range(len(tail)) for j in range(i + 1, len(tail) + 1)):
        return keep
    generic = _HEALTH_WORDS | GENERIC_COUNCILS if health else GENERIC_COUNCILS
    typed = any(w in (_HEALTH_WORDS if health else _COUNCIL_TYPE_WORDS) for w in tail)
    own = [w for w in tail if w not in generic and w not in _COUNCIL_TYPE_WORDS]
    return keep if typed and own else None


def _spelt_email(match: re.Match) -> str:
    """An email written to dodge harvesters; "staff at kent.gov.uk" is one too, when in doubt."""
    whole, local, domain = match.group(0), match.group("local"), match.group("domain")
    tld = re.split(r"[^\w-]+", domain.casefold().rstrip())[-1]
    if not re.fullmatch(_TLD, tld):
        return whole
    if local.casefold() in _STOP:
        return whole
    plain_at = re.search(r"[@\[\]{}()<>]", whole[len(local) : len(whole) - len(domain)]) is None
    obfuscated = re.search(r"\bdot\b|[\[\]{}()<>]", whole, re.I) is not None
    if plain_at and not obfuscated and "." not in domain:
        return whole
    return EMAIL


def _ipv4(match: re.Match) -> str:
    return IP_ADDRESS if all(int(octet) <= 255 for octet in match.group(0).split(".")) else match.group(0)


def _ipv6(match: re.Match) -> str:
    candidate = match.group(0).split("%")[0]
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return match.group(0)
    return IP_ADDRESS


def _phones(match: re.Match) -> str:
    """The phone numbers in a run of digit groups, each as long as it can be.

    A number starts at the run's start or after a space ("01.02.2014" starts nowhere
    inside), so a date or a sum is not half taken for a phone.
    """
    run = match.group(0)
    groups = [(g.start(), g.group("sep"), g.group("group")) for g in _GROUP.finditer(run)]
    cued = _PHONE_CUE.search(match.string[max(0, match.start() - 24) : match.start()]) is not None
    out, i = [], 0
    while i < len(groups):
        start_ok = i == 0 or not groups[i][1].strip()
        found = None
        if start_ok:
            for j in range(min(len(groups), i + _PHONE_GROUPS), i, -1):
                if _is_phone("".join(g for _, _, g in groups[i:j]), cued and i == 0):
                    found = j
                    break
        if found is None:
            out.append(groups[i][1] + groups[i][2])
            i += 1
        else:
            out.append(groups[i][1] + PHONE)
            i = found
    return "".join(out)


def _is_phone(groups: str, cued: bool) -> bool:
    digits = re.sub(r"\D", "", groups.replace("(0)", ""))
    if groups.startswith(("+", "(+")) or digits.startswith("00"):
        digits = digits.removeprefix("00")
        if digits.startswith("44"):
            return 9 <= len(digits[2:].removeprefix("0")) <= 10
        return 8 <= len(digits) <= 15
    if digits.startswith("0"):
        return 10 <= len(digits) <= 11
    return cued and 6 <= len(digits) <= 11


def _spelt_number(match: re.Match) -> str:
    extra = {"double": 1, "triple": 2, "treble": 2, "hundred": 2, "thousand": 3}
    words = re.findall(r"[a-z]+", match.group(0).casefold())
    digits = sum(extra.get(w, 1) for w in words)
    return PHONE if digits >= 7 and len(words) - sum(w in extra for w in words) >= 4 else match.group(0)


def _postcode(match: re.Match) -> str:
    code = match.group(0)
    if code != code.upper() and _NOT_POSTCODE.search(code.casefold()):
        return code
    return POSTCODE


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


def _titled_any_case(match: re.Match) -> str:
    who = match.group("who").casefold()
    if who in _STOP or re.sub(r"['’]s$", "", who) in _NOT_A_PERSON:
        return match.group(0)
    return f"{match.group('title')} {NAME}"


def _is_surname(word: str) -> bool:
    folded = re.sub(r"['’]s$", "", word.casefold())
    return not (
        folded in _STOP or folded in _NOT_SURNAMES or folded in _TITLE_SET or (word.isupper() and len(word) <= 5)
    )


def _cued(match: re.Match) -> str:
    who = match.group("who")
    first = who.split()[0]
    if not _is_surname(first):
        return match.group(0)
    kept = match.group(0)[: match.start("who") - match.start()]
    rest = who.split()[1:]
    if rest and not _is_surname(rest[0]):
        return f"{kept}{NAME} {rest[0]}"
    return kept + NAME


# The surname is only looked at: "[name] Smith" then goes as a surname after a redacted name.
_GIVEN = re.compile(rf"(?<![\w@/\[])(?P<first>[^\W\d_][\w'’-]*)(?=(?P<surname>[ \t]+(?:[A-Z]\.[ \t]*)?{_WORD})?)")


def _given_names(text: str) -> str:
    def one(match: re.Match) -> str:
        first, surname = match.group("first"), match.group("surname")
        possessive = re.search(r"['’]s$", first)
        folded = first[: possessive.start()].casefold() if possessive else first.casefold()
        if folded not in GIVEN_NAMES and folded not in AMBIGUOUS_NAMES:
            return match.group(0)
        if folded in AMBIGUOUS_NAMES and not (first[:1].isupper() and surname and _is_surname(surname.split()[-1])):
            return match.group(0)
        return NAME + (possessive.group(0) if possessive else "")

    return _GIVEN.sub(one, text)


def _surname(match: re.Match) -> str:
    return NAME if _is_surname(match.group("word")) else match.group(0)


def _first_name(match: re.Match) -> str:
    word = match.group("word")
    if len(word) == 2 and word.endswith("."):
        return NAME
    folded = word.casefold()
    return NAME if folded in GIVEN_NAMES or folded in AMBIGUOUS_NAMES else match.group(0)


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


def _ner(text: str) -> str:
    """People and organisations the patterns missed; government departments stay."""
    nlp = _ner_pipeline()
    if nlp is None:
        return text
    for ent in reversed(nlp(text).ents):
        if "[" in ent.text or "]" in ent.text:
            continue
        if ent.label_ == "PERSON":
            mark = NAME
        elif ent.label_ == "ORG" and not _CENTRAL.search(ent.text) and not re.fullmatch(r"[A-Z]{2,6}", ent.text):
            mark = ORGANISATION
        else:
            continue
        text = text[: ent.start_char] + mark + text[ent.end_char :]
    return text


@lru_cache(maxsize=8)
def _cached(names: tuple[str, ...], organisations: tuple[str, ...]) -> Anonymiser:
    return Anonymiser(names, organisations)


def anonymise(text: str, *, names: Iterable[str] = (), organisations: Iterable[str] = (), ner: bool = False) -> str:
    """Redact people, contact details, identifiers and organisations in `text`.

    `names` are full names (every part is redacted too); `organisations` are
    organisation names (and the place in a council's name). `ner=True` also
    redacts PERSON and ORG entities when en_core_web_sm is installed.
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


_LONDON, _METS, _SCOTS, _WELSH, _NI = map(_place_set, (LONDON_BOROUGHS, METROPOLITAN, SCOTTISH, WELSH, NORTHERN_IRISH))
_CENTRAL = re.compile(
    r"\b(?:Department|Dept|Ministry|Cabinet Office|HM Treasury|Home Office|Government Digital Service|DCLG|CLG|DWP|HMRC|GDS)\b",
    re.I,
)


def _place_key(organisation: str) -> str:
    """Normalised place of a council ("Neath & Port Talbot" and "Neath Port Talbot" meet)."""
    org = re.sub(r"[&,.'’()]", " ", organisation.casefold())
    org = re.sub(
        r"^\s*(?:the\s+)?(?:(?:royal|london|metropolitan)\s+)?(?:borough|city(?:\s+and\s+county)?)\s+of\s+", "", org
    )
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
    """ "Digital Practitioner (web teams etc), English county council": role and kind only."""
    kind = organisation_type(organisation or "")
    role = (role or "").strip() or "Respondent"
    return f"{role}, {kind}" if kind else role
