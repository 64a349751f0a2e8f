"""The spine's messages: account and onboarding, sessions booked and reminded, report delivery, announcements."""

from __future__ import annotations

from domain.notification_texts.base import A, E, OverrideKey, S, TemplateText, t

TEXTS: dict[OverrideKey, TemplateText] = {
    # -- account and onboarding (the spine's messages; English wording unchanged) -----------------
    ("verify_email", E, "en"): t(
        "Confirm your email for {{ tenant_name }}",
        "Hello {{ full_name }},\n\nConfirm your email address by opening this link:\n"
        "{{ link }}\n\nThe link works once and expires in {{ hours }} hours.\n"),
    ("verify_email", E, "hi"): t(
        "{{ tenant_name }} के लिए अपना ईमेल पक्का करें",
        "नमस्ते {{ full_name }},\n\nयह लिंक खोलकर अपना ईमेल पता पक्का करें:\n{{ link }}\n\n"
        "यह लिंक एक ही बार काम करता है और {{ hours }} घंटे में समाप्त हो जाएगा।\n"),
    ("verify_email_reminder", E, "en"): t(
        "Reminder: confirm your email for {{ tenant_name }}",
        "Hello {{ full_name }},\n\nYour consultancy {{ tenant_name }} is waiting for you to "
        "confirm your email. Ask for a new link from the sign-in page if the old one expired.\n"),
    ("verify_email_reminder", E, "hi"): t(
        "याद दिला दें: {{ tenant_name }} के लिए अपना ईमेल पक्का करें",
        "नमस्ते {{ full_name }},\n\nआपकी कंसल्टेंसी {{ tenant_name }} आपके ईमेल की पुष्टि की प्रतीक्षा में है। "
        "पुराना लिंक समाप्त हो गया हो तो साइन-इन पेज से नया लिंक मँगाएँ।\n"),
    ("reset_password", E, "en"): t(
        "Reset your password",
        "Hello {{ full_name }},\n\nSomeone (hopefully you) asked to reset your password. "
        "Open this link to choose a new one:\n{{ link }}\n\nIt works once and expires in "
        "{{ minutes }} minutes. If it was not you, ignore this message.\n"),
    ("reset_password", E, "hi"): t(
        "अपना पासवर्ड बदलें",
        "नमस्ते {{ full_name }},\n\nकिसी ने (उम्मीद है आपने) आपका पासवर्ड बदलने को कहा है। "
        "नया पासवर्ड चुनने के लिए यह लिंक खोलें:\n{{ link }}\n\nयह एक ही बार काम करता है और "
        "{{ minutes }} मिनट में समाप्त हो जाएगा। अगर यह आप नहीं थे, तो इस संदेश को अनदेखा करें।\n"),
    ("onboarding_pending_admin", E, "en"): t(
        "{{ count }} consultanc{{ 'y' if count == 1 else 'ies' }} waiting for approval",
        "The consultancy '{{ tenant_name }}' ({{ tenant_slug }}) has been waiting for approval "
        "since {{ since }}. Review it at {{ link }}.\n"),
    ("onboarding_pending_admin", E, "hi"): t(
        "{{ count }} कंसल्टेंसी स्वीकृति की प्रतीक्षा में",
        "कंसल्टेंसी '{{ tenant_name }}' ({{ tenant_slug }}) {{ since }} से स्वीकृति की प्रतीक्षा में है। "
        "इसे यहाँ देखें: {{ link }}\n"),
    ("onboarding_approved", E, "en"): t(
        "{{ tenant_name }} is approved",
        "Hello {{ full_name }},\n\nGood news: {{ tenant_name }} is approved and your dashboard "
        "is open. Sign in to set up your offerings.\n"),
    ("onboarding_approved", E, "hi"): t(
        "{{ tenant_name }} स्वीकृत हो गई",
        "नमस्ते {{ full_name }},\n\nखुशख़बरी: {{ tenant_name }} स्वीकृत हो गई है और आपका डैशबोर्ड खुल गया है। "
        "अपनी सेवाएँ जोड़ने के लिए साइन इन करें।\n"),
    ("provider_failing", E, "en"): t(
        "Your {{ provider }} account is failing: messages are waiting",
        "{{ provider }} refused or did not answer the {{ channel }} messages sent with your consultancy's own "
        "account: {{ reason }}. They are kept and retried with growing pauses for a day. Check the keys in "
        "your notification settings: {{ link }}\n"),
    ("provider_failing", E, "hi"): t(
        "आपका {{ provider }} खाता काम नहीं कर रहा: संदेश रुके हुए हैं",
        "आपकी कंसल्टेंसी के अपने खाते से भेजे गए {{ channel }} संदेश {{ provider }} ने अस्वीकार किए या उत्तर नहीं "
        "दिया: {{ reason }}। संदेश रखे गए हैं और एक दिन तक बढ़ते अंतराल पर फिर भेजे जाएँगे। अपनी सूचना सेटिंग्स "
        "में कुंजियाँ जाँचें: {{ link }}\n"),
    ("payment_keys_refused", E, "en"): t(
        "Razorpay refused your payment keys: clients cannot pay",
        "Razorpay refused the keys saved in your payment settings (key id {{ key_id }}): {{ reason }}. Until "
        "they work, your clients' checkouts fail and nothing is charged. Update the Razorpay key id, key secret "
        "and webhook secret in your payment settings (PUT {{ link }}); checkouts work again at once.\n"),
    ("payment_keys_refused", E, "hi"): t(
        "Razorpay ने आपकी भुगतान कुंजियाँ अस्वीकार कीं: क्लाइंट भुगतान नहीं कर पा रहे",
        "आपकी भुगतान सेटिंग्स में सहेजी गई कुंजियाँ (key id {{ key_id }}) Razorpay ने अस्वीकार कीं: {{ reason }}। "
        "जब तक ये ठीक नहीं होतीं, आपके क्लाइंट का भुगतान विफल होगा और कोई राशि नहीं कटेगी। अपनी भुगतान "
        "सेटिंग्स में Razorpay की key id, key secret और webhook secret अपडेट करें (PUT {{ link }}); भुगतान "
        "तुरंत फिर से चलने लगेगा।\n"),
    ("onboarding_rejected", E, "en"): t(
        "About your application for {{ tenant_name }}",
        "Hello {{ full_name }},\n\nWe could not approve {{ tenant_name }}: {{ reason }}\n\n"
        "Reply to this message if you would like to discuss it.\n"),
    ("onboarding_rejected", E, "hi"): t(
        "{{ tenant_name }} के आवेदन के बारे में",
        "नमस्ते {{ full_name }},\n\nहम {{ tenant_name }} को स्वीकृत नहीं कर सके: {{ reason }}\n\n"
        "इस पर बात करनी हो तो इस संदेश का उत्तर दें।\n"),
    # -- session booked ---------------------------------------------------------------------------------
    ("session_booked", E, "en"): t(
        "Booked: {{ service_name }} on {{ starts_at | local_date }}",
        "Hello {{ recipient_name }},\n\nYour session \"{{ service_name }}\" with {{ counterpart_name }} is booked "
        "for {{ starts_at | local_datetime }} ({{ duration_minutes }} minutes).\n\nJoin here: {{ join_url }}\n\n"
        "{{ tenant_name }}\n"),
    ("session_booked", E, "hi"): t(
        "बुकिंग पक्की: {{ service_name }}, {{ starts_at | local_date }}",
        "नमस्ते {{ recipient_name }},\n\n{{ counterpart_name }} के साथ आपका सत्र \"{{ service_name }}\" "
        "{{ starts_at | local_datetime }} के लिए बुक हो गया है ({{ duration_minutes }} मिनट)।\n\n"
        "यहाँ जुड़ें: {{ join_url }}\n\n{{ tenant_name }}\n"),
    ("session_booked", S, "en"): t(
        None, "{{ tenant_name }}: {{ service_name }} with {{ counterpart_name }} is booked for "
              "{{ starts_at | local_datetime }}. Join: {{ join_url }}"),
    ("session_booked", S, "hi"): t(
        None, "{{ tenant_name }}: {{ counterpart_name }} के साथ {{ service_name }} {{ starts_at | local_datetime }} "
              "के लिए बुक है। जुड़ें: {{ join_url }}"),
    ("session_booked", A, "en"): t(
        "Session booked", "{{ service_name }} with {{ counterpart_name }} on {{ starts_at | local_datetime }}."),
    ("session_booked", A, "hi"): t(
        "सत्र बुक हुआ", "{{ counterpart_name }} के साथ {{ service_name }}, {{ starts_at | local_datetime }}।"),
    # -- session reminder --------------------------------------------------------------------------------
    ("session_reminder", E, "en"): t(
        "Reminder: {{ service_name }} at {{ starts_at | local_time }}",
        "Hello {{ recipient_name }},\n\nA reminder: your session \"{{ service_name }}\" with {{ counterpart_name }} "
        "starts {{ starts_at | local_datetime }}.\n\nJoin here: {{ join_url }}\n\n{{ tenant_name }}\n"),
    ("session_reminder", E, "hi"): t(
        "याद दिला दें: {{ service_name }}, {{ starts_at | local_time }}",
        "नमस्ते {{ recipient_name }},\n\nयाद दिला दें: {{ counterpart_name }} के साथ आपका सत्र \"{{ service_name }}\" "
        "{{ starts_at | local_datetime }} पर शुरू होगा।\n\nयहाँ जुड़ें: {{ join_url }}\n\n{{ tenant_name }}\n"),
    ("session_reminder", S, "en"): t(
        None, "Reminder from {{ tenant_name }}: {{ service_name }} with {{ counterpart_name }} at "
              "{{ starts_at | local_datetime }}. Join: {{ join_url }}"),
    ("session_reminder", S, "hi"): t(
        None, "{{ tenant_name }} की ओर से याद दिला दें: {{ counterpart_name }} के साथ {{ service_name }}, "
              "{{ starts_at | local_datetime }}। जुड़ें: {{ join_url }}"),
    ("session_reminder", A, "en"): t(
        "Upcoming session", "{{ service_name }} with {{ counterpart_name }} at {{ starts_at | local_datetime }}."),
    ("session_reminder", A, "hi"): t(
        "आने वाला सत्र", "{{ counterpart_name }} के साथ {{ service_name }}, {{ starts_at | local_datetime }}।"),
    # -- session starting soon (urgent) ------------------------------------------------------------------
    ("session_starting_soon", E, "en"): t(
        "Starting in {{ minutes }} minutes: {{ service_name }}",
        "Hello {{ recipient_name }},\n\n\"{{ service_name }}\" with {{ counterpart_name }} starts in {{ minutes }} "
        "minutes, at {{ starts_at | local_time }}.\n\nJoin here: {{ join_url }}\n"),
    ("session_starting_soon", E, "hi"): t(
        "{{ minutes }} मिनट में शुरू: {{ service_name }}",
        "नमस्ते {{ recipient_name }},\n\n{{ counterpart_name }} के साथ \"{{ service_name }}\" {{ minutes }} मिनट में, "
        "{{ starts_at | local_time }} पर शुरू होगा।\n\nयहाँ जुड़ें: {{ join_url }}\n"),
    ("session_starting_soon", S, "en"): t(
        None, "{{ service_name }} with {{ counterpart_name }} starts in {{ minutes }} minutes "
              "({{ starts_at | local_time }}). Join: {{ join_url }}"),
    ("session_starting_soon", S, "hi"): t(
        None, "{{ counterpart_name }} के साथ {{ service_name }} {{ minutes }} मिनट में शुरू होगा "
              "({{ starts_at | local_time }})। जुड़ें: {{ join_url }}"),
    ("session_starting_soon", A, "en"): t(
        "Starting in {{ minutes }} minutes",
        "{{ service_name }} with {{ counterpart_name }} at {{ starts_at | local_time }}. Join: {{ join_url }}"),
    ("session_starting_soon", A, "hi"): t(
        "{{ minutes }} मिनट में शुरू",
        "{{ counterpart_name }} के साथ {{ service_name }}, {{ starts_at | local_time }}। जुड़ें: {{ join_url }}"),
    # -- report delivery (English wording as the documents capability wrote it) ---------------------------
    ("report_due_soon", E, "en"): t(
        "Report due {{ due }}: {{ title }}",
        "Hello {{ full_name }},\n\nThe report \"{{ title }}\" for {{ client_name }} is due on {{ due }} "
        "and has not been uploaded yet. Upload the PDF here:\n{{ link }}\n"),
    ("report_due_soon", E, "hi"): t(
        "रिपोर्ट {{ due }} तक देनी है: {{ title }}",
        "नमस्ते {{ full_name }},\n\n{{ client_name }} की रिपोर्ट \"{{ title }}\" {{ due }} तक देनी है और अभी अपलोड "
        "नहीं हुई है। PDF यहाँ अपलोड करें:\n{{ link }}\n"),
    ("report_due_soon", A, "en"): t(
        "Report due {{ due }}", "\"{{ title }}\" for {{ client_name }} is not uploaded yet."),
    ("report_due_soon", A, "hi"): t("रिपोर्ट {{ due }} तक", "{{ client_name }} की \"{{ title }}\" अभी अपलोड नहीं हुई है।"),
    ("report_overdue", E, "en"): t(
        "Overdue: {{ title }}",
        "Hello {{ full_name }},\n\nThe report \"{{ title }}\" for {{ client_name }} was due on {{ due }} "
        "and is overdue. Upload the PDF as soon as you can:\n{{ link }}\n"),
    ("report_overdue", E, "hi"): t(
        "समय निकल गया: {{ title }}",
        "नमस्ते {{ full_name }},\n\n{{ client_name }} की रिपोर्ट \"{{ title }}\" {{ due }} तक देनी थी और देर हो "
        "चुकी है। जल्द से जल्द PDF अपलोड करें:\n{{ link }}\n"),
    ("report_overdue", A, "en"): t("Overdue: {{ title }}", "The report for {{ client_name }} was due {{ due }}."),
    ("report_overdue", A, "hi"): t("समय निकल गया: {{ title }}", "{{ client_name }} की रिपोर्ट {{ due }} तक देनी थी।"),
    ("report_delivered", E, "en"): t(
        "Your report is ready: {{ title }}",
        "Hello {{ full_name }},\n\n{{ tenant_name }} has delivered your report \"{{ title }}\".\n"
        "Download it here:\n{{ link }}\n\nThe link works until {{ expires }}; after that, sign in to "
        "download it again.\n"),
    ("report_delivered", E, "hi"): t(
        "आपकी रिपोर्ट तैयार है: {{ title }}",
        "नमस्ते {{ full_name }},\n\n{{ tenant_name }} ने आपकी रिपोर्ट \"{{ title }}\" भेज दी है।\n"
        "इसे यहाँ डाउनलोड करें:\n{{ link }}\n\nयह लिंक {{ expires }} तक काम करेगा; उसके बाद साइन इन करके "
        "फिर से डाउनलोड करें।\n"),
    ("report_delivered", A, "en"): t(
        "Your report is ready", "\"{{ title }}\" from {{ tenant_name }} is ready to download."),
    ("report_delivered", A, "hi"): t(
        "आपकी रिपोर्ट तैयार है", "{{ tenant_name }} की \"{{ title }}\" डाउनलोड के लिए तैयार है।"),
    # -- announcements (broadcasts) -----------------------------------------------------------------------
    ("announcement", E, "en"): t(
        "{{ title }}",
        "Hello {{ recipient_name }},\n\n{{ message }}\n\n{{ tenant_name }}\n\n"
        "You receive announcements as a client of {{ tenant_name }}; turn them off in your notification "
        "settings.\n"),
    ("announcement", E, "hi"): t(
        "{{ title }}",
        "नमस्ते {{ recipient_name }},\n\n{{ message }}\n\n{{ tenant_name }}\n\n"
        "आपको ये घोषणाएँ {{ tenant_name }} के क्लाइंट के रूप में मिलती हैं; इन्हें अपनी सूचना सेटिंग में बंद कर "
        "सकते हैं।\n"),
    ("announcement", S, "en"): t(None, "{{ tenant_name }}: {{ title }}. {{ message }}"),
    ("announcement", S, "hi"): t(None, "{{ tenant_name }}: {{ title }}। {{ message }}"),
    ("announcement", A, "en"): t("{{ title }}", "{{ message }}"),
    ("announcement", A, "hi"): t("{{ title }}", "{{ message }}"),
}
