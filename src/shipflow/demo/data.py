"""What the demo shipments are made of: customers, lanes, carriers and their vessels, the
scenarios, and :class:`Draft`, one shipment's drawn choices and the documents made of them
(booking order, carrier confirmation, shipping instructions). :mod:`shipflow.demo` plans and
records what happens to them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import IntEnum
from typing import Any

from stdnum import iso6346

from shipflow.events.common import VesselVoyage
from shipflow.events.shipment.booking import BookingOrder
from shipflow.events.shipment.documents import CarrierConfirmation, ShippingInstructions

D = Decimal


@dataclass(frozen=True)
class Cargo:
    commodity_cn: str
    commodity_en: str
    hs_code: str
    package_type: str
    size_type: str
    kg_per_box: tuple[int, int]  # gross weight range per container
    cbm_per_box: tuple[int, int]  # volume range per container
    reefer: tuple[str, str, bool] | None = None  # temperature °C, ventilation m³/h, genset


@dataclass(frozen=True)
class Customer:
    id: str
    name: str  # Chinese legal name, then the English one the B/L shows
    address: str
    contact: str
    pols: tuple[str, ...]
    sales: str
    cs: str
    source: str  # DIRECT / CO_LOADER / NOMINATED
    cargo: tuple[Cargo, ...]
    overweight: bool = False


CUSTOMERS: tuple[Customer, ...] = (
    Customer("CUST-JLFN", "上海锦隆家具有限公司 SHANGHAI JINLONG FURNITURE CO., LTD.",
             "上海市松江区九亭镇沪亭北路 218 号", "Ms Chen Jing +86 21 5763 2210", ("CNSHA",),
             "sales.li", "cs.wang", "DIRECT",
             (Cargo("木制家具", "Wooden furniture", "940360", "CARTONS", "45G1",
                    (8500, 13500), (58, 70)),)),
    Customer("CUST-HTEA", "宁波海天电器有限公司 NINGBO HAITIAN ELECTRIC APPLIANCE CO., LTD.",
             "浙江省宁波市北仑区大港工业城 6 号", "Mr Xu Gang +86 574 8618 3300", ("CNNGB",),
             "sales.zhao", "cs.zhang", "DIRECT",
             (Cargo("电饭煲", "Electric rice cookers", "851660", "CARTONS", "45G1",
                    (7000, 9800), (62, 72)),
              Cargo("空气炸锅", "Air fryers", "851660", "CARTONS", "42G1", (6500, 9000),
                    (55, 64)))),
    Customer("CUST-XDEL",
             "深圳星达电子科技有限公司 SHENZHEN XINGDA ELECTRONICS TECHNOLOGY CO., LTD.",
             "深圳市宝安区西乡街道固戍二路 39 号", "Ms Lin Xiaoyan +86 755 2960 7781", ("CNSZX",),
             "sales.huang", "cs.liu", "NOMINATED",
             (Cargo("LED灯具", "LED lighting fixtures", "940542", "CARTONS", "45G1",
                    (5200, 8200), (60, 73)),
              Cargo("不锈钢餐具", "Stainless steel cutlery", "821599", "CARTONS", "22G1",
                    (14000, 18000), (20, 27)))),
    Customer("CUST-FSFD", "浙江丰盛食品有限公司 ZHEJIANG FENGSHENG FOODS CO., LTD.",
             "浙江省舟山市定海区临港工业园 12 号", "Mr Zhou Bin +86 580 2266 018",
             ("CNNGB", "CNSHA"),
             "sales.li", "cs.chen", "DIRECT",
             (Cargo("冷冻虾仁", "Frozen peeled shrimp", "030617", "CARTONS", "45R1",
                    (22000, 26000), (52, 60), ("-18", "0", False)),
              Cargo("新鲜大蒜", "Fresh garlic", "070320", "MESH BAGS", "45R1",
                    (26000, 28000), (55, 62), ("-1", "15", True)),
              Cargo("鲜苹果", "Fresh apples", "080810", "CARTONS", "45R1",
                    (20000, 23000), (58, 64), ("1", "25", True)))),
    Customer("CUST-XMYW", "义乌小马日用品有限公司 YIWU XIAOMA DAILY PRODUCTS CO., LTD.",
             "浙江省义乌市稠城街道城北路 77 号", "Mr Ma Jun +86 579 8552 1906", ("CNNGB", "CNSHA"),
             "sales.zhao", "cs.zhang", "CO_LOADER",
             (Cargo("塑料家居用品", "Plastic household articles", "392490", "CARTONS", "45G1",
                    (6000, 9500), (66, 75)),)),
    Customer("CUST-LTTX", "苏州鲁泰纺织有限公司 SUZHOU LUTAI TEXTILE CO., LTD.",
             "江苏省苏州市吴江区盛泽镇纺织科技园 5 幢", "Ms Wu Lei +86 512 6355 4412", ("CNSHA",),
             "sales.li", "cs.wang", "DIRECT",
             (Cargo("全棉梭织布", "Woven cotton fabric", "520812", "ROLLS", "42G1",
                    (17000, 21000), (48, 60)),)),
    Customer("CUST-MHST", "南安闽辉石材有限公司 NAN'AN MINHUI STONE CO., LTD.",
             "福建省南安市水头镇石材工业区 3 号", "Mr Huang Wei +86 595 8698 5120",
             ("CNSZX", "CNSHA"), "sales.huang", "cs.liu", "DIRECT",
             (Cargo("花岗岩板材", "Granite slabs, polished", "680293", "CRATES", "22G1",
                    (24000, 26500), (12, 16)),), overweight=True),
)


@dataclass(frozen=True)
class Destination:
    pod: str
    transit_days: int
    consignee: str
    address: str
    terminals: tuple[str, ...] = ()  # several terminals: the booking must name one
    us_routing: bool = False
    ofr_40: int = 0  # sold ocean freight per 40' in USD (20' is 60 %)
    dthc: tuple[str, str] | None = None  # destination THC collected locally: amount, currency


DESTINATIONS: tuple[Destination, ...] = (
    Destination("USLAX", 15, "Pacific Home Imports LLC", "2401 E Pacific Coast Hwy, Long Beach, "
                "CA 90806", us_routing=True, ofr_40=2350, dthc=("495", "USD")),
    Destination("MXZLO", 19, "Comercializadora del Pacífico S.A. de C.V.", "Av. Teniente Azueta "
                "150, Manzanillo, Colima 28200", ofr_40=2900, dthc=("7850", "MXN")),
    Destination("NLRTM", 33, "Van der Berg Trading B.V.", "Waalhaven Z.z. 44, 3089 JH Rotterdam",
                ofr_40=1750, dthc=("285", "EUR")),
    Destination("AEJEA", 21, "Al Noor General Trading LLC", "Plot S30201, Jebel Ali Free Zone, "
                "Dubai", ofr_40=1450),
    Destination("PHMNL", 5, "Manila Bay Merchandising Corp.", "Unit 5, Pier 18 Bldg, Tondo, "
                "Manila", terminals=("NORTH", "SOUTH"), ofr_40=780),
)

#: Carrier SCAC → (container owner prefix, reefer prefix, vessels).
CARRIERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "MAEU": ("MSKU", "MNBU", ("MAERSK ESSEN", "MAERSK EINDHOVEN", "MAERSK HONAM",
                              "MAERSK KENSINGTON")),
    "MSCU": ("MSCU", "MSDU", ("MSC GULSUN", "MSC IRINA", "MSC TESSA", "MSC ANNA")),
    "CMDU": ("CMAU", "CGMU", ("CMA CGM JACQUES SAADE", "CMA CGM MARCO POLO",
                              "CMA CGM ANTOINE DE SAINT EXUPERY")),
    "COSU": ("CSNU", "CXRU", ("COSCO SHIPPING UNIVERSE", "COSCO SHIPPING ARIES",
                              "COSCO SHIPPING TAURUS")),
    "ONEY": ("ONEU", "TRIU", ("ONE APUS", "ONE INNOVATION", "ONE STORK")),
    "HLCU": ("HLXU", "HLBU", ("BERLIN EXPRESS", "HAMBURG EXPRESS", "ROTTERDAM EXPRESS")),
}

#: Carrier booking-number prefixes (the rest is digits).
BOOKING_PREFIX = {"MAEU": "25", "MSCU": "177", "CMDU": "CN", "COSU": "61", "ONEY": "SHAF",
                  "HLCU": "HL"}
#: Empty-container weight (tare) added to the cargo weight to get the VGM.
TARE_KG = {"22G1": 2200, "42G1": 3750, "45G1": 3900, "45R1": 4700}
#: Roughly how many cubic metres one package of each kind takes.
CBM_PER_PACKAGE = {"CARTONS": D("0.09"), "ROLLS": D("0.16"), "CRATES": D("1.4"),
                   "MESH BAGS": D("0.024")}

#: Extra people on the desks (besides each customer's sales and CS owner).
ROUTE_MANAGER = "route.manager.zhou"
OPS_MANAGER = "ops.manager.sun"
#: Local vendors by port of loading: trucking companies, customs broker.
TRUCKERS = {"CNSHA": ("上海安达集装箱运输有限公司", "上海洋山通达物流有限公司"),
            "CNNGB": ("宁波港通物流有限公司", "宁波北仑顺达集卡运输有限公司"),
            "CNSZX": ("深圳顺航拖车有限公司", "深圳盐田鸿运物流有限公司")}
CUSTOMS_BROKER = {"CNSHA": "上海海通报关有限公司", "CNNGB": "宁波甬关报关有限公司",
                  "CNSZX": "深圳华港报关有限公司"}

THC_CNY = {"22G1": D("850"), "42G1": D("1250"), "45G1": D("1250"), "45R1": D("1900")}
DOC_CNY = D("450")
AMENDMENT_FEE_CNY = D("300")


class Stage(IntEnum):
    RECEIVED = 0
    REVIEWED = 1
    CONFIRMED = 2
    SI = 3
    GATED_IN = 4
    DEPARTED = 5
    ARRIVED = 6
    DELIVERED = 7
    CLOSED = 8


@dataclass(frozen=True)
class Scenario:
    name: str
    stage: Stage
    twists: frozenset[str] = frozenset()
    weight: int = 0  # how often it is drawn once every scenario has been used


def _sc(name: str, stage: Stage, *twists: str, weight: int = 0) -> Scenario:
    return Scenario(name, stage, frozenset(twists), weight)


S = Stage
#: The first shipments cover every scenario once; the rest are drawn by weight.
SCENARIOS = (
    _sc("received", S.RECEIVED, weight=2),
    _sc("on hold: customer signature missing", S.RECEIVED, "hold", weight=1),
    _sc("hold released by the route manager", S.CONFIRMED, "hold"),
    _sc("hold released: signed S/O by amendment", S.SI, "hold", "sign_by_amendment"),
    _sc("L/C clause on hold until the carrier consented", S.CONFIRMED, "consent"),
    _sc("reviewed, awaiting the carrier", S.REVIEWED, weight=1),
    _sc("rejected by the carrier", S.REVIEWED, "reject"),
    _sc("confirmed", S.CONFIRMED, weight=3),
    _sc("amended (委托更改) with a fee", S.SI, "amend_fee", weight=1),
    _sc("amendment awaiting decision", S.CONFIRMED, "amend_pending"),
    _sc("amendment rejected", S.SI, "amend_reject"),
    _sc("SI submitted", S.SI, weight=3),
    _sc("rolled over before departure", S.GATED_IN, "rollover", weight=1),
    _sc("reefer confirmed", S.CONFIRMED, "reefer"),
    _sc("reefer departed after equipment shortage", S.DEPARTED, "reefer", "shortage", weight=1),
    _sc("gated in", S.GATED_IN, weight=2),
    _sc("advance B/L (预借) approved", S.GATED_IN, "advance_bl"),
    _sc("shut out (退载) and rolled", S.GATED_IN, "shut_out"),
    _sc("departed", S.DEPARTED, weight=5),
    _sc("rolled over at transshipment", S.DEPARTED, "ts_rollover"),
    _sc("arrived, held by customs", S.ARRIVED, "held"),
    _sc("arrived", S.ARRIVED, weight=3),
    _sc("delivered, empty returned", S.DELIVERED, weight=2),
    _sc("closed", S.CLOSED, weight=16),
    _sc("closed after an export inspection", S.CLOSED, "inspection", weight=2),
    _sc("closed, claim open", S.CLOSED, "claim"),
    _sc("cancelled before confirmation", S.REVIEWED, "cancel"),
    _sc("cancelled after confirmation", S.CONFIRMED, "cancel"),
    _sc("declined by the carrier (blank sailing)", S.CONFIRMED, "decline"),
)

#: Who hears about every amendment (domain.md §2.2): webhooks later, recorded now.
NOTIFY_ON_AMENDMENT = ("carrier_desk", "customs_broker", "warehouse", "trucking", "finance")


@dataclass(frozen=True)
class Draft:
    """One shipment's choices, drawn once, and the documents made of them."""

    index: int
    twists: frozenset[str]
    customer: Customer
    cargo: Cargo
    dest: Destination
    pol: str
    carrier: str
    boxes: int  # containers booked at first (an amendment may add one)
    transit: int  # days at sea
    etd_day: float  # planned departure, in days after the booking arrived
    containers: tuple[str, ...]  # one spare, for an amendment that adds a box
    vessels: tuple[VesselVoyage, ...]  # booked, next sailing, transshipment feeder
    booking_no: str
    ofr: Decimal  # sold ocean freight per container, USD
    drayage: bool

    @classmethod
    def draw(cls, index: int, twists: frozenset[str], r: random.Random) -> Draft:
        food = [c for c in CUSTOMERS if any(g.reefer for g in c.cargo)]
        cust = r.choice(food if "reefer" in twists else CUSTOMERS)
        cargo = r.choice(cust.cargo)
        far = [d for d in DESTINATIONS if d.pod in ("NLRTM", "AEJEA")]
        dest = r.choice(far if "ts_rollover" in twists else DESTINATIONS)
        pol, carrier, boxes = r.choice(cust.pols), r.choice(sorted(CARRIERS)), r.choice(
            (1, 1, 1, 2, 2, 3))
        owner = CARRIERS[carrier][0 if cargo.reefer is None else 1]
        serials = [f"{owner}{r.randint(0, 999999):06d}" for _ in range(boxes + 1)]
        bound = {"USLAX": "E", "MXZLO": "E", "PHMNL": "S"}.get(dest.pod, "W")
        vessels = tuple(VesselVoyage(vessel=r.choice(CARRIERS[carrier][2]),
                                     voyage=f"{r.randint(1, 4)}{r.randint(40, 52)}{bound}")
                        for _ in range(3))
        ofr = D(dest.ofr_40 + r.choice((-150, -50, 0, 100))) * (
            D("0.6") if cargo.size_type.startswith("2") else 1) * (
            D("1.8") if cargo.reefer else 1)
        return cls(index, twists, cust, cargo, dest, pol, carrier, boxes,
                   dest.transit_days + r.choice((-1, 0, 0, 1)), r.uniform(8.5, 10.5),
                   tuple(s + str(iso6346.calc_check_digit(s)) for s in serials), vessels,
                   BOOKING_PREFIX[carrier] + str(r.randint(10**7, 10**8 - 1)),
                   ofr.quantize(D(1)), cargo.reefer is not None or r.random() < 0.4)

    @property
    def collect(self) -> bool:
        """Nominated cargo (指定货) ships freight collect on the carrier the agent named."""
        return self.customer.source == "NOMINATED"

    def order(self, start: datetime, r: random.Random) -> BookingOrder:
        c, g, d, n, tw = self.customer, self.cargo, self.dest, self.boxes, self.twists
        etd = start + timedelta(days=self.etd_day)
        kg = sum(r.randint(*g.kg_per_box) for _ in range(n))
        cbm = sum(r.randint(*g.cbm_per_box) for _ in range(n))
        equipment: dict[str, Any] = {"size_type": g.size_type, "count": n,
                                     "overweight_requested": c.overweight}
        if g.reefer:
            equipment |= {"reefer": {"temperature_c": g.reefer[0],
                                     "ventilation_cbm_h": g.reefer[1]},
                          "genset_required": g.reefer[2]}
        stuffing = ({"method": "DRAYAGE", "pickup_at": etd - timedelta(days=3),
                     "pickup_address": c.address, "contact": c.contact} if self.drayage
                    else r.choice(({"method": "SELF"}, {
                        "method": "CY", "expected_delivery_at": etd - timedelta(days=2.2),
                        "delivery_place": f"{self.pol} CFS, gate 3"})))
        rates = [{"code": "OFR", "size_type": g.size_type,
                  "unit_price": {"amount": str(self.ofr), "currency": "USD"}},
                 {"code": "THC", "unit_price": {"amount": str(THC_CNY[g.size_type]),
                                                "currency": "CNY"}},
                 {"code": "DOC", "basis": "PER_BL",
                  "unit_price": {"amount": str(DOC_CNY), "currency": "CNY"}}]
        routing = r.choice(("ALL_WATER", "MLB")) if d.us_routing else None
        return BookingOrder.model_validate({
            "customer_id": c.id, "booking_party": {"name": c.name, "contact": c.contact},
            "shipper": {"name": c.name, "address": c.address, "contact": c.contact},
            "consignee": {"name": d.consignee, "address": d.address},
            "notify_party": {"name": d.consignee}, "sales_owner": c.sales, "cs_owner": c.cs,
            "business_source": c.source, "load_type": "FCL", "carrier": self.carrier,
            "carrier_nominated": self.collect, "requested_sailing_date": etd.date(),
            "planned_vessel_voyage": self.vessels[0] if r.random() < 0.7 else {"vessel": "TEMP"},
            "pol": self.pol, "pod": d.pod, "pod_terminal": r.choice(d.terminals or (None,)),
            "place_of_delivery": "USCHI" if routing == "MLB" else d.pod, "us_routing": routing,
            "transshipment_ports": ["SGSIN"] if "ts_rollover" in tw else [],
            "commodity_cn": g.commodity_cn, "commodity_en": g.commodity_en,
            "hs_code": g.hs_code, "packages": int(cbm / CBM_PER_PACKAGE[g.package_type]),
            "package_type": g.package_type, "gross_weight_kg": kg, "volume_cbm": cbm,
            "equipment": [equipment], "special_handling": ["reefer: PTI before release"]
            if g.reefer else [], "freight_payment_term": "COLLECT" if self.collect else "PREPAID",
            "incoterm": "FOB" if self.collect else r.choice(("CIF", "CFR")),
            "sold_rates": rates, "stuffing": stuffing,
            "lc_clauses": ["B/L to show the L/C number and CLEAN ON BOARD"]
            if "consent" in tw else [],
            "free_days": {"demurrage": r.choice((5, 7, 10)), "detention": r.choice((7, 14))},
            "po_numbers": [f"PO-{r.randint(24000, 26999)}"],
            "customer_signature_ref": None if "hold" in tw else f"SO-{c.id[5:]}-{self.index:04d}",
        })

    def confirmation(self, start: datetime) -> CarrierConfirmation:
        etd = start + timedelta(days=self.etd_day)
        return CarrierConfirmation.model_validate({
            "carrier": self.carrier, "carrier_booking_no": self.booking_no,
            "vessel_voyage": self.vessels[0], "etd": etd,
            "eta": etd + timedelta(days=self.transit),
            "cutoffs": {"si": etd - timedelta(days=3), "vgm": etd - timedelta(days=2),
                        "cy": etd - timedelta(days=1.5)},
            "equipment": [{"size_type": self.cargo.size_type, "count": self.boxes}]})

    def shipping_instructions(self, o: BookingOrder) -> ShippingInstructions:
        """The SI for the booking as it reads now (after any approved amendment)."""
        line, k = o.equipment[0], o.equipment[0].count
        kg, cbm = (o.gross_weight_kg / k).quantize(D(1)), (o.volume_cbm / k).quantize(D("0.1"))
        return ShippingInstructions.model_validate({"containers": [{
            "container_no": box, "size_type": line.size_type, "seals": [f"{box[:2]}{box[4:10]}"],
            "packages": o.packages // k, "package_type": o.package_type,
            "cargo_weight_kg": kg, "volume_cbm": cbm, "vgm_kg": kg + TARE_KG[line.size_type],
            "vgm_method": "SM2"} for box in self.containers[:k]],
            "description_of_goods": f"{(o.commodity_en or 'goods').upper()}, HS {o.hs_code}",
            "marks_and_numbers": f"{o.consignee.name.split()[0].upper()} / {o.pod} / "
                                 f"1-{o.packages}", "number_of_originals": 3})
