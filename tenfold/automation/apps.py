from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "tenfold.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from tenfold.agents import hooks
        from tenfold.automation import trust
        from tenfold.core import navigation, scheduler

        # Agents receive the MSP's signing keys at enrollment and their changes in check-in answers.
        hooks.register_signing_keys_provider(trust.signing_keys)
        self._ready_patch_scripts()
        navigation.register(navigation.NavItem("automation", _("Automation"), "automation:script_list", "scripts",
                                               order=32))
        navigation.register(navigation.NavItem("agent_releases", _("Agent releases"), "automation:release_list",
                                               "scripts", order=34))
        self._ready_workflows()
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "automation.run_sweep", "tenfold.automation.tasks.run_sweep", "* * * * *"))

    def _ready_workflows(self) -> None:
        from tenfold.automation import webhooks, workflows
        from tenfold.core import events, navigation, scheduler

        # Each trigger event starts the matching workflows and feeds the webhook subscriptions.
        for name in workflows.EVENT_NAMES:
            events.register(name, f"automation.workflows.{name}", workflows.on_event)
            events.register(name, f"automation.webhooks.{name}", webhooks.on_event)
        events.register("job.finished", "automation.workflows.resume", workflows.on_job_finished)
        events.register("workflow.email_requested", "automation.workflows.email", workflows.on_email_requested)
        events.register("webhook.disabled", "automation.webhooks.notice", webhooks.on_disabled)
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "automation.workflow_sweep", "tenfold.automation.tasks.workflow_sweep", "* * * * *"))
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "automation.deliver_webhooks", "tenfold.automation.tasks.deliver_webhooks", "* * * * *"))
        navigation.register(navigation.NavItem("workflows", _("Workflows"), "automation:workflow_list", "jobs",
                                               order=33, visible=lambda user: not getattr(user, "is_portal", False)))

    def _ready_patch_scripts(self) -> None:
        from tenfold.automation import patch_scripts
        from tenfold.patching import services as patching_services

        # Install jobs carry the approval policy's scripts before and after installing.
        patching_services.register_install_payload_extension(patch_scripts.install_payload_scripts)
