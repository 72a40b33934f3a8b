"""Forms of the people screens; they only parse input, the services validate and write."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from tenfold.catalog.models import Service, ServiceCategory
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path
from tenfold.core.roles import STAFF_ROLES
from tenfold.people.measures import quarter_of
from tenfold.people.models import (
    CRITERIA,
    AppliesTo,
    Basis,
    CompensationPlan,
    Employee,
    Measure,
    PeopleSettings,
    ReviewCycle,
    RoleTarget,
    RuleKind,
    Team,
    Training,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
STEP_ROWS = 4


class EmployeeForm(forms.ModelForm):
    """Create or change an employee."""

    class Meta:
        model = Employee
        fields = ["user", "team", "manager", "plan_role", "base_pay", "start_date", "active"]
        widgets = {"start_date": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(role__in=list(STAFF_ROLES), is_active=True)
        if self.instance.pk:
            del self.fields["user"]
            self.fields["manager"].queryset = Employee.objects.exclude(  # type: ignore[attr-defined]
                pk=self.instance.pk).select_related("user")
        else:
            self.fields["user"].queryset = users.filter(employee__isnull=True).order_by(  # type: ignore[attr-defined]
                "first_name", "last_name")
            self.fields["manager"].queryset = Employee.objects.select_related("user")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("user", "team", "manager"):
            if name in data:
                value = data.pop(name)
                data[f"{name}_id"] = value.pk if value else None
        return data


class TeamForm(forms.ModelForm):
    """Create or rename a team."""

    class Meta:
        model = Team
        fields = ["name"]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class TeamDeleteForm(forms.Form):
    """Confirm a team's deletion; with members, the owner must choose to take them out of the team."""

    unassign_members = forms.BooleanField(label=_("Take its members out of the team, then delete it"),
                                          required=False)


class TargetForm(forms.ModelForm):
    """A plan role's personal-development target."""

    class Meta:
        model = RoleTarget
        fields = ["training_hours_per_year", "certifications_required"]

    def service_data(self) -> dict[str, Any]:
        return {"hours": self.cleaned_data["training_hours_per_year"],
                "certifications": self.cleaned_data["certifications_required"]}


class PlanEndForm(forms.Form):
    """A plan's last day in force."""

    effective_to = forms.DateField(label=_("last day in force"), widget=DATE)


class PlanForm(forms.ModelForm):
    """Create or change a compensation plan."""

    class Meta:
        model = CompensationPlan
        fields = ["name", "plan_role", "effective_from", "effective_to", "notes"]
        widgets = {"effective_from": DATE, "effective_to": DATE, "notes": forms.Textarea(attrs={"rows": 3})}

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class RuleForm(forms.Form):
    """The rule builder: a measure, a type and its parameters — no code."""

    label = forms.CharField(label=_("label"), max_length=200)
    kind = forms.ChoiceField(label=_("type"), choices=RuleKind.choices)
    measure = forms.ChoiceField(label=_("measure"), choices=Measure.choices)
    rate_pct = forms.DecimalField(label=_("rate (%)"), required=False, max_digits=7, decimal_places=3)
    basis = forms.ChoiceField(label=_("basis"), choices=Basis.choices, initial=Basis.MONTHLY)
    applies_to = forms.ChoiceField(label=_("applies to"), choices=AppliesTo.choices, initial=AppliesTo.ALL)
    service = forms.ModelChoiceField(label=_("service"), queryset=Service.objects.none(), required=False,
                                     empty_label=_("— any service —"))
    category = forms.ChoiceField(label=_("service category"), required=False,
                                 choices=[("", _("— any category —")), *ServiceCategory.choices])
    linear_start = forms.DecimalField(label=_("scale starts at"), required=False, max_digits=12, decimal_places=2)
    linear_end = forms.DecimalField(label=_("scale ends at"), required=False, max_digits=12, decimal_places=2)
    linear_amount = forms.DecimalField(label=_("amount at the end of the scale"), required=False, max_digits=12,
                                       decimal_places=2)
    floor = forms.DecimalField(label=_("floor"), required=False, max_digits=12, decimal_places=2)
    cap = forms.DecimalField(label=_("cap"), required=False, max_digits=12, decimal_places=2)

    def __init__(self, *args: Any, rule: Any = None, **kwargs: Any) -> None:
        if rule is not None and not args and "initial" not in kwargs:
            initial = {name: getattr(rule, name) for name in ("label", "kind", "measure", "rate_pct", "basis",
                                                              "applies_to", "category", "linear_start", "linear_end",
                                                              "linear_amount", "floor", "cap")}
            initial["service"] = rule.service_id
            for i, step in enumerate(rule.steps or [], start=1):
                initial[f"step{i}_from"], initial[f"step{i}_amount"] = step["from"], step["amount"]
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True)  # type: ignore[attr-defined]
        for i in range(1, STEP_ROWS + 1):
            self.fields[f"step{i}_from"] = forms.DecimalField(label=_("step %(n)s: from") % {"n": i}, required=False,
                                                              max_digits=12, decimal_places=2)
            self.fields[f"step{i}_amount"] = forms.DecimalField(label=_("step %(n)s: amount") % {"n": i},
                                                                required=False, max_digits=12, decimal_places=2)

    def step_fields(self) -> list[tuple[Any, Any]]:
        return [(self[f"step{i}_from"], self[f"step{i}_amount"]) for i in range(1, STEP_ROWS + 1)]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        steps = []
        for i in range(1, STEP_ROWS + 1):
            low, amount = data.pop(f"step{i}_from", None), data.pop(f"step{i}_amount", None)
            if low is not None or amount is not None:
                steps.append({"from": "" if low is None else str(low), "amount": "" if amount is None else str(amount)})
        service = data.pop("service")
        data["service_id"] = service.pk if service else None
        data["steps"] = steps
        return data


def rule_error_field(name: str) -> str | None:
    """Where a service error on a rule shows in the form."""
    return "step1_from" if name == "steps" else name


class TrainingForm(forms.ModelForm):
    """Record a training or certification."""

    class Meta:
        model = Training
        fields = ["kind", "title", "provider", "hours", "date", "expires_on"]
        widgets = {"date": DATE, "expires_on": DATE}

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class CycleForm(forms.ModelForm):
    """Open a review cycle."""

    class Meta:
        model = ReviewCycle
        fields = ["name", "frequency", "start_date", "end_date"]
        widgets = {"start_date": DATE, "end_date": DATE}

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


SCORES = [(str(n), str(n)) for n in range(1, 6)]


class ReviewForm(forms.Form):
    """Rate a colleague on the teamwork criteria."""

    reviewee = forms.ModelChoiceField(label=_("colleague"), queryset=Employee.objects.none())
    comment = forms.CharField(label=_("comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, reviewer: Employee | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        peers = Employee.objects.filter(active=True).select_related("user")
        if reviewer is not None:
            peers = peers.exclude(pk=reviewer.pk)
        self.fields["reviewee"].queryset = peers  # type: ignore[attr-defined]
        for name, label in CRITERIA:
            self.fields[name] = forms.TypedChoiceField(label=label, choices=SCORES, coerce=int, initial="3")
        self.order_fields(["reviewee", *[n for n, _l in CRITERIA], "comment"])

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["reviewee_id"] = data.pop("reviewee").pk
        return data


def quarter_choices(today: date, count: int = 8) -> list[tuple[str, str]]:
    """The current quarter and the ones before it."""
    choices = []
    quarter = quarter_of(today)
    for _i in range(count):
        label = f"{quarter.start.year} Q{(quarter.start.month - 1) // 3 + 1}"
        choices.append((quarter.start.isoformat(), label))
        quarter = quarter_of(quarter.start - timedelta(days=1))
    return choices


class StatementDraftForm(forms.Form):
    """Draft an employee's statement of a quarter."""

    employee = forms.ModelChoiceField(label=_("employee"), queryset=Employee.objects.none())
    quarter = forms.ChoiceField(label=_("quarter"))

    def __init__(self, *args: Any, employees: Any = None, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["employee"].queryset = employees if employees is not None else Employee.objects.all()  # type: ignore[attr-defined]
        self.fields["quarter"].choices = quarter_choices(today or date.today())  # type: ignore[attr-defined]


class SettingsForm(forms.ModelForm):
    """People settings."""

    class Meta:
        model = PeopleSettings
        fields = ["min_reviewers", "hours_per_day"]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class SplitForm(forms.Form):
    """A deal's commission split: up to four employees and their shares."""

    ROWS = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        employees = Employee.objects.select_related("user")
        for i in range(1, self.ROWS + 1):
            self.fields[f"employee{i}"] = forms.ModelChoiceField(label=_("employee"), queryset=employees,
                                                                 required=False)
            self.fields[f"share{i}"] = forms.DecimalField(label=_("share (%)"), required=False, max_digits=5,
                                                          decimal_places=2)

    def rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"employee{i}"], self[f"share{i}"]) for i in range(1, self.ROWS + 1)]

    def shares(self) -> list[dict[str, Any]]:
        result = []
        for i in range(1, self.ROWS + 1):
            employee, share = self.cleaned_data.get(f"employee{i}"), self.cleaned_data.get(f"share{i}")
            if employee is not None or share is not None:
                result.append({"employee_id": employee.pk if employee else None, "share_pct": share})
        return result
