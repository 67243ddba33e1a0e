"""The demo fleet: each car is one consistent car, and every product has what the README reads."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from teslapy import codes
from teslasim import png
from teslasim.state import World

# What an option code says about vehicle_config, for the codes the demo cars carry.
MODELS = {"MDL3": "model3", "MDLS": "models", "MDLX": "modelx", "MDLY": "modely"}
COMPOSITOR_MODELS = {"model3": "m3", "models": "ms", "modelx": "mx", "modely": "my"}
PAINTS = {"PBSB": "SolidBlack", "PMNG": "MidnightSilver", "PPSW": "PearlWhite",
          "PPMR": "RedMulticoat", "PPSB": "DeepBlue"}
WHEELS = {"W38B": "Pinwheel18", "W39B": "Stiletto19", "WTAS": "Slipstream19Silver",
          "WY19B": "Gemini19"}
ROOFS = {"RF3G": ("Glass", None), "RFP2": ("Glass", 2)}   # roof_color, sun_roof_installed
# country: (region code, eu_vehicle, charge_port_type)
COUNTRIES = {"COUS": ("RENA", False, "US"), "CODE": ("REEU", True, "CCS"),
             "COCN": ("REAP", False, "GB")}
HEATED_REAR_SEATS = {"RS3H": 1, "RSF1": 1, "CW02": 1, "RSF0": 0}
PERFORMANCE = {"FM3P", "PF01", "X024", "PX4D", "P85D", "PBT85", "BP01", "SPT31", "SPTY1"}
AIR_SUSPENSION = {"SU01": True, "SU03": True, "SU3C": False, "SU00": False}
# codes that belong to some models only
FOR_MODELS = {
    **dict.fromkeys(("W39B", "CH07", "CH06", "FC3P", "HL31", "T3CA", "T3MA", "T3MC", "GLCN",
                     "BG33", "MR30", "HP30", "PRM30", "LTSB", "ST30", "FG3B", "ILF0"),
                    {"model3"}),
    **dict.fromkeys(("RF3G", "W38B", "RS3H", "RSF0", "RSF1", "FM3B", "BC3B", "ID3W"),
                    {"model3", "modely"}),
    **dict.fromkeys(("WY19B", "TY9A", "INPB1", "STY5S", "TSHP"), {"modely"}),
    **dict.fromkeys(("RFP2", "WTAS", "BC0B", "BTX4", "X025", "PF00", "SU01"),
                    {"models", "modelx"}),
}

WORLD = World.demo()
CARS = {car.data["display_name"]: car.data for car in WORLD.vehicles}


def code_list(car: dict) -> list:
    return car["option_codes"].split(",")


def the_one(car: dict, table) -> str:
    """The car's single code among the table's codes (a second one is a contradiction)."""
    found = [code for code in code_list(car) if code in table]
    assert len(found) == 1, f"{car['display_name']}: {found or 'none'} of {sorted(table)}"
    return found[0]


@pytest.fixture(params=sorted(CARS))
def car(request) -> dict:
    return CARS[request.param]


def test_every_demo_car_is_in_the_table():
    assert set(CARS) == {"Tim's Tesla", "Nikola", "Road Runner", "Second Signal",
                         "Shanghai Express"}


def test_the_readme_sample_car_keeps_its_codes():
    assert CARS["Tim's Tesla"]["option_codes"] == (
        "AD15,MDL3,PBSB,RENA,BT37,ID3W,RF3G,S3PB,DRLH,DV2W,W39B,APF0,COUS,BC3B,CH07,PC30,"
        "FC3P,FG31,GLFR,HL31,HM31,IL31,LTPB,MR31,FM3B,RS3H,SA3P,STCP,SC04,SU3C,T3CA,TW00,"
        "TM00,UT3P,WR00,AU3P,APH3,AF00,ZCST,MI00,CDM0")


def test_model_codes_vin_and_config_name_the_same_model(car):
    config = car["vehicle_config"]
    model = MODELS[the_one(car, MODELS)]
    assert config["car_type"] == model
    assert codes.compositor_model(car["vin"]) == COMPOSITOR_MODELS[model]
    for code in code_list(car):
        assert model in FOR_MODELS.get(code, {model}), f"{code} is not for a {model}"


def test_paint_wheels_and_roof_agree_with_vehicle_config(car):
    config = car["vehicle_config"]
    assert config["exterior_color"] == PAINTS[the_one(car, PAINTS)]
    assert config["wheel_type"] == WHEELS[the_one(car, WHEELS)]
    roof, sunroof = ROOFS[the_one(car, ROOFS)]
    assert (config["roof_color"], config["sun_roof_installed"]) == (roof, sunroof)
    assert (car["vehicle_state"]["sun_roof_state"] != "unknown") == (sunroof is not None)


def test_region_country_and_charge_port_agree(car):
    region, eu, port = COUNTRIES[the_one(car, COUNTRIES)]
    assert region in code_list(car)
    config = car["vehicle_config"]
    assert (config["eu_vehicle"], config["charge_port_type"]) == (eu, port)
    assert config["rhd"] is ("DRRH" in code_list(car))


def test_seat_heaters_performance_and_suspension_agree(car):
    config = car["vehicle_config"]
    assert config["rear_seat_heaters"] == HEATED_REAR_SEATS[the_one(car, HEATED_REAR_SEATS)]
    performance = PERFORMANCE & set(code_list(car))
    assert not performance, f"a base car with performance codes {performance}"
    assert config["car_special_type"] == "base"
    assert config["has_ludicrous_mode"] is False
    suspension = [code for code in code_list(car) if code in AIR_SUSPENSION]
    assert config["has_air_suspension"] is any(AIR_SUSPENSION[code] for code in suspension)


def test_teslapy_describes_every_code_of_every_demo_car(car):
    listed = code_list(car)
    assert len(set(listed)) == len(listed)
    table = codes.option_codes()
    assert [code for code in listed if code not in table] == []
    assert len(codes.describe_option_codes(car["option_codes"])) == len(listed)


def test_the_compositor_only_knows_real_codes():
    table = codes.option_codes()
    for colours in (png.PAINT_COLOURS, png.WHEEL_COLOURS, png.INTERIOR_COLOURS):
        assert [code for code in colours if code not in table] == []


# -- over the wire, as the README's examples read them -------------------------------------

LOOKS = {"SolidBlack": lambda r, g, b: max(r, g, b) < 60,
         "MidnightSilver": lambda r, g, b: 60 < r < 140 and abs(r - b) < 20,
         "PearlWhite": lambda r, g, b: min(r, g, b) > 220,
         "RedMulticoat": lambda r, g, b: r > 2 * max(g, b),
         "DeepBlue": lambda r, g, b: b > 1.5 * max(r, g)}


def test_each_cars_picture_shows_its_paint_and_wheels(tesla):
    for vehicle in tesla.vehicle_list():
        image = Image.open(io.BytesIO(vehicle.compose_image(
            view="STUD_SIDE", size=320, options=vehicle["option_codes"]))).convert("RGB")
        data = CARS[vehicle["display_name"]]
        body = image.getpixel((160, int(180 * 0.6)))
        assert body == png.PAINT_COLOURS[the_one(data, PAINTS)]
        assert LOOKS[data["vehicle_config"]["exterior_color"]](*body)
        rim_strip = image.getpixel((160, int(180 * 0.94)))
        assert rim_strip == png.WHEEL_COLOURS[the_one(data, WHEELS)] != png.DEFAULT_WHEEL


def test_every_product_has_what_the_readme_examples_read(tesla):
    for vehicle in tesla.vehicle_list():
        assert vehicle["display_name"] and vehicle["id_s"] and vehicle["state"]
        assert vehicle.decode_vin()["make"] == "Model " + vehicle["vin"][3]
        assert vehicle.option_code_list()
    battery = tesla.battery_list()[0]
    assert (battery["site_name"], battery["resource_type"]) == ("Elon's House", "battery")
    assert isinstance(battery["energy_site_id"], int) and battery["id"]
    assert 0 <= battery.get_battery_data()["percentage_charged"] <= 100
    solar = tesla.solar_list()[0]
    assert (solar["site_name"], solar["resource_type"]) == ("Barn Roof", "solar")
    assert isinstance(solar["energy_site_id"], int) and solar["id"]
    assert solar.get_site_data()["solar_power"] >= 0


def test_the_readme_quick_example_reads_a_charging_car(tesla):
    car = tesla.vehicle_list()[0]
    data = car.get_vehicle_data()
    miles = data["charge_state"]["battery_range"]
    assert car.dist_units(miles) == f"{miles * 1.609344:.1f} km"
    assert car.temp_units(data["climate_state"]["inside_temp"]) == "21.0 C"
    assert data["charge_state"]["charging_state"] == "Charging"
    assert data["vehicle_state"]["car_version"] == "2019.32.11.1 d39e85a"
