"""VIN decoding, option code descriptions and display units (pure, no server)."""
from __future__ import annotations

import csv
import json
import re
from importlib import resources
from pathlib import Path

import pytest

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # not in every test environment
    HAVE_HYPOTHESIS = False
else:
    HAVE_HYPOTHESIS = True

from teslapy import codes

SEED_VIN = "5YJ3E111111111111"


# -- VIN ------------------------------------------------------------------------------

def test_decode_seed_vin():
    assert codes.decode_vin(SEED_VIN) == {
        "manufacturer": "Tesla Motors, Inc.",
        "make": "Model 3",
        "body_type": "Sedan 4 Dr / LHD",
        "battery_type": "Unknown",
        "drive_unit": "Single Motor",
        "year": "2031",
        "plant_code": "Unknown",
    }


@pytest.mark.parametrize("vin, expected", [
    ("5YJSA1E2XHF123456", {"make": "Model S", "body_type": "Hatchback 5 Dr / LHD",
                           "battery_type": "Electric", "drive_unit": "Dual Motor",
                           "year": "2017", "plant_code": "Fremont, CA, USA"}),
    ("5YJYGDE21MF000002", {"make": "Model Y", "body_type": "MPV / 5 Dr / LHD",
                           "battery_type": "Electric", "drive_unit": "Dual Motor",
                           "year": "2021", "plant_code": "Fremont, CA, USA"}),
    ("LRW3E7EK2MC000004", {"make": "Model 3", "body_type": "Sedan 4 Dr / LHD",
                           "battery_type": "Electric", "drive_unit": "Unknown",
                           "year": "2021", "plant_code": "Shanghai, China"}),
    ("5YJXCBE4XJP000001", {"make": "Model X", "body_type": "MPV / 5 Dr / LHD",
                           "battery_type": "Electric", "drive_unit": "Performance Dual Motor",
                           "year": "2018", "plant_code": "Palo Alto, CA, USA"}),
])
def test_decode_fleet_style_vins(vin, expected):
    decoded = codes.decode_vin(vin)
    assert decoded["manufacturer"] == "Tesla Motors, Inc."
    assert {key: decoded[key] for key in expected} == expected


def test_decode_accepts_lower_case_and_surrounding_space():
    assert codes.decode_vin(" 5yj3e111111111111 ") == codes.decode_vin(SEED_VIN)


@pytest.mark.parametrize("character, year", [
    ("9", 2009), ("A", 2010), ("H", 2017), ("J", 2018), ("K", 2019), ("L", 2020),
    ("M", 2021), ("N", 2022), ("P", 2023), ("Y", 2030), ("1", 2031), ("8", 2038),
])
def test_model_year_sequence(character, year):
    assert codes.model_year(character) == year
    vin = SEED_VIN[:9] + character + SEED_VIN[10:]
    assert codes.decode_vin(vin)["year"] == str(year)


@pytest.mark.parametrize("character", ["0", "U", "Z"])
def test_impossible_year_character_is_a_clear_value_error(character):
    vin = SEED_VIN[:9] + character + SEED_VIN[10:]
    with pytest.raises(ValueError, match="model year"):
        codes.decode_vin(vin)


@pytest.mark.parametrize("length", range(0, 17))
def test_short_vin_is_a_value_error_not_an_index_error(length):
    with pytest.raises(ValueError, match="17"):
        codes.decode_vin(SEED_VIN[:length])


def test_long_vin_is_a_value_error():
    with pytest.raises(ValueError, match="18 characters"):
        codes.decode_vin(SEED_VIN + "1")


@pytest.mark.parametrize("vin", ["5YJ3E1111I1111111", "5YJ3E11111O111111", "5YJ3E-11111111111"])
def test_vin_with_foreign_characters_is_a_value_error(vin):
    with pytest.raises(ValueError, match="never occur in a VIN"):
        codes.decode_vin(vin)


@pytest.mark.parametrize("vin", [None, 12345678901234567, b"5YJ3E111111111111"])
def test_vin_that_is_not_text_is_a_value_error(vin):
    with pytest.raises(ValueError, match="must be a string"):
        codes.decode_vin(vin)


def test_compositor_model():
    assert codes.compositor_model(SEED_VIN) == "m3"
    assert codes.compositor_model("5YJSA1E2XHF123456") == "ms"
    assert codes.compositor_model("5YJYGDE21MF000002") == "my"
    with pytest.raises(ValueError):
        codes.compositor_model("5YJ")


# -- option codes ---------------------------------------------------------------------

# The sample vehicle's option codes, as the original README prints them.
SAMPLE_CAR_CODES = (
    "AD15,MDL3,PBSB,RENA,BT37,ID3W,RF3G,S3PB,DRLH,DV2W,W39B,APF0,COUS,BC3B,CH07,PC30,"
    "FC3P,FG31,GLFR,HL31,HM31,IL31,LTPB,MR31,FM3B,RS3H,SA3P,STCP,SC04,SU3C,T3CA,TW00,"
    "TM00,UT3P,WR00,AU3P,APH3,AF00,ZCST,MI00,CDM0")
SAMPLE_CAR_CODE_COUNT = 41

REPRESENTATIVE_CODES = (
    "MDLS MDLX MDL3 MDLY RENA REEU COUS DRLH DRRH DV2W DV4W BT37 BT85 PBSB PPSW PPMR "
    "APH3 APF2 SC01 SC04 W38B W39B CH07 CDM0 AD15 RF3G SU01 TM00 HP31 PMNG").split()

# The option code reference (code, title, note; tab separated) lives beside the
# repository, not in it: CI keeps it at ../shared, a workstation at /work/shared.
REFERENCE_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "option-codes.tsv",
    Path("/work/shared/reference/option-codes.tsv"),
)
REFERENCE = next((path for path in REFERENCE_CANDIDATES if path.is_file()), None)
needs_reference = pytest.mark.skipif(
    REFERENCE is None, reason="option code reference table (shared/reference/"
                              "option-codes.tsv) is not beside this checkout")

# Our descriptions are our own words. Short names ("Model 3", "Region: Europe") can
# only be said one way, so a few may equal the reference's title once case,
# spaces and punctuation are ignored; at most 3 in 100 may.
MAX_SHARED_TITLE_FRACTION = 0.03
# Words that tell the reader a description is a best guess.
HEDGES = ("not known", "uncertain", "probably", "possibly", "not stated")


def _reference_titles() -> dict:
    """Return code -> title from the reference table."""
    assert REFERENCE is not None
    with REFERENCE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == ["code", "title", "note"]
    return {code: title for code, title, _note in rows[1:]}


def _letters_and_digits(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _packaged_text() -> str:
    return resources.files("teslapy").joinpath("option_codes.json").read_text("utf-8")


def test_option_code_table_parses_without_duplicate_codes_and_round_trips():
    pairs = json.loads(_packaged_text(), object_pairs_hook=list)
    table = dict(pairs)
    assert len(table) == len(pairs), "a code appears twice; the last one would win"
    assert json.loads(json.dumps(table)) == table
    # Kept sorted with two-space indentation, so a change shows as a one-line diff.
    assert json.dumps(table, indent=2, sort_keys=True) + "\n" == _packaged_text()


def test_option_code_descriptions_are_trimmed_non_empty_text():
    table = codes.option_codes()
    assert len(table) >= 728
    for code, description in table.items():
        assert re.fullmatch(r"[A-Z0-9]{4,6}", code), code
        assert isinstance(description, str) and description, code
        assert description == description.strip(), code
        assert "  " not in description, code


@needs_reference
def test_every_reference_code_is_described():
    missing = sorted(set(_reference_titles()) - set(codes.option_codes()))
    assert missing == []


@needs_reference
def test_descriptions_are_worded_apart_from_the_reference_titles():
    titles = _reference_titles()
    table = codes.option_codes()
    shared = sorted(code for code, title in titles.items()
                    if _letters_and_digits(table[code]) == _letters_and_digits(title))
    assert len(shared) <= MAX_SHARED_TITLE_FRACTION * len(titles), shared


@needs_reference
def test_codes_of_unsure_meaning_say_so():
    titles = _reference_titles()
    table = codes.option_codes()
    unsure = [code for code, title in titles.items() if not title.strip() or "?" in title]
    assert len(unsure) >= 10
    for code in unsure:
        assert any(word in table[code] for word in HEDGES), (code, table[code])


@pytest.mark.parametrize("code", REPRESENTATIVE_CODES)
def test_representative_codes_are_described(code):
    assert code in codes.option_codes()


def test_sample_car_has_every_option_code_described():
    listed = codes.split_option_codes(SAMPLE_CAR_CODES)
    described = codes.describe_option_codes(SAMPLE_CAR_CODES)
    assert len(listed) == len(set(listed)) == SAMPLE_CAR_CODE_COUNT
    assert len(described) == SAMPLE_CAR_CODE_COUNT
    assert described[:4] == ["J1772 adapter", "Model 3", "Paint: solid black",
                             "Region: North America"]
    assert "Wheels: 19-inch Sport" in described
    assert "Autopilot hardware 2.5" in described
    assert described[-1] == "Without CHAdeMO adapter"


@pytest.mark.parametrize("code, description", [
    ("PC30", "Chassis: standard (no Performance chassis)"),
    ("HM31", "HomeLink garage door opener (tech package)"),
    ("LTPB", "Lower trim: black polyurethane"),
    ("FM3B", "Without Performance package (Model 3/Y)"),
    ("T3CA", "Tyres: 19-inch Continental all-season, same size front and rear (Model 3)"),
    ("ZCST", "Customer-ordered car"),
    ("CH05", "On-board charger: 48 A on Model S/X, 32 A on Model 3"),
])
def test_codes_once_missing_or_ambiguous_read_as_a_user_expects(code, description):
    assert codes.option_codes()[code] == description


def test_describe_keeps_vehicle_order_and_skips_unknown_codes():
    described = codes.describe_option_codes("MDLY,ZZZZ,PPSW,,DV4W,X044")
    assert described == ["Model Y", "Paint: pearl white multi-coat",
                         "All-wheel drive (four-wheel drive)", "Phone dock accessory kit"]


@pytest.mark.parametrize("value", [None, "", ",,", " , "])
def test_no_option_codes_give_an_empty_list(value):
    assert codes.describe_option_codes(value) == []


@pytest.mark.skipif(not HAVE_HYPOTHESIS, reason="hypothesis is not installed")
def test_describe_matches_the_table_for_any_code_string():
    table = codes.option_codes()
    known = st.sampled_from(sorted(table))
    unknown = st.from_regex(r"[A-Z0-9]{4,5}", fullmatch=True).filter(lambda c: c not in table)
    padding = st.sampled_from(["", " ", "  ", "\t"])

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(padding, st.one_of(known, unknown, st.just("")), padding)))
    def check(entries):
        text = ",".join(before + code + after for before, code, after in entries)
        expected = [table[code] for _, code, _ in entries if code in table]
        assert codes.describe_option_codes(text) == expected

    check()


# -- units ----------------------------------------------------------------------------

KM = {"gui_distance_units": "km/hr", "gui_temperature_units": "C"}
MI = {"gui_distance_units": "mi/hr", "gui_temperature_units": "F"}


def test_unit_settings():
    assert codes.uses_kilometres(KM) and not codes.uses_kilometres(MI)
    assert codes.uses_fahrenheit(MI) and not codes.uses_fahrenheit(KM)
    assert not codes.uses_kilometres({}) and not codes.uses_fahrenheit({})


@pytest.mark.parametrize("miles, kilometres, speed, text", [
    (100, True, False, "160.9 km"),
    (100, False, False, "100.0 mi"),
    (60, True, True, "96.6 km/h"),
    (60, False, True, "60.0 mi/h"),
    (0, True, False, "0.0 km"),
    (99.84, False, False, "99.8 mi"),
])
def test_format_distance(miles, kilometres, speed, text):
    assert codes.format_distance(miles, kilometres, speed) == text


@pytest.mark.parametrize("celsius, fahrenheit, text", [
    (21, False, "21.0 C"), (21, True, "69.8 F"), (-40, True, "-40.0 F"),
    (13.5, False, "13.5 C"), (100, True, "212.0 F"),
])
def test_format_temperature(celsius, fahrenheit, text):
    assert codes.format_temperature(celsius, fahrenheit) == text


def test_none_passes_through_unit_formatting():
    assert codes.format_distance(None, True) is None
    assert codes.format_temperature(None, True) is None
