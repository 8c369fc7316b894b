"""Shipment commands for its documents: shipping instructions and the B/L."""

from __future__ import annotations

from datetime import date

from shipflow.events import shipment_events as ev
from shipflow.events.bl_document import assemble, fingerprint
from shipflow.events.booking import Approval
from shipflow.events.documents import (
    BlDating,
    BlDocumentType,
    BlIssue,
    BlRelease,
    ShippingInstructions,
)
from shipflow.events.errors import DomainError, InvalidTransition, NotPermitted
from shipflow.events.ports import local_date
from shipflow.events.values import EventMeta


class DocumentCommands:
    """Mixed into :class:`~shipflow.events.shipment.Shipment`."""


    def submit_shipping_instructions(self, si: ShippingInstructions, meta: EventMeta) -> None:
        self._require_confirmed("submit shipping instructions")
        self._bl_not_issued("change the shipping instructions")
        seen: set[str] = set()
        for i, c in enumerate(si.containers):
            if c.container_no in seen:
                raise DomainError("duplicate_container", f"{c.container_no} is listed twice",
                                  f"containers.{i}.container_no")
            seen.add(c.container_no)
            if c.vgm_kg is not None and c.vgm_kg < c.cargo_weight_kg:
                raise DomainError("vgm_below_cargo_weight", f"the VGM of {c.container_no} "
                                  "is less than its cargo weight", f"containers.{i}.vgm_kg")
        self.trigger_event(ev.ShippingInstructionsSubmitted, meta=meta, instructions=si,
                           revision=self.si_revision + 1)

    def approve_bl_draft(self, approval: Approval, draft_version: int | None,
                         meta: EventMeta, current_draft_version: int | None = None) -> None:
        """The customer approves the B/L draft. Versions are counted by the B/L draft fold, not
        here: the caller passes ``current_draft_version`` and an approval naming another
        version is refused."""
        self._require_confirmed("approve the B/L draft")
        self._bl_not_issued("approve the B/L draft")
        self._no_pending_amendment("approve the B/L draft")
        if self.shipping_instructions is None:
            raise InvalidTransition("si_missing", "the B/L draft needs shipping instructions")
        if current_draft_version is not None and draft_version not in (
                None, current_draft_version):
            raise InvalidTransition("bl_draft_version_stale", f"the B/L draft is at version "
                                    f"{current_draft_version}, not {draft_version}",
                                    "draft_version")
        self.trigger_event(ev.BlDraftApproved, meta=meta, approval=approval,
                           draft_version=draft_version,
                           document_fingerprint=fingerprint(assemble(self)))

    @property
    def bl_approval_current(self) -> bool:
        """Is the B/L document, as it reads now, the one the customer approved?"""
        return self.bl.approved_fingerprint == fingerprint(assemble(self))

    def bl_dating(self, on_board: date) -> BlDating:
        """How a shipped-on-board date relates to the actual loading (倒签/顺签/预借)."""
        loaded = self.loaded_at
        if loaded is None:
            return BlDating.ADVANCE
        loaded_on = local_date(loaded, self.order.pol)  # the date at the port of loading
        if on_board < loaded_on:
            return BlDating.BACK_DATED
        if on_board > loaded_on:
            return BlDating.POST_DATED
        return BlDating.NORMAL

    def approve_bl_dating(self, dating: BlDating, sales_request_ref: str, reason: str,
                          meta: EventMeta) -> None:
        self._require_confirmed("approve a B/L dating")
        self._bl_not_issued("approve a B/L dating")
        if meta.role != "manager":
            raise NotPermitted("manager_role_required", "back-dated, post-dated and advance "
                               "B/Ls need the operations manager's approval")
        if dating is BlDating.NORMAL:
            raise DomainError("dating_not_special", "a normally dated B/L needs no approval",
                              "dating")
        self.trigger_event(ev.BlDatingApproved, meta=meta, dating=dating,
                           sales_request_ref=sales_request_ref, reason=reason)

    def issue_bl(self, issue: BlIssue, meta: EventMeta) -> BlDating:
        self._require_confirmed("issue the B/L")
        self._bl_not_issued("issue another B/L")
        self._no_pending_amendment("issue the B/L")
        if not self.bl_approval_current:
            raise InvalidTransition("bl_draft_not_approved", "the customer has not approved "
                                    "the current B/L draft")
        if issue.document_type is BlDocumentType.SWB and (
                issue.release is not BlRelease.SEAWAY or issue.number_of_originals):
            raise DomainError("sea_waybill_has_no_originals", "a sea waybill is released as "
                              "SEAWAY with 0 originals", "release")
        dating = self.bl_dating(issue.shipped_on_board_date)
        if dating is not BlDating.NORMAL and dating not in {
                a.dating for a in self.bl.dating_approvals}:
            raise NotPermitted("bl_dating_requires_manager_approval", f"a {dating} B/L needs "
                               "a recorded approval from the operations manager",
                               "shipped_on_board_date")
        self.trigger_event(ev.BlIssued, meta=meta, issue=issue, dating=dating)
        return dating
