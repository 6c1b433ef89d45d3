"""Onboarding request bodies and response shapes (SPEC §7.4)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from pivotal.core.validation import (
    DateOrDateTimeInput,
    DateTimeInput,
    InputModel,
    Metadata,
    NotNull,
    Ref,
    StrictBool,
    Text10k,
    Text255,
)

PHASES = (
    "before_getting_started",
    "program_design",
    "review",
    "program_buildout",
    "internal_qa",
    "launch",
    "completed",
)
Phase = Literal[
    "before_getting_started",
    "program_design",
    "review",
    "program_buildout",
    "internal_qa",
    "launch",
    "completed",
]
State = Literal["active", "paused", "at_risk", "waiting"]


ReminderDays = Annotated[int, Field(ge=1, le=90, strict=True)]


class _OnboardingFields(InputModel):
    name: Text255 | None = None
    template_id: Text255 | None = None
    phase: Annotated[Phase | None, NotNull] = None
    state: Annotated[State | None, NotNull] = None
    waiting_on_customer: Annotated[StrictBool | None, NotNull] = None
    started_at: DateTimeInput | None = None
    target_launch_date: DateOrDateTimeInput | None = None
    csm_id: Text255 | None = None
    se_id: Text255 | None = None
    designer_id: Text255 | None = None
    product_ops_id: Text255 | None = None
    notes: Text10k | None = None
    reminders_enabled: Annotated[StrictBool | None, NotNull] = None
    reminder_frequency_days: Annotated[ReminderDays | None, NotNull] = None
    metadata: Annotated[Metadata | None, NotNull] = None


class OnboardingCreate(_OnboardingFields):
    """A new onboarding for a live customer of the workspace."""

    customer_id: Annotated[Ref, Field(description="The customer's id or display id.")]


class OnboardingUpdate(_OnboardingFields):
    """A partial update; ``customer_id`` cannot change (it is an unrecognized key here)."""


class Onboarding(BaseModel):
    object: Literal["onboarding"]
    id: str
    display_id: int
    customer_id: str
    name: str | None
    template_id: str | None
    phase: Phase
    state: State
    waiting_on_customer: bool
    started_at: str | None
    completed_at: str | None
    target_launch_date: str | None
    csm_id: str | None
    se_id: str | None
    designer_id: str | None
    product_ops_id: str | None
    notes: str | None
    reminders_enabled: bool
    reminder_frequency_days: int
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


class OnboardingList(BaseModel):
    object: Literal["list"]
    data: list[Onboarding]
    has_more: bool
    next_cursor: str | None


class PhaseTransition(BaseModel):
    object: Literal["phase_transition"]
    id: str
    onboarding_id: str
    from_: Phase = Field(alias="from")
    to: Phase
    actor: str
    livemode: bool
    created_at: str


class PhaseTransitionList(BaseModel):
    object: Literal["list"]
    data: list[PhaseTransition]
    has_more: bool
    next_cursor: str | None
