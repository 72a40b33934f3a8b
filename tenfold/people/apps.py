from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "tenfold.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from tenfold.core import navigation

        navigation.register(navigation.NavItem("people", _("People"), "people:employee_list", "statements", order=80))
        navigation.register(navigation.NavItem("compensation", _("Compensation plans"), "people:plan_list",
                                               "compensation", order=81))
