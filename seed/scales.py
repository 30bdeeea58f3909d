"""The three demo data scales (SPEC §6 "Scales"; small is for tests)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    managers: tuple[int, int, int]  # enterprise, senior, junior
    maintenance_teams: int
    ob_teams: int
    agents_per_team: int
    calls: int
    evaluations: int
    visits: int
    visit_past_days: int  # visits span [as_of - visit_past_days, as_of + 14 days]
    unassigned_new_vips: int
    capacity_units: int
    supervisors: int
    trainees: int
    reception_per_department: int
    training_customers: int
    incidents: int
    call_days: int = 180
    purchases_per_customer_year: float = 8.0

    @property
    def manager_count(self) -> int:
        return sum(self.managers)

    @property
    def agent_count(self) -> int:
        return (self.maintenance_teams + self.ob_teams) * self.agents_per_team


SCALES: dict[str, Scale] = {
    "small": Scale(
        name="small",
        customers=600,
        managers=(1, 2, 3),
        maintenance_teams=1,
        ob_teams=1,
        agents_per_team=4,
        calls=2_000,
        evaluations=150,
        visits=30,
        visit_past_days=30,
        unassigned_new_vips=20,
        # 600 customers carry ~830 workload units: a 1000-unit capacity could never be exceeded, so the
        # small scale scales capacity down to keep utilisation (and the over-capacity scenario) realistic.
        capacity_units=160,
        supervisors=2,
        trainees=2,
        reception_per_department=2,
        training_customers=6,
        incidents=2,
    ),
    "demo": Scale(
        name="demo",
        customers=20_000,
        managers=(4, 12, 16),
        maintenance_teams=2,
        ob_teams=2,
        agents_per_team=10,
        calls=60_000,
        evaluations=3_000,
        visits=300,
        visit_past_days=60,
        unassigned_new_vips=150,
        capacity_units=1000,
        supervisors=3,
        trainees=4,
        reception_per_department=4,
        training_customers=12,
        incidents=6,
    ),
    "large": Scale(
        name="large",
        customers=200_000,
        managers=(40, 120, 160),
        maintenance_teams=20,
        ob_teams=20,
        agents_per_team=10,
        calls=1_000_000,
        evaluations=50_000,
        visits=10_000,
        visit_past_days=180,
        unassigned_new_vips=150,
        capacity_units=1000,
        supervisors=10,
        trainees=10,
        reception_per_department=10,
        training_customers=20,
        incidents=60,
    ),
}
