"""The Quotation workflow's messages (`quotation.<event>.<audience>`)."""

from __future__ import annotations

from domain.notification_texts.base import E, OverrideKey, S, TemplateText, t

_Q = "quotation."
TEXTS: dict[OverrideKey, TemplateText] = {
    (_Q + "received.client", E, "en"): t(
        "Quotation {{ number }} from {{ tenant_name }}: {{ title }}",
        "Hello {{ client_name }},\n\n{{ consultant_name }} has sent you a quotation: {{ title }} ({{ number }}), "
        "{{ total }} in all, valid until {{ valid_until }}.\n\nView it, then accept or decline: {{ link }}\n\n"
        "The quotation is attached as a PDF.\n"),
    (_Q + "received.client", E, "hi"): t(
        "{{ tenant_name }} से कोटेशन {{ number }}: {{ title }}",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} ने आपको एक कोटेशन भेजा है: {{ title }} ({{ number }}), "
        "कुल {{ total }}, {{ valid_until }} तक मान्य।\n\nदेखें, फिर स्वीकार या अस्वीकार करें: {{ link }}\n\n"
        "कोटेशन PDF के रूप में संलग्न है।\n"),
    (_Q + "received.client", S, "en"): t(
        None, "{{ tenant_name }}: quotation {{ number }} ({{ total }}) from {{ consultant_name }}, valid until "
              "{{ valid_until }}. View: {{ link }}"),
    (_Q + "received.client", S, "hi"): t(
        None, "{{ tenant_name }}: {{ consultant_name }} से कोटेशन {{ number }} ({{ total }}), {{ valid_until }} तक "
              "मान्य। देखें: {{ link }}"),
    (_Q + "revised.client", E, "en"): t(
        "Quotation {{ number }} revised (version {{ version }})",
        "Hello {{ client_name }},\n\n{{ consultant_name }} has revised quotation {{ number }}: {{ title }}, now "
        "{{ total }}, valid until {{ valid_until }}. This version replaces the earlier one; your old link shows it "
        "too.\n\nView it: {{ link }}\n"),
    (_Q + "revised.client", E, "hi"): t(
        "कोटेशन {{ number }} में बदलाव (संस्करण {{ version }})",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} ने कोटेशन {{ number }} बदला है: {{ title }}, अब "
        "{{ total }}, {{ valid_until }} तक मान्य। यह संस्करण पिछले की जगह लेता है; पुराना लिंक भी यही दिखाता है।"
        "\n\nदेखें: {{ link }}\n"),
    (_Q + "revised.client", S, "en"): t(
        None, "{{ tenant_name }}: quotation {{ number }} was revised, now {{ total }}. View: {{ link }}"),
    (_Q + "revised.client", S, "hi"): t(
        None, "{{ tenant_name }}: कोटेशन {{ number }} बदला गया, अब {{ total }}। देखें: {{ link }}"),
    (_Q + "viewed.consultant", E, "en"): t(
        "{{ client_name }} opened quotation {{ number }}",
        "{{ client_name }} has opened quotation {{ number }} ({{ title }}, {{ total }}).\n\n{{ dashboard_url }}\n"),
    (_Q + "viewed.consultant", E, "hi"): t(
        "{{ client_name }} ने कोटेशन {{ number }} खोला",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}, {{ total }}) खोला है।\n\n{{ dashboard_url }}\n"),
    (_Q + "reminder.client", E, "en"): t(
        "Quotation {{ number }} expires in {{ days }} day(s)",
        "Hello {{ client_name }},\n\nA reminder: quotation {{ number }} ({{ title }}, {{ total }}) is valid until "
        "{{ valid_until }}.\n\nView, accept or decline it: {{ link }}\n"),
    (_Q + "reminder.client", E, "hi"): t(
        "कोटेशन {{ number }} {{ days }} दिन में समाप्त होगा",
        "नमस्ते {{ client_name }},\n\nयाद दिला दें: कोटेशन {{ number }} ({{ title }}, {{ total }}) {{ valid_until }} "
        "तक मान्य है।\n\nदेखें, स्वीकार या अस्वीकार करें: {{ link }}\n"),
    (_Q + "reminder.client", S, "en"): t(
        None, "{{ tenant_name }}: quotation {{ number }} ({{ total }}) is valid until {{ valid_until }}. {{ link }}"),
    (_Q + "reminder.client", S, "hi"): t(
        None, "{{ tenant_name }}: कोटेशन {{ number }} ({{ total }}) {{ valid_until }} तक मान्य है। {{ link }}"),
    (_Q + "extended.client", E, "en"): t(
        "Quotation {{ number }} is valid until {{ valid_until }}",
        "Hello {{ client_name }},\n\n{{ consultant_name }} has extended quotation {{ number }} ({{ title }}): it is "
        "now valid until {{ valid_until }}.\n\nView it: {{ link }}\n"),
    (_Q + "extended.client", E, "hi"): t(
        "कोटेशन {{ number }} अब {{ valid_until }} तक मान्य",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} ने कोटेशन {{ number }} ({{ title }}) की अवधि बढ़ाई है: अब "
        "यह {{ valid_until }} तक मान्य है।\n\nदेखें: {{ link }}\n"),
    (_Q + "accepted.client", E, "en"): t(
        "You accepted quotation {{ number }}",
        "Hello {{ client_name }},\n\nThank you: you accepted quotation {{ number }} ({{ title }}). Your order of "
        "{{ total }} is ready to pay{% if pay_link %} here: {{ pay_link }}{% endif %}.\n"),
    (_Q + "accepted.client", E, "hi"): t(
        "आपने कोटेशन {{ number }} स्वीकार किया",
        "नमस्ते {{ client_name }},\n\nधन्यवाद: आपने कोटेशन {{ number }} ({{ title }}) स्वीकार किया। {{ total }} का "
        "आपका ऑर्डर भुगतान के लिए तैयार है{% if pay_link %}: {{ pay_link }}{% endif %}।\n"),
    (_Q + "accepted.consultant", E, "en"): t(
        "{{ client_name }} accepted quotation {{ number }}",
        "{{ client_name }} accepted quotation {{ number }} ({{ title }}, {{ total }}). The order awaits payment."
        "\n\n{{ dashboard_url }}\n"),
    (_Q + "accepted.consultant", E, "hi"): t(
        "{{ client_name }} ने कोटेशन {{ number }} स्वीकार किया",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}, {{ total }}) स्वीकार किया। ऑर्डर भुगतान की प्रतीक्षा "
        "में है।\n\n{{ dashboard_url }}\n"),
    (_Q + "rejected.consultant", E, "en"): t(
        "{{ client_name }} declined quotation {{ number }}",
        "{{ client_name }} declined quotation {{ number }} ({{ title }}).{% if reason %} Their reason: {{ reason }}"
        "{% endif %}\n\n{{ dashboard_url }}\n"),
    (_Q + "rejected.consultant", E, "hi"): t(
        "{{ client_name }} ने कोटेशन {{ number }} अस्वीकार किया",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}) अस्वीकार किया।{% if reason %} कारण: {{ reason }}"
        "{% endif %}\n\n{{ dashboard_url }}\n"),
    (_Q + "withdrawn.client", E, "en"): t(
        "Quotation {{ number }} was withdrawn",
        "Hello {{ client_name }},\n\n{{ tenant_name }} has withdrawn quotation {{ number }} ({{ title }})."
        "{% if reason %} {{ reason }}{% endif %}\n"),
    (_Q + "withdrawn.client", E, "hi"): t(
        "कोटेशन {{ number }} वापस ले लिया गया",
        "नमस्ते {{ client_name }},\n\n{{ tenant_name }} ने कोटेशन {{ number }} ({{ title }}) वापस ले लिया है।"
        "{% if reason %} {{ reason }}{% endif %}\n"),
    (_Q + "expired.client", E, "en"): t(
        "Quotation {{ number }} has expired",
        "Hello {{ client_name }},\n\nQuotation {{ number }} ({{ title }}) expired on {{ valid_until }}. Write to "
        "{{ consultant_name }} if you would still like it.\n"),
    (_Q + "expired.client", E, "hi"): t(
        "कोटेशन {{ number }} की अवधि समाप्त",
        "नमस्ते {{ client_name }},\n\nकोटेशन {{ number }} ({{ title }}) {{ valid_until }} को समाप्त हो गया। अगर आप "
        "अब भी चाहते हैं तो {{ consultant_name }} को लिखें।\n"),
    (_Q + "expired.consultant", E, "en"): t(
        "Quotation {{ number }} expired unaccepted",
        "Quotation {{ number }} to {{ client_name }} ({{ title }}, {{ total }}) expired on {{ valid_until }}, "
        "viewed {{ views }} time(s).\n\n{{ dashboard_url }}\n"),
    (_Q + "expired.consultant", E, "hi"): t(
        "कोटेशन {{ number }} बिना स्वीकृति के समाप्त",
        "{{ client_name }} को भेजा कोटेशन {{ number }} ({{ title }}, {{ total }}) {{ valid_until }} को समाप्त हुआ, "
        "{{ views }} बार देखा गया।\n\n{{ dashboard_url }}\n"),
    (_Q + "payment_reminder.client", E, "en"): t(
        "Your order for quotation {{ number }} is still unpaid",
        "Hello {{ client_name }},\n\nYou accepted quotation {{ number }} ({{ title }}); its order of {{ total }} is "
        "still unpaid. Pay it before the payment window closes{% if pay_link %}: {{ pay_link }}{% endif %}.\n"),
    (_Q + "payment_reminder.client", E, "hi"): t(
        "कोटेशन {{ number }} का ऑर्डर अभी भी बकाया है",
        "नमस्ते {{ client_name }},\n\nआपने कोटेशन {{ number }} ({{ title }}) स्वीकार किया था; {{ total }} का ऑर्डर "
        "अभी भी बकाया है। भुगतान अवधि समाप्त होने से पहले भुगतान करें{% if pay_link %}: {{ pay_link }}{% endif %}।\n"),
    (_Q + "paid.consultant", E, "en"): t(
        "Quotation {{ number }} is paid",
        "{{ client_name }} paid {{ total }} for quotation {{ number }} ({{ title }}).\n\n{{ dashboard_url }}\n"),
    (_Q + "paid.consultant", E, "hi"): t(
        "कोटेशन {{ number }} का भुगतान हो गया",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}) के लिए {{ total }} का भुगतान किया।\n\n"
        "{{ dashboard_url }}\n"),
    (_Q + "lapsed.client", E, "en"): t(
        "Quotation {{ number }}: the order was not paid in time",
        "Hello {{ client_name }},\n\nThe order for quotation {{ number }} ({{ title }}) was not paid within its "
        "payment window and is closed. Write to {{ consultant_name }} to start again.\n"),
    (_Q + "lapsed.client", E, "hi"): t(
        "कोटेशन {{ number }}: ऑर्डर का भुगतान समय पर नहीं हुआ",
        "नमस्ते {{ client_name }},\n\nकोटेशन {{ number }} ({{ title }}) के ऑर्डर का भुगतान समय पर नहीं हुआ और वह "
        "बंद हो गया है। फिर से शुरू करने के लिए {{ consultant_name }} को लिखें।\n"),
    (_Q + "lapsed.consultant", E, "en"): t(
        "Quotation {{ number }} lapsed unpaid",
        "{{ client_name }} accepted quotation {{ number }} ({{ title }}, {{ total }}) but did not pay within the "
        "payment window; the order is closed.\n\n{{ dashboard_url }}\n"),
    (_Q + "lapsed.consultant", E, "hi"): t(
        "कोटेशन {{ number }} बिना भुगतान के समाप्त",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}, {{ total }}) स्वीकार किया पर भुगतान अवधि में भुगतान "
        "नहीं किया; ऑर्डर बंद हो गया है।\n\n{{ dashboard_url }}\n"),
}
