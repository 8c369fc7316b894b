"""Shipment events as webhook types: the table from event class to dotted type and payload."""

from __future__ import annotations

from typing import Any

from shipflow.events import topics
from shipflow.webhooks.catalogue import EventType, Source, jsonable


def summary(s: Any) -> dict[str, Any]:
    """What every shipment message carries as ``data.shipment``: where the job stands now."""
    vv = s.vessel_voyage
    conf = s.confirmation
    return {"customer_id": s.order.customer_id, "status": jsonable(s.status),
            "office": s.order.office, "cs_owner": s.order.cs_owner, "pol": s.order.pol,
            "pod": s.order.pod, "carrier": conf.carrier if conf else s.order.carrier,
            "carrier_booking_no": conf.carrier_booking_no if conf else None,
            "vessel": vv.vessel if vv else None, "voyage": vv.voyage if vv else None,
            "etd": jsonable(s.etd), "eta": jsonable(s.eta),
            "po_numbers": list(s.order.po_numbers),
            "customer_references": list(s.order.customer_references),
            "bl_number": s.bl_issue.bl_number if s.bl_issue else None}


def _requested(e: Any, s: Any) -> dict[str, Any]:
    o = e.order
    return {"business_source": jsonable(o.business_source), "load_type": jsonable(o.load_type),
            "requested_sailing_date": jsonable(o.requested_sailing_date),
            "place_of_receipt": o.place_of_receipt, "place_of_delivery": o.place_of_delivery,
            "commodity": {"en": o.commodity_en, "cn": o.commodity_cn, "hs_code": o.hs_code},
            "packages": o.packages, "gross_weight_kg": jsonable(o.gross_weight_kg),
            "volume_cbm": jsonable(o.volume_cbm), "equipment": jsonable(o.equipment),
            "incoterm": jsonable(o.incoterm),
            "freight_payment_term": jsonable(o.freight_payment_term),
            "shipper": o.shipper.name, "consignee": o.consignee.name}


def _reviewed(e: Any, s: Any) -> dict[str, Any]:
    return {"outcome": jsonable(e.outcome), "violations": jsonable(e.violations),
            "confirmations": [c.rule for c in e.confirmations]}


def _confirmed(e: Any, s: Any) -> dict[str, Any]:
    c = e.confirmation
    return {"carrier": c.carrier, "carrier_booking_no": c.carrier_booking_no,
            "vessel": c.vessel_voyage.vessel, "voyage": c.vessel_voyage.voyage,
            "imo": c.vessel_voyage.imo, "etd": jsonable(c.etd), "eta": jsonable(c.eta),
            "cutoffs": jsonable(c.cutoffs), "equipment": jsonable(c.equipment)}


def _reason(e: Any, s: Any) -> dict[str, Any]:
    return {"reason": e.reason}


def _amendment_requested(e: Any, s: Any) -> dict[str, Any]:
    return {"number": e.number, "changes": jsonable(e.changes), "reason": e.reason,
            "customer_confirmation_ref": e.customer_confirmation_ref,
            "charges": jsonable(e.charges), "notify_parties": list(e.notify_parties)}


def _amended(e: Any, s: Any) -> dict[str, Any]:
    a = next(a for a in s.amendments if a.number == e.number)
    return {"number": e.number, "changes": jsonable(a.changes), "reason": a.reason,
            "customer_confirmation_ref": a.customer_confirmation_ref,
            "approved_by": e.meta.actor, "notify_parties": list(a.notify_parties),
            "charges": jsonable(a.charges)}


def _amendment_rejected(e: Any, s: Any) -> dict[str, Any]:
    return {"number": e.number, "reason": e.reason}


def _si(e: Any, s: Any) -> dict[str, Any]:
    return {"revision": e.revision, **jsonable(e.instructions)}


def _milestone(e: Any, s: Any) -> dict[str, Any] | None:
    m = e.milestone
    vv = m.vessel_voyage
    return {"event_type": jsonable(m.kind), "event_code": m.code,
            "event_classifier": jsonable(m.classifier), "event_time": jsonable(m.event_time),
            "location": m.location, "facility": m.facility, "leg": m.leg,
            "vessel": vv.vessel if vv else None, "voyage": vv.voyage if vv else None,
            "container_no": m.container_no, "superseded": e.superseded}


def _eta(e: Any, s: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for what in ("eta", "etd"):
        before, after = getattr(e, f"previous_{what}"), getattr(e, what)
        if before != after:
            out.append((f"shipment.{what}_changed", {
                f"previous_{what}": jsonable(before), what: jsonable(after), "cause": e.cause}))
    return out


def _rolled(e: Any, s: Any) -> dict[str, Any]:
    f, t = e.from_vessel_voyage, e.to_vessel_voyage
    return {"leg": e.leg, "from_vessel": f.vessel if f else None,
            "from_voyage": f.voyage if f else None, "to_vessel": t.vessel,
            "to_voyage": t.voyage, "reason": e.reason, "new_etd": jsonable(e.new_etd),
            "new_eta": jsonable(e.new_eta)}


def _exception(e: Any, s: Any) -> dict[str, Any]:
    return {"number": e.number, **jsonable(e.exception)}


def _exception_resolved(e: Any, s: Any) -> dict[str, Any]:
    x = next(x for x in s.exceptions if x.number == e.number)
    return {"number": e.number, "kind": jsonable(x.exception.kind), "resolution": e.resolution}


def _charge(e: Any, s: Any) -> dict[str, Any]:
    c = next(c for c in s.charges if c.number == e.number)
    line = c.line
    return {"number": c.number, "direction": jsonable(line.direction), "code": line.code,
            "description": line.description, "quantity": jsonable(line.quantity),
            "unit_price": jsonable(line.unit_price), "amount": jsonable(line.amount),
            "counterparty": line.counterparty, "reason": getattr(e, "reason", line.reason),
            "amendment_number": c.amendment_number, "voided": c.voided}


def _bl_approved(e: Any, s: Any) -> dict[str, Any]:
    return {"draft_version": e.draft_version, "approved_by": e.approval.by,
            "approved_at": jsonable(e.approval.at), "reference": e.approval.reference}


def _bl_issued(e: Any, s: Any) -> dict[str, Any]:
    return {**jsonable(e.issue), "dating": jsonable(e.dating)}


def _outcome(e: Any, s: Any) -> dict[str, Any]:
    return {"outcome": jsonable(e.outcome), "reason": e.reason}


def _notified(e: Any, s: Any) -> dict[str, Any]:
    return jsonable(e.notice)


def _sla(e: Any, s: Any) -> dict[str, Any]:
    return {"timer": e.timer, "kind": e.kind, "started_at": jsonable(e.started_at),
            "due_at": jsonable(e.due_at)}


def _closed(e: Any, s: Any) -> dict[str, Any]:
    return {"note": e.note}


TABLE = {
    "BookingRequested": ("shipment.booking_requested", _requested),
    "BookingReviewed": ("shipment.booking_reviewed", _reviewed),
    "CarrierConfirmed": ("shipment.booking_confirmed", _confirmed),
    "CarrierRejected": ("shipment.booking_rejected", _reason),
    "BookingDeclined": ("shipment.booking_declined", _reason),
    "AmendmentRequested": ("shipment.amendment_requested", _amendment_requested),
    "AmendmentApproved": ("shipment.amended", _amended),
    "AmendmentRejected": ("shipment.amendment_rejected", _amendment_rejected),
    "ShippingInstructionsSubmitted": ("shipment.shipping_instructions_submitted", _si),
    "MilestoneRecorded": ("shipment.milestone_recorded", _milestone),
    "RolledOver": ("shipment.rolled_over", _rolled),
    "ExceptionRaised": ("shipment.exception_raised", _exception),
    "ExceptionResolved": ("shipment.exception_resolved", _exception_resolved),
    "ChargeAdded": ("shipment.charge_added", _charge),
    "ChargeAdjusted": ("shipment.charge_adjusted", _charge),
    "ChargeVoided": ("shipment.charge_voided", _charge),
    "BlDraftApproved": ("shipment.bl_draft_approved", _bl_approved),
    "BlIssued": ("shipment.bl_issued", _bl_issued),
    "SailingOutcomeRecorded": ("shipment.sailing_outcome_recorded", _outcome),
    "CustomerNotified": ("shipment.customer_notified", _notified),
    "SlaBreached": ("sla.breached", _sla),
    "ShipmentCancelled": ("shipment.cancelled", _reason),
    "ShipmentClosed": ("shipment.closed", _closed),
}
# Not sent: BlDatingApproved (an internal manager approval; the dating is in bl_issued).


def _bl_projection() -> Any:
    from shipflow.projections.bl_draft import BlDraftProjection

    global _BL
    if _BL is None:
        _BL = BlDraftProjection()
    return _BL


_BL: Any = None


def derive(event: Any, shipment: Any, cache: Any) -> list[tuple[str, dict[str, Any]]]:
    """``shipment.eta_changed`` / ``etd_changed`` from ScheduleChanged, and
    ``shipment.bl_draft_changed`` whenever the B/L draft fold records a new version."""
    name = type(event).__name__
    out = _eta(event, shipment) if name == "ScheduleChanged" else []
    if cache is None:
        return out
    bl = _bl_projection()
    before = cache.view_before(bl, event)
    after = bl.evolve(before, event, shipment)
    cache.put_view(bl, event, after)
    if after is not None and (before is None or after.version != before.version):
        out.append(("shipment.bl_draft_changed", {
            "version": after.version, "previous_version": before.version if before else None,
            "status": after.status, "caused_by": after.current.caused_by,
            "document": after.document}))
    return out


_DESCRIPTIONS = {
    "shipment.booking_requested": "a booking order from the sales hand-over was recorded",
    "shipment.booking_reviewed": "CS reviewed the booking: ACCEPTED or ON_HOLD with violations",
    "shipment.booking_confirmed": "the carrier confirmed (or re-confirmed) the booking: "
                                  "booking no., vessel/voyage, ETD/ETA, cut-offs",
    "shipment.booking_rejected": "the carrier refused the booking request",
    "shipment.booking_declined": "the carrier withdrew a confirmed booking",
    "shipment.amendment_requested": "an amendment (委托更改) awaits the CS owner's decision",
    "shipment.amended": "an amendment was approved: the booking reads differently from now on",
    "shipment.amendment_rejected": "an amendment was rejected",
    "shipment.shipping_instructions_submitted": "shipping instructions (containers, seals, "
                                                "VGM) were submitted or revised",
    "shipment.milestone_recorded": "a DCSA Track & Trace milestone (planned, estimated or "
                                   "actual)",
    "shipment.eta_changed": "the shipment's ETA moved (a milestone, rollover or "
                            "re-confirmation)",
    "shipment.etd_changed": "the shipment's ETD moved",
    "shipment.rolled_over": "the cargo was rolled to another sailing",
    "shipment.exception_raised": "an exception: held back, late delivery, customs "
                                 "inspection, claim, …",
    "shipment.exception_resolved": "an exception was resolved",
    "shipment.charge_added": "a receivable, payable or collect charge line was added",
    "shipment.charge_adjusted": "a charge line was corrected",
    "shipment.charge_voided": "a charge line was voided",
    "shipment.bl_draft_changed": "the B/L draft has a new version (DCSA eBL 3.0 document)",
    "shipment.bl_draft_approved": "the customer approved the B/L draft",
    "shipment.bl_issued": "the B/L (or sea waybill) was issued",
    "shipment.sailing_outcome_recorded": "the cargo shipped, or was shut out (退载)",
    "shipment.customer_notified": "CS told the customer (booking confirmation, delay notice, "
                                  "arrival notice, …)",
    "sla.breached": "a service-level timer passed its due time unmet",
    "shipment.cancelled": "the shipment was cancelled",
    "shipment.closed": "the job was closed",
}

SOURCE = Source(
    name="shipment", stream=topics.SHIPMENT, subject_field="shipment_id", table=TABLE,
    customer=lambda s: s.order.customer_id,
    types=tuple(EventType(name, text, "shipment") for name, text in _DESCRIPTIONS.items()),
    derive=derive, summary=summary, summary_key="shipment")
