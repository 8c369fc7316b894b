"""ISO 6346 size-type codes the desks book, with the capacity a review checks cargo against.

Figures are typical carrier specifications (internal cubic capacity, maximum payload);
carriers differ by a few per cent, which is why capacity is checked against these
nominal values rather than a specific box.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError


@dataclass(frozen=True)
class SizeType:
    code: str
    name: str
    length_ft: int
    cubic_m3: Decimal
    max_payload_kg: Decimal
    reefer: bool = False


SIZE_TYPES: dict[str, SizeType] = {
    s.code: s
    for s in [
        SizeType("22G1", "20' general purpose (20GP)", 20, Decimal("33.2"), Decimal("28200")),
        SizeType("22R1", "20' reefer (20RF)", 20, Decimal("28.3"), Decimal("27400"), reefer=True),
        SizeType("22U1", "20' open top (20OT)", 20, Decimal("32.0"), Decimal("28100")),
        SizeType("22P1", "20' flat rack (20FR)", 20, Decimal("28.0"), Decimal("30500")),
        SizeType("22T1", "20' tank (20TK)", 20, Decimal("24.0"), Decimal("26000")),
        SizeType("42G1", "40' general purpose (40GP)", 40, Decimal("67.7"), Decimal("26700")),
        SizeType("45G1", "40' high cube (40HC)", 40, Decimal("76.3"), Decimal("26500")),
        SizeType("42R1", "40' reefer (40RF)", 40, Decimal("59.3"), Decimal("27700"), reefer=True),
        SizeType("45R1", "40' reefer high cube (40RH)", 40, Decimal("67.5"), Decimal("29000"),
                 reefer=True),
        SizeType("42U1", "40' open top (40OT)", 40, Decimal("65.9"), Decimal("26600")),
        SizeType("42P1", "40' flat rack (40FR)", 40, Decimal("51.0"), Decimal("39200")),
        SizeType("L5G1", "45' high cube (45HC)", 45, Decimal("86.0"), Decimal("27700")),
    ]
}


def _size_type(value: str) -> str:
    value = value.strip().upper()
    if value not in SIZE_TYPES:
        raise PydanticCustomError(
            "iso6346_size_type",
            "'{value}' is not a supported ISO 6346 size-type code (one of {known})",
            {"value": value, "known": ", ".join(SIZE_TYPES)},
        )
    return value


SizeTypeCode = Annotated[str, AfterValidator(_size_type)]
