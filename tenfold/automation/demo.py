"""The demo's automation: a signing key whose private half exists only while the demo is seeded, the
starter library signed with it, and a few script runs on demo devices.

The private key is generated in this process, used to sign the starter scripts, and dropped: it is never
written anywhere, so the demo server (like any Tenfold server) holds no private key. A consequence worth
knowing: nobody can sign anything more in the demo (a second key needs a countersignature by the first,
whose private half is gone); to try signing, use a fresh install and register your own first key.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tenfold.agents.models import Job, JobStatus
from tenfold.assets.models import Device, DeviceState
from tenfold.automation import services, signing
from tenfold.automation.models import Script, VersionStatus

# What those scripts print (outputs of the demo's past runs; nothing here touches a file).
OUTPUTS = {
    "clear-temp-files-shell": ("/tmp: freed 183204 KiB\n/var/tmp: freed 2048 KiB\n"  # noqa: S108
                               "total freed: 185252 KiB\n", ""),
    "check-disk-health-shell": ("== file systems ==\nFilesystem Size Used Avail Use% Mounted on\n"
                                "/dev/sda2 234G 98G 124G 45% /\n== SMART health ==\n"
                                "/dev/sda: SMART overall-health self-assessment test result: PASSED\n", ""),
    "restart-service-powershell": ("restarting Spooler (Print Spooler)\nSpooler is Running\n", ""),
    "check-disk-health-powershell": ("== volumes ==\nC Windows: 41.2 GiB free of 237.9 GiB (82.7 % used)\n"
                                     "== physical disks ==\nSAMSUNG MZVLB256: Healthy (OK)\n", ""),
}
PARAMETERS = {"restart-service-powershell": {"service": "Spooler"}}


def seed_automation(rng: random.Random, owner: Any, approver: Any, technicians: list[Any]) -> int:
    """Sign the starter library with a throw-away key and record a few runs; returns the runs made."""
    private = signing.generate_private_key()
    public = signing.public_key_of(private)
    services.signing_key_register(actor=owner, name="Demo approver key (private key discarded)",
                                  public_key=public, owner=approver)
    key_id = signing.key_id_of(public)
    for script in Script.objects.prefetch_related("versions").order_by("pk"):
        for version in script.versions.filter(status=VersionStatus.AWAITING_SIGNATURE):
            services.signature_upload(actor=approver, version=version, key_id=key_id,
                                      signature=signing.sign(private, version.document.encode("utf-8")))
    del private  # never stored: the demo holds only the public key, as every Tenfold server
    devices = list(Device.objects.filter(managed=True).exclude(state=DeviceState.RETIRED).order_by("pk"))
    now = timezone.now()
    count = 0
    for slug, (stdout, stderr) in OUTPUTS.items():
        script = Script.objects.get(slug=slug)
        family = "windows" if script.language == "powershell" else "linux"
        candidates = [d for d in devices if d.os_family == family]
        for device in rng.sample(candidates, min(3, len(candidates))):
            [run] = services.script_run(actor=rng.choice(technicians), script=script, device_ids=[device.pk],
                                        parameters=PARAMETERS.get(slug, {}))
            finished = now - timedelta(hours=rng.randint(2, 200))
            Job.objects.filter(pk=run.job_id).update(
                status=JobStatus.SUCCEEDED, exit_code=0, stdout=stdout, stderr=stderr,
                duration_ms=rng.randint(400, 9000), sent_at=finished - timedelta(seconds=30), finished_at=finished)
            count += 1
    return count
