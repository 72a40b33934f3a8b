from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "tenfold.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge")

    def ready(self) -> None:
        from tenfold.core import navigation
        from tenfold.knowledge.search import register_search_provider
        from tenfold.knowledge.selectors import search_knowledge

        navigation.register(navigation.NavItem("runbooks", _("Runbooks"), "knowledge:runbook_list", "runbooks",
                                               order=60))
        navigation.register(navigation.NavItem("vault", _("Vault"), "knowledge:credential_list", "vault", order=61))
        register_search_provider("knowledge", search_knowledge)
