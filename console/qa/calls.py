"""One call as the QA pages show it: customer (tier at call time), caller, type, outcome, duration, transcript."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from console.permissions import Actor
from console.qa.common import QAError, customer_label, pseudonymise_text, tier_at, tier_names
from models import Call, Customer, Staff


@dataclass(frozen=True)
class CallView:
    call_id: int
    reference: str
    stream: str
    call_type: str
    started_at: dt.datetime
    duration_s: int
    outcome: str
    result: str | None
    recording_ref: str | None
    transcript: str | None
    customer_id: int
    customer: str  # the name, or a pseudonym for trainees
    tier_rank: int
    tier_name: str
    caller_id: int
    caller: str
    caller_team_id: int | None
    is_training: bool

    @property
    def duration(self) -> str:
        minutes, seconds = divmod(int(self.duration_s), 60)
        return f"{minutes}:{seconds:02d}"


def load_call(session: Session, call_id: int, *, actor: Actor | None = None) -> CallView:
    """The call with its customer's tier at the call's time. Trainees see the customer as a pseudonym."""
    row = session.exec(
        select(Call, Customer, Staff, tier_at(Call.customer_id, Call.started_at))
        .join(Customer, Customer.id == Call.customer_id)
        .join(Staff, Staff.id == Call.caller_id)
        .where(Call.id == call_id)
    ).first()
    if row is None:
        raise QAError("No such call.")
    call, customer, caller, rank = row
    trainee = actor is not None and actor.role == "trainee"
    training = bool(customer.is_training or caller.is_training)
    transcript = call.transcript
    if trainee:
        transcript = pseudonymise_text(transcript, customer.name, customer.code)
    return CallView(
        call_id=call.id,  # type: ignore[arg-type]
        reference=call.reference,
        stream=call.stream,
        call_type=call.call_type,
        started_at=call.started_at,
        duration_s=call.duration_s,
        outcome=call.outcome,
        result=call.result,
        recording_ref=call.recording_ref,
        transcript=transcript,
        customer_id=customer.id,  # type: ignore[arg-type]
        customer=customer_label(customer, trainee=trainee),
        tier_rank=int(rank or 0),
        tier_name=tier_names(session).get(int(rank or 0), str(rank)),
        caller_id=caller.id,  # type: ignore[arg-type]
        caller=caller.name,
        caller_team_id=caller.team_id,
        is_training=training,
    )
