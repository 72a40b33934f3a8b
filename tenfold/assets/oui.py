"""MAC addresses: the canonical form, and the vendor of a small set of common prefixes (OUI).

The table is deliberately small (vendors an MSP meets on small-business networks: printers, phones,
network gear, virtual machines); an unknown prefix, or a locally administered (randomised) address,
has no vendor.
"""

from __future__ import annotations

import re

_HEX12 = re.compile(r"^[0-9a-f]{12}$")

OUI: dict[str, str] = {
    # Virtual machines
    "00:50:56": "VMware", "00:0c:29": "VMware", "00:05:69": "VMware", "08:00:27": "VirtualBox",
    "00:15:5d": "Microsoft (Hyper-V)", "00:1c:42": "Parallels",
    # Computers and servers
    "00:03:93": "Apple", "00:0a:95": "Apple", "00:1b:63": "Apple", "00:1e:c2": "Apple", "28:cf:e9": "Apple",
    "a4:5e:60": "Apple", "f0:18:98": "Apple", "3c:07:54": "Apple",
    "00:14:22": "Dell", "00:1e:4f": "Dell", "00:21:9b": "Dell", "b8:ac:6f": "Dell", "f8:b1:56": "Dell",
    "18:03:73": "Dell", "d4:be:d9": "Dell",
    "3c:d9:2b": "HP", "00:25:b3": "HP", "9c:8e:99": "HP",
    "00:1b:21": "Intel", "a0:36:9f": "Intel", "00:e0:4c": "Realtek",
    "00:25:90": "Supermicro", "0c:c4:7a": "Supermicro",
    "b8:27:eb": "Raspberry Pi", "dc:a6:32": "Raspberry Pi", "e4:5f:01": "Raspberry Pi",
    # Storage
    "00:11:32": "Synology", "24:5e:be": "QNAP", "00:08:9b": "QNAP",
    # Printers
    "00:80:77": "Brother", "30:05:5c": "Brother", "00:1e:8f": "Canon", "00:26:ab": "Epson", "64:eb:8c": "Epson",
    "00:00:aa": "Xerox", "00:26:73": "Ricoh", "00:c0:ee": "Kyocera", "00:04:00": "Lexmark", "00:21:b7": "Lexmark",
    "00:15:99": "Samsung",
    # Network
    "00:00:0c": "Cisco", "00:18:0a": "Cisco Meraki", "00:05:85": "Juniper", "00:09:0f": "Fortinet",
    "90:6c:ac": "Fortinet", "00:0b:86": "Aruba", "24:de:c6": "Aruba",
    "00:15:6d": "Ubiquiti", "00:27:22": "Ubiquiti", "04:18:d6": "Ubiquiti", "24:a4:3c": "Ubiquiti",
    "68:72:51": "Ubiquiti", "80:2a:a8": "Ubiquiti", "f0:9f:c2": "Ubiquiti", "78:8a:20": "Ubiquiti",
    "fc:ec:da": "Ubiquiti", "74:83:c2": "Ubiquiti", "e0:63:da": "Ubiquiti",
    "00:0c:42": "MikroTik", "4c:5e:0c": "MikroTik", "6c:3b:6b": "MikroTik", "d4:ca:6d": "MikroTik",
    "00:09:5b": "Netgear", "00:14:6c": "Netgear", "a0:40:a0": "Netgear",
    "50:c7:bf": "TP-Link", "14:cc:20": "TP-Link", "f4:f2:6d": "TP-Link", "ec:08:6b": "TP-Link",
    "00:13:49": "Zyxel", "00:a0:c5": "Zyxel", "00:04:0e": "AVM", "00:e0:fc": "Huawei",
    # Phones, cameras, media
    "80:5e:c0": "Yealink", "00:15:65": "Yealink", "00:04:f2": "Polycom", "64:16:7f": "Polycom", "00:04:13": "Snom",
    "00:40:8c": "Axis", "ac:cc:8e": "Axis", "44:19:b6": "Hikvision", "c0:56:e3": "Hikvision",
    "00:0e:58": "Sonos", "5c:aa:fd": "Sonos", "00:17:88": "Philips Hue", "f0:27:2d": "Amazon",
    "3c:5a:b4": "Google", "f4:f5:d8": "Google", "64:09:80": "Xiaomi", "28:6c:07": "Xiaomi",
}


def normalise_mac(value: str) -> str:
    """`aa:bb:cc:dd:ee:ff` from the usual spellings (colons, dashes, Cisco dots, bare hex), "" for "".

    Raises ValueError for anything else."""
    text = value.strip().lower()
    if not text:
        return ""
    if re.fullmatch(r"[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}", text):
        digits = "".join(part.zfill(2) for part in re.split(r"[:-]", text))
    elif re.fullmatch(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}", text):
        digits = text.replace(".", "")
    else:
        digits = text
    if not _HEX12.match(digits):
        raise ValueError("not a MAC address (expected aa:bb:cc:dd:ee:ff)")
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def is_placeholder(mac: str) -> bool:
    """An all-zero or broadcast address: an incomplete ARP entry, not a device."""
    return mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")


def vendor_for(mac: str) -> str:
    """The vendor of a canonical MAC address, or "" (unknown prefix, or a randomised address)."""
    if len(mac) != 17:
        return ""
    if int(mac[1], 16) & 0x2:  # locally administered: phones and laptops randomise their address
        return ""
    return OUI.get(mac[:8], "")
