"""assemble(): the transport document a shipment's state implies, in DCSA eBL 3.0 names."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta

from factories import NOW, confirmation, meta, order, rollover, shipping_instructions, si_data
from shipflow.events.common import VesselVoyage
from shipflow.events.shipment.booking import Approval
from shipflow.events.shipment.documents import BlIssue
from shipflow.events.shipment.tracking import Milestone
from shipflow.events.shipment.transport_document import assemble

M = meta()
DEPARTED = NOW + timedelta(days=15)
SECOND_BOX = "MSKU7654328"
REEFER_BOX = "MNBU3004003"


def booked(svc, **overrides):
    sid = svc.request_booking(order(**overrides), M).shipment_id
    svc.review(sid, [], M)
    svc.confirm_by_carrier(sid, confirmation(), M)
    return sid


def two_boxes(**overrides):
    first = dict(si_data()["containers"][0], packages=70, cargo_weight_kg="8000.500",
                 vgm_kg="12000.5")
    second = dict(first, container_no=SECOND_BOX, seals=["ML654321", "CUS-77"], packages=50,
                  cargo_weight_kg="6499.500", volume_cbm=None, vgm_kg=None, vgm_method=None)
    return shipping_instructions(containers=[first, second], **overrides)


def issue(svc, sid, **kw):
    svc.record_milestone(sid, Milestone(kind="TRANSPORT", code="DEPA", classifier="ACT",
                                        event_time=DEPARTED, location="CNSHA"), M)
    svc.approve_bl_draft(sid, Approval(by="Ms Chen (Acme)", at=NOW), None, M)
    svc.issue_bl(sid, BlIssue(bl_number="SFLW2611000123", shipped_on_board_date=DEPARTED.date(),
                              place_of_issue="CNSHA", issue_date=date(2026, 12, 5), **kw), M)


def test_a_booking_alone_is_a_draft_from_the_booking_order(memory_service):
    sid = memory_service.request_booking(order(), M).shipment_id
    doc = assemble(memory_service.get(sid))

    assert doc["transportDocumentReference"] is None
    assert doc["transportDocumentTypeCode"] == "BOL"
    assert doc["isShippedOnBoardType"] is True
    assert doc["freightPaymentTermCode"] == "PRE"
    assert doc["invoicePayableAt"] == {"UNLocationCode": "CNSHA"}
    assert doc["numberOfOriginalsWithoutCharges"] is None
    assert doc["shippedOnBoardDate"] is doc["issueDate"] is doc["placeOfIssue"] is None
    assert doc["carrierCode"] == "MAEU" and doc["carrierCodeListProvider"] == "NMFTA"
    assert doc["cargoMovementTypeAtOrigin"] == doc["cargoMovementTypeAtDestination"] == "FCL"
    assert doc["documentParties"] == {
        "shipper": {"partyName": "Acme Trading (Shanghai) Co.",
                    "displayedAddress": ["88 Century Ave"]},
        "consignee": {"partyName": "Acme Imports LLC",
                      "displayedAddress": ["1 Harbor Dr, Long Beach"]},
        "notifyParties": [{"partyName": "Acme Imports LLC"}],
    }
    assert doc["transports"] == {
        "placeOfReceipt": None, "portOfLoading": {"UNLocationCode": "CNSHA"},
        "portOfDischarge": {"UNLocationCode": "USLAX"},
        "placeOfDelivery": {"UNLocationCode": "USLAX"}, "vesselVoyages": []}
    assert doc["consignmentItems"] == [{
        "carrierBookingReference": None, "descriptionOfGoods": ["Wooden furniture"],
        "HSCodes": ["940360"], "shippingMarks": [],
        "cargoItems": [{"equipmentReference": None,
                        "cargoGrossWeight": {"value": "14500", "unit": "KGM"},
                        "cargoGrossVolume": {"value": "62", "unit": "MTQ"},
                        "outerPackaging": {"numberOfPackages": 120, "description": "CARTONS"}}],
    }]
    assert doc["utilizedTransportEquipments"] == []
    assert doc["carrierClauses"] == []


def test_the_planned_placeholder_vessel_stands_until_the_carrier_confirms(memory_service):
    sid = memory_service.request_booking(order(planned_vessel_voyage={
        "vessel": "TEMP", "voyage": ""}), M).shipment_id
    assert assemble(memory_service.get(sid))["transports"]["vesselVoyages"] == [
        {"vesselName": "TEMP", "carrierExportVoyageNumber": None, "vesselIMONumber": None}]
    memory_service.review(sid, [], M)
    memory_service.confirm_by_carrier(sid, confirmation(), M)
    assert assemble(memory_service.get(sid))["transports"]["vesselVoyages"] == [
        {"vesselName": "MAERSK ESSEN", "carrierExportVoyageNumber": "248E",
         "vesselIMONumber": None}]


def test_shipping_instructions_give_containers_seals_weights_and_marks(memory_service):
    sid = booked(memory_service)
    memory_service.submit_shipping_instructions(sid, two_boxes(
        marks_and_numbers="ACME\nLOS ANGELES\n1-120", description_of_goods="WOODEN FURNITURE\n"
        "(TABLES AND CHAIRS)", number_of_originals=2), M)
    doc = assemble(memory_service.get(sid))

    item = doc["consignmentItems"][0]
    assert item["carrierBookingReference"] == "255123456"
    assert item["descriptionOfGoods"] == ["WOODEN FURNITURE", "(TABLES AND CHAIRS)"]
    assert item["shippingMarks"] == ["ACME", "LOS ANGELES", "1-120"]
    assert item["cargoItems"] == [
        {"equipmentReference": "MSKU1234565",
         "cargoGrossWeight": {"value": "8000.5", "unit": "KGM"},
         "cargoGrossVolume": {"value": "62", "unit": "MTQ"},
         "outerPackaging": {"numberOfPackages": 70, "description": "CARTONS"}},
        {"equipmentReference": SECOND_BOX,
         "cargoGrossWeight": {"value": "6499.5", "unit": "KGM"}, "cargoGrossVolume": None,
         "outerPackaging": {"numberOfPackages": 50, "description": "CARTONS"}}]
    assert doc["utilizedTransportEquipments"] == [
        {"equipment": {"equipmentReference": "MSKU1234565", "ISOEquipmentCode": "45G1"},
         "seals": [{"number": "ML123456"}],
         "cargoGrossWeight": {"value": "8000.5", "unit": "KGM"},
         "verifiedGrossMass": {"value": "12000.5", "unit": "KGM", "method": "SM1"}},
        {"equipment": {"equipmentReference": SECOND_BOX, "ISOEquipmentCode": "45G1"},
         "seals": [{"number": "ML654321"}, {"number": "CUS-77"}],
         "cargoGrossWeight": {"value": "6499.5", "unit": "KGM"}, "verifiedGrossMass": None}]
    assert doc["numberOfOriginalsWithoutCharges"] == 2
    assert doc["transports"]["vesselVoyages"][0]["vesselName"] == "MAERSK ESSEN"


def test_vessel_voyages_follow_rollovers_on_every_leg(memory_service):
    sid = booked(memory_service)
    memory_service.roll_over(sid, rollover(VesselVoyage(vessel="MAERSK EMDEN", voyage="250E",
                                               imo="9456783"), "vessel full",
                             NOW + timedelta(days=22), NOW + timedelta(days=37), 0), M)
    memory_service.roll_over(sid, rollover(VesselVoyage(vessel="MAERSK HONAM", voyage="301W"),
                             "connection missed", NOW + timedelta(days=22),
                             NOW + timedelta(days=40), 1), M)
    assert assemble(memory_service.get(sid))["transports"]["vesselVoyages"] == [
        {"vesselName": "MAERSK EMDEN", "carrierExportVoyageNumber": "250E",
         "vesselIMONumber": "9456783"},
        {"vesselName": "MAERSK HONAM", "carrierExportVoyageNumber": "301W",
         "vesselIMONumber": None}]


def test_freight_terms_map_to_dcsa_codes_and_payable_at(memory_service):
    def doc(**kw):
        return assemble(memory_service.get(memory_service.request_booking(
            order(**kw), M).shipment_id))

    collect = doc(freight_payment_term="COLLECT")
    assert collect["freightPaymentTermCode"] == "COL"
    assert collect["invoicePayableAt"] == {"UNLocationCode": "USLAX"}
    elsewhere = doc(freight_payment_term="ELSEWHERE", payable_at="HKHKG")
    assert elsewhere["freightPaymentTermCode"] is None
    assert elsewhere["invoicePayableAt"] == {"UNLocationCode": "HKHKG"}
    prepaid_at = doc(payable_at="CNNGB")
    assert prepaid_at["freightPaymentTermCode"] == "PRE"
    assert prepaid_at["invoicePayableAt"] == {"UNLocationCode": "CNNGB"}


def test_issued_bl_carries_its_number_dates_place_and_originals(memory_service):
    sid = booked(memory_service)
    memory_service.submit_shipping_instructions(sid, shipping_instructions(), M)
    issue(memory_service, sid, number_of_originals=1)
    doc = assemble(memory_service.get(sid))
    assert doc["transportDocumentReference"] == "SFLW2611000123"
    assert doc["transportDocumentTypeCode"] == "BOL"
    assert doc["shippedOnBoardDate"] == DEPARTED.date().isoformat()
    assert doc["issueDate"] == "2026-12-05"
    assert doc["placeOfIssue"] == {"UNLocationCode": "CNSHA"}
    assert doc["numberOfOriginalsWithoutCharges"] == 1


def test_a_sea_waybill_has_type_swb_and_no_originals(memory_service):
    sid = booked(memory_service)
    memory_service.submit_shipping_instructions(sid, shipping_instructions(), M)
    issue(memory_service, sid, document_type="SWB", release="SEAWAY", number_of_originals=0)
    doc = assemble(memory_service.get(sid))
    assert doc["transportDocumentTypeCode"] == "SWB"
    assert doc["numberOfOriginalsWithoutCharges"] == 0


def test_reefer_settings_come_from_the_booked_equipment_line(memory_service):
    sid = booked(memory_service, equipment=[{
        "size_type": "45R1", "count": 1, "genset_required": False,
        "reefer": {"temperature_c": "-18.0", "ventilation_cbm_h": "0", "humidity_pct": "85"}}])
    box = dict(si_data()["containers"][0], container_no=REEFER_BOX, size_type="45R1")
    memory_service.submit_shipping_instructions(
        sid, shipping_instructions(containers=[box]), M)
    ute = assemble(memory_service.get(sid))["utilizedTransportEquipments"][0]
    assert ute["equipment"] == {"equipmentReference": REEFER_BOX, "ISOEquipmentCode": "45R1"}
    assert ute["activeReeferSettings"] == {
        "temperatureSetpoint": "-18", "temperatureUnit": "CEL", "airExchangeSetpoint": "0",
        "airExchangeUnit": "MQH", "humiditySetpoint": "85"}


def test_parties_clauses_and_missing_notify_party(memory_service):
    sid = memory_service.request_booking(order(
        shipper={"name": "Acme Trading (Shanghai) Co.", "address": "88 Century Ave\nPudong\n"
                 "Shanghai 200120", "contact": "Ms Chen", "email": "chen@acme.example",
                 "tax_id": "91310000MA1K"},
        consignee={"name": "TO ORDER", "phone": "+1 562 555 0100"}, notify_party=None,
        bl_clauses=["SHIPPER'S LOAD, STOW AND COUNT", "FREIGHT PREPAID"]), M).shipment_id
    doc = assemble(memory_service.get(sid))
    assert doc["documentParties"] == {
        "shipper": {"partyName": "Acme Trading (Shanghai) Co.",
                    "displayedAddress": ["88 Century Ave", "Pudong", "Shanghai 200120"],
                    "partyContactDetails": [{"name": "Ms Chen", "email": "chen@acme.example"}]},
        "consignee": {"partyName": "TO ORDER",
                      "partyContactDetails": [{"name": "TO ORDER", "phone": "+1 562 555 0100"}]},
        "notifyParties": []}
    assert doc["carrierClauses"] == ["SHIPPER'S LOAD, STOW AND COUNT", "FREIGHT PREPAID"]


def test_assemble_is_pure_json_able_and_shares_nothing_with_the_shipment(memory_service):
    sid = booked(memory_service)
    memory_service.submit_shipping_instructions(sid, two_boxes(), M)
    shipment = memory_service.get(sid)
    doc = assemble(shipment)
    assert json.loads(json.dumps(doc)) == doc
    assert assemble(shipment) == doc
    kept = copy.deepcopy(doc)
    doc["transports"]["vesselVoyages"].clear()
    doc["consignmentItems"][0]["HSCodes"].append("999999")
    assert assemble(shipment) == kept
    assert shipment.legs[0].vessel == "MAERSK ESSEN"
