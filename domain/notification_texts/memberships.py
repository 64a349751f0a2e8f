"""Memberships: the Membership workflow's messages (activities/memberships.py sends them)."""

from __future__ import annotations

from domain.notification_texts.base import E, OverrideKey, TemplateText, t

TEXTS: dict[OverrideKey, TemplateText] = {
    ("membership.past_due", E, "en"): t(
        "Your {{ plan_title }} membership could not be renewed",
        "Hello {{ client_name }},\n\nRazorpay could not charge the renewal of your {{ plan_title }} membership "
        "({{ price }} a month). Your benefits stay until {{ grace_until }}; update your payment method on "
        "Razorpay's page to keep them: {{ link }}\n"),
    ("membership.past_due", E, "hi"): t(
        "आपकी {{ plan_title }} सदस्यता का नवीनीकरण नहीं हो सका",
        "नमस्ते {{ client_name }},\n\nRazorpay आपकी {{ plan_title }} सदस्यता ({{ price }} प्रति माह) का नवीनीकरण "
        "शुल्क नहीं ले सका। आपके लाभ {{ grace_until }} तक बने रहेंगे; उन्हें जारी रखने के लिए Razorpay के पेज पर "
        "भुगतान का तरीका बदलें: {{ link }}\n"),
    ("membership.ended", E, "en"): t(
        "Your {{ plan_title }} membership has ended",
        "Hello {{ client_name }},\n\nYour {{ plan_title }} membership ended {{ ended }} ({{ reason }}). Thank "
        "you for being a member; you can join again any time: {{ link }}\n"),
    ("membership.ended", E, "hi"): t(
        "आपकी {{ plan_title }} सदस्यता समाप्त हो गई है",
        "नमस्ते {{ client_name }},\n\nआपकी {{ plan_title }} सदस्यता {{ ended }} को समाप्त हो गई ({{ reason }})। "
        "सदस्य बने रहने के लिए धन्यवाद; आप कभी भी फिर से जुड़ सकते हैं: {{ link }}\n"),
}
