"""Personal data: the export ready, the erasure done."""

from __future__ import annotations

from domain.notification_texts.base import E, OverrideKey, TemplateText, t

TEXTS: dict[OverrideKey, TemplateText] = {
    ("privacy.export_ready", E, "en"): t(
        "Your data from {{ tenant_name }} is ready",
        "Hello,\n\nThe copy of your data you asked {{ tenant_name }} for is ready: {{ link }}\n\n"
        "The link works until {{ expires }}; after that the archive is deleted. If you did not ask for it, "
        "tell {{ tenant_name }}.\n"),
    ("privacy.export_ready", E, "hi"): t(
        "{{ tenant_name }} से आपका डेटा तैयार है",
        "नमस्ते,\n\nआपने {{ tenant_name }} से अपने डेटा की जो प्रति माँगी थी, वह तैयार है: {{ link }}\n\n"
        "यह लिंक {{ expires }} तक काम करेगा; उसके बाद संग्रह हटा दिया जाएगा। यदि आपने यह नहीं माँगा था, तो "
        "{{ tenant_name }} को बताएँ।\n"),
}
