"""Session packages: the SessionPackage workflow's reminder."""

from __future__ import annotations

from domain.notification_texts.base import E, OverrideKey, TemplateText, t

TEXTS: dict[OverrideKey, TemplateText] = {
    ("package.expiring", E, "en"): t(
        "{{ credits_left }} session(s) of {{ package_title }} expire {{ expires }}",
        "Hello {{ client_name }},\n\nYou still have {{ credits_left }} session(s) of {{ package_title }}. They "
        "expire {{ expires }}: book them before then.\n\nYour credits: {{ book_url }}\n"),
    ("package.expiring", E, "hi"): t(
        "{{ package_title }} के {{ credits_left }} सत्र {{ expires }} को समाप्त होंगे",
        "नमस्ते {{ client_name }},\n\n{{ package_title }} के {{ credits_left }} सत्र अभी बाकी हैं। ये {{ expires }} "
        "को समाप्त हो जाएँगे: उससे पहले बुक कर लें।\n\nआपके क्रेडिट: {{ book_url }}\n"),
}
