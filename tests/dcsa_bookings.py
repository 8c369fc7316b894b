"""A DCSA Booking 2.0 ``CreateBooking`` as a customer's TMS sends it (valid against the
specification), for CUST-ACME's FCL from Shanghai to Los Angeles."""

from __future__ import annotations

import copy
from typing import Any

CREATE_BOOKING: dict[str, Any] = {
    "receiptTypeAtOrigin": "CY",
    "deliveryTypeAtDestination": "CY",
    "cargoMovementTypeAtOrigin": "FCL",
    "cargoMovementTypeAtDestination": "FCL",
    "freightPaymentTermCode": "PRE",
    "carrierCode": "MAEU",
    "carrierCodeListProvider": "NMFTA",
    "expectedDepartureDate": "2026-12-05",
    "incoTerms": "FOB",
    "serviceContractReference": "SC-ACME-2026",
    "isEquipmentSubstitutionAllowed": False,
    "references": [{"type": "PO", "value": "PO-2026-0042"}],
    "documentParties": {
        "bookingAgent": {"partyName": "Acme Trading (Shanghai) Co.",
                         "identifyingCodes": [{"codeListProvider": "ZZZ",
                                               "partyCode": "CUST-ACME"}],
                         "partyContactDetails": [{"name": "Li Lei",
                                                  "email": "li.lei@acme.example"}]},
        "shipper": {"partyName": "Acme Trading (Shanghai) Co.",
                    "address": {"street": "Century Avenue", "streetNumber": "88",
                                "city": "Shanghai", "countryCode": "CN"},
                    "partyContactDetails": [{"name": "Li Lei", "phone": "+86 21 5555 0100"}]},
        "consignee": {"partyName": "Acme Imports LLC",
                      "address": {"street": "Harbor Drive Distribution Center Building 7",
                                  "streetNumber": "1", "city": "Long Beach",
                                  "stateRegion": "CA", "countryCode": "US"}},
        "other": [{"partyFunction": "N1", "party": {"partyName": "Acme Imports LLC"}}],
    },
    "shipmentLocations": [
        {"location": {"UNLocationCode": "CNSHA"}, "locationTypeCode": "POL"},
        {"location": {"UNLocationCode": "USLAX"}, "locationTypeCode": "POD"},
        {"location": {"UNLocationCode": "USLAX"}, "locationTypeCode": "PDE"},
    ],
    "requestedOnCarriageModeOfTransport": "VESSEL",
    "requestedEquipments": [{
        "ISOEquipmentCode": "45G1", "units": 1, "isShipperOwned": False,
        "commodities": [{
            "commodityType": "Wooden furniture / 木制家具", "HSCodes": ["940360"],
            "cargoGrossWeight": {"value": 14500, "unit": "KGM"},
            "cargoGrossVolume": {"value": 62, "unit": "MTQ"},
            "outerPackaging": {"numberOfPackages": 120, "description": "CARTONS"}}]}],
}


def create_booking(**overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(CREATE_BOOKING)
    body.update(overrides)
    return body
