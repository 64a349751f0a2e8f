"""GSTIN (India's GST identification number): format and check character."""

from __future__ import annotations

import re

_FORMAT = re.compile(r"^[0-3][0-9][A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# The first two digits are the state code of registration.
STATE_CODES = {
    "01": "Jammu and Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan", "09": "Uttar Pradesh",
    "10": "Bihar", "11": "Sikkim", "12": "Arunachal Pradesh", "13": "Nagaland", "14": "Manipur",
    "15": "Mizoram", "16": "Tripura", "17": "Meghalaya", "18": "Assam", "19": "West Bengal",
    "20": "Jharkhand", "21": "Odisha", "22": "Chhattisgarh", "23": "Madhya Pradesh", "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu", "27": "Maharashtra", "29": "Karnataka", "30": "Goa",
    "31": "Lakshadweep", "32": "Kerala", "33": "Tamil Nadu", "34": "Puducherry",
    "35": "Andaman and Nicobar Islands", "36": "Telangana", "37": "Andhra Pradesh", "38": "Ladakh",
    "97": "Other Territory",
}


def check_character(first14: str) -> str:
    """The 15th character: a Luhn-mod-36 style checksum over the first 14."""
    total = 0
    for index, char in enumerate(first14):
        value = _ALPHABET.index(char) * (2 if index % 2 else 1)
        total += value // 36 + value % 36
    return _ALPHABET[(36 - total % 36) % 36]


def gstin_problem(value: str) -> str | None:
    """Why `value` is not a GSTIN, in words a person can act on; None if it is one."""
    if not _FORMAT.match(value):
        return "a GSTIN has 15 characters: state code, PAN, entity number, 'Z', check character"
    if value[:2] not in STATE_CODES:
        return f"{value[:2]} is not an Indian state code"
    if check_character(value[:14]) != value[14]:
        return "the check character does not match: is there a typo?"
    return None
