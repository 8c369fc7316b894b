"""Request examples for the OpenAPI document (the contract a TMS integrates from)."""

from __future__ import annotations

BOOKING_ORDER = {
    "customer_id": "CUST-ACME",
    "booking_party": {"name": "Acme Trading (Shanghai) Co."},
    "shipper": {"name": "Acme Trading (Shanghai) Co.", "address": "88 Century Ave, Shanghai"},
    "consignee": {"name": "Acme Imports LLC", "address": "1 Harbor Dr, Long Beach, CA"},
    "notify_party": {"name": "Acme Imports LLC"},
    "sales_owner": "sales.li", "cs_owner": "cs.wang",
    "business_source": "DIRECT", "load_type": "FCL",
    "carrier": "MAEU", "carrier_nominated": False, "requested_sailing_date": "2026-12-05",
    "pol": "CNSHA", "pod": "USLAX", "place_of_delivery": "USLAX", "us_routing": "ALL_WATER",
    "commodity_cn": "木制家具", "commodity_en": "Wooden furniture", "hs_code": "940360",
    "packages": 120, "package_type": "CARTONS", "gross_weight_kg": "14500",
    "volume_cbm": "62", "equipment": [{"size_type": "45G1", "count": 1}],
    "freight_payment_term": "PREPAID", "incoterm": "FOB",
    "sold_rates": [{"code": "OFR", "unit_price": {"amount": "1850", "currency": "USD"},
                    "size_type": "45G1"}],
    "free_days": {"demurrage": 7, "detention": 7}, "po_numbers": ["PO-2026-0042"],
    "stuffing": {"method": "SELF"}, "customer_signature_ref": "SO-STAMPED-0042",
}

CONFIRMATION = {
    "carrier": "MAEU", "carrier_booking_no": "255123456",
    "vessel_voyage": {"vessel": "MAERSK ESSEN", "voyage": "248E"},
    "etd": "2026-12-05T10:00:00+08:00", "eta": "2026-12-20T08:00:00-08:00",
    "cutoffs": {"si": "2026-12-02T17:00:00+08:00", "vgm": "2026-12-03T12:00:00+08:00",
                "cy": "2026-12-04T12:00:00+08:00"},
    "equipment": [{"size_type": "45G1", "count": 1}],
}

SHIPPING_INSTRUCTIONS = {
    "containers": [{"container_no": "MSKU1234565", "size_type": "45G1", "seals": ["ML123456"],
                    "packages": 120, "package_type": "CARTONS", "cargo_weight_kg": "14500",
                    "volume_cbm": "62", "vgm_kg": "18400", "vgm_method": "SM1"}],
    "marks_and_numbers": "ACME / LA / 1-120", "description_of_goods": "WOODEN FURNITURE",
    "number_of_originals": 3,
}

MILESTONE = {"kind": "TRANSPORT", "code": "DEPA", "classifier": "ACT",
             "event_time": "2026-12-05T18:20:00+08:00", "location": "CNSHA",
             "vessel_voyage": {"vessel": "MAERSK ESSEN", "voyage": "248E"}}

EXCEPTION = {"kind": "CUSTOMS_INSPECTION", "description": "X-ray inspection ordered at CNSHA",
             "location": "CNSHA"}

CHARGE = {"direction": "RECEIVABLE", "code": "OFR", "description": "Ocean freight",
          "quantity": "1", "unit_price": {"amount": "1850.00", "currency": "USD"},
          "counterparty": "CUST-ACME"}

CHARGE_CHANGE = {"quantity": "2", "reason": "two containers, not one"}

BL_ISSUE = {"bl_number": "SFLW2611000123", "document_type": "BOL", "number_of_originals": 3,
            "release": "ORIGINAL", "shipped_on_board_date": "2026-12-05",
            "place_of_issue": "CNSHA", "issue_date": "2026-12-06"}

NOTICE = {"kind": "DELAY_NOTICE", "channel": "email", "reference": "mail 2026-12-04 10:12",
          "note": "rolled to MAERSK EMDEN 250E, ETA +7 days"}

ROLLOVER = {"to_vessel_voyage": {"vessel": "MAERSK EMDEN", "voyage": "250E"},
            "reason": "vessel overbooked", "new_etd": "2026-12-12T10:00:00+08:00",
            "new_eta": "2026-12-27T08:00:00-08:00", "leg": 0}

REVIEW = {"confirmations": [{"rule": "rate_differs_from_handover",
                             "confirmed_by": "sales.li", "note": "agreed by phone"}]}
