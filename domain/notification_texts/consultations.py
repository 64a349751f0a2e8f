"""The Consultation workflow's messages (`consultation.<event>.<audience>`).

`when` is the session's start on the reader's clock and in their language, with the zone's name
(the booking's own zone for the client); `offset` ("tomorrow", "in 1 hour") and `refund` come in
the reader's language too."""

from __future__ import annotations

from domain.notification_texts.base import E, OverrideKey, S, TemplateText, t

TEXTS: dict[OverrideKey, TemplateText] = {
    ("consultation.held.client", E, "en"): t(
        "Complete your payment to confirm {{ offering_title }}",
        "Hello {{ client_name }},\n\nWe are holding {{ when }} with {{ consultant_name }} for you until "
        "{{ hold_until }}. Complete the payment to confirm it; otherwise the time is released.\n\n"
        "{% if pay_link %}Pay now: {{ pay_link }}\n{% endif %}"
        "Manage your booking: {{ manage_url }}\n"),
    ("consultation.held.client", E, "hi"): t(
        "{{ offering_title }} पक्का करने के लिए भुगतान पूरा करें",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ {{ when }} का समय {{ hold_until }} तक आपके लिए "
        "रोका गया है। इसे पक्का करने के लिए भुगतान पूरा करें; नहीं तो यह समय छोड़ दिया जाएगा।\n\n"
        "{% if pay_link %}अभी भुगतान करें: {{ pay_link }}\n{% endif %}"
        "अपनी बुकिंग सँभालें: {{ manage_url }}\n"),
    ("consultation.confirmed.client", E, "en"): t(
        "Confirmed: {{ offering_title }} on {{ when }}",
        "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} is confirmed for "
        "{{ when }}.\nJoin here: {{ meeting_url }}\n\nReschedule or cancel: {{ manage_url }}\n"
        "The invitation is attached; add it to your calendar.\n"
        "{% if confirmation_url %}Your booking confirmation (PDF): {{ confirmation_url }}\n{% endif %}"),
    ("consultation.confirmed.client", E, "hi"): t(
        "पक्का: {{ offering_title }}, {{ when }}",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ आपका {{ offering_title }} {{ when }} के लिए "
        "पक्का हो गया है।\nयहाँ जुड़ें: {{ meeting_url }}\n\nसमय बदलें या रद्द करें: {{ manage_url }}\n"
        "निमंत्रण साथ में है; इसे अपने कैलेंडर में जोड़ लें।\n"
        "{% if confirmation_url %}बुकिंग की पुष्टि (PDF): {{ confirmation_url }}\n{% endif %}"),
    ("consultation.confirmed.consultant", E, "en"): t(
        "New booking: {{ offering_title }} on {{ when }}",
        "{{ client_name }} booked {{ offering_title }} for {{ when }}.\nMeeting link: {{ meeting_url }}\n"
        "Details: {{ dashboard_url }}\n"),
    ("consultation.confirmed.consultant", E, "hi"): t(
        "नई बुकिंग: {{ offering_title }}, {{ when }}",
        "{{ client_name }} ने {{ when }} के लिए {{ offering_title }} बुक किया है।\nमीटिंग लिंक: {{ meeting_url }}\n"
        "विवरण: {{ dashboard_url }}\n"),
    ("consultation.reminder.client", E, "en"): t(
        "Reminder: {{ offering_title }} {{ offset }}",
        "Hello {{ client_name }},\n\nA reminder: your {{ offering_title }} with {{ consultant_name }} is "
        "{{ offset }}, at {{ when }}.\nJoin here: {{ meeting_url }}\n\nReschedule or cancel: {{ manage_url }}\n"),
    ("consultation.reminder.client", E, "hi"): t(
        "याद दिला दें: {{ offering_title }} {{ offset }}",
        "नमस्ते {{ client_name }},\n\nयाद दिला दें: {{ consultant_name }} के साथ आपका {{ offering_title }} "
        "{{ offset }}, {{ when }} पर है।\nयहाँ जुड़ें: {{ meeting_url }}\n\nसमय बदलें या रद्द करें: {{ manage_url }}\n"),
    ("consultation.reminder.consultant", E, "en"): t(
        "Reminder: {{ offering_title }} with {{ client_name }} {{ offset }}",
        "Your {{ offering_title }} with {{ client_name }} is {{ offset }}, at {{ when }}.\n"
        "Meeting link: {{ meeting_url }}\n"),
    ("consultation.reminder.consultant", E, "hi"): t(
        "याद दिला दें: {{ client_name }} के साथ {{ offering_title }} {{ offset }}",
        "{{ client_name }} के साथ आपका {{ offering_title }} {{ offset }}, {{ when }} पर है।\n"
        "मीटिंग लिंक: {{ meeting_url }}\n"),
    ("consultation.reminder.client", S, "en"): t(
        None, "{{ tenant_name }}: your {{ offering_title }} with {{ consultant_name }} is {{ offset }}, at "
              "{{ when }}. Join: {{ meeting_url }}"),
    ("consultation.reminder.client", S, "hi"): t(
        None, "{{ tenant_name }}: {{ consultant_name }} के साथ आपका {{ offering_title }} {{ offset }}, {{ when }} पर "
              "है। जुड़ें: {{ meeting_url }}"),
    ("consultation.reminder.consultant", S, "en"): t(
        None, "{{ offering_title }} with {{ client_name }} is {{ offset }}, at {{ when }}. Link: {{ meeting_url }}"),
    ("consultation.reminder.consultant", S, "hi"): t(
        None, "{{ client_name }} के साथ {{ offering_title }} {{ offset }}, {{ when }} पर है। लिंक: {{ meeting_url }}"),
    ("consultation.rescheduled.client", E, "en"): t(
        "Moved: {{ offering_title }} is now on {{ when }}",
        "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} now takes place on "
        "{{ when }}.\nJoin here: {{ meeting_url }}\n\nManage your booking: {{ manage_url }}\n"
        "The updated invitation is attached.\n"
        "{% if confirmation_url %}Your updated booking confirmation (PDF): {{ confirmation_url }}\n{% endif %}"),
    ("consultation.rescheduled.client", E, "hi"): t(
        "समय बदला: {{ offering_title }} अब {{ when }} को",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ आपका {{ offering_title }} अब {{ when }} को "
        "होगा।\nयहाँ जुड़ें: {{ meeting_url }}\n\nअपनी बुकिंग सँभालें: {{ manage_url }}\n"
        "नया निमंत्रण साथ में है।\n"
        "{% if confirmation_url %}बुकिंग की नई पुष्टि (PDF): {{ confirmation_url }}\n{% endif %}"),
    ("consultation.rescheduled.consultant", E, "en"): t(
        "Moved: {{ offering_title }} with {{ client_name }} is now on {{ when }}",
        "{{ offering_title }} with {{ client_name }} was moved to {{ when }}.\nDetails: {{ dashboard_url }}\n"),
    ("consultation.rescheduled.consultant", E, "hi"): t(
        "समय बदला: {{ client_name }} के साथ {{ offering_title }} अब {{ when }} को",
        "{{ client_name }} के साथ {{ offering_title }} का समय बदलकर {{ when }} हो गया है।\n"
        "विवरण: {{ dashboard_url }}\n"),
    ("consultation.cancelled.client", E, "en"): t(
        "Cancelled: {{ offering_title }} on {{ when }}",
        "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} on {{ when }} is "
        "cancelled.{% if reason %}\nReason: {{ reason }}{% endif %}\n{{ refund }}\n"),
    ("consultation.cancelled.client", E, "hi"): t(
        "रद्द: {{ offering_title }}, {{ when }}",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ {{ when }} का आपका {{ offering_title }} "
        "रद्द हो गया है।{% if reason %}\nकारण: {{ reason }}{% endif %}\n{{ refund }}\n"),
    ("consultation.refund_by_hand.consultant", E, "en"): t(
        "Refund to make by hand: {{ offering_title }} with {{ client_name }}",
        "{{ offering_title }} with {{ client_name }} on {{ when }} was cancelled and its refund could not be "
        "passed to the booking's order (it is closed).\n{{ refund }}\nPlease refund the client by hand. "
        "The booking: {{ dashboard_url }}\n"),
    ("consultation.refund_by_hand.consultant", E, "hi"): t(
        "हाथ से रिफ़ंड करें: {{ client_name }} के साथ {{ offering_title }}",
        "{{ client_name }} के साथ {{ when }} का {{ offering_title }} रद्द हुआ, पर उसका रिफ़ंड बुकिंग के ऑर्डर "
        "(जो बंद हो चुका है) तक नहीं पहुँच सका।\n{{ refund }}\nकृपया ग्राहक को हाथ से रिफ़ंड करें। बुकिंग: "
        "{{ dashboard_url }}\n"),
    ("consultation.cancelled.consultant", E, "en"): t(
        "Cancelled: {{ offering_title }} with {{ client_name }} on {{ when }}",
        "{{ offering_title }} with {{ client_name }} on {{ when }} is cancelled."
        "{% if reason %}\nReason: {{ reason }}{% endif %}\n{{ refund }}\n"),
    ("consultation.cancelled.consultant", E, "hi"): t(
        "रद्द: {{ client_name }} के साथ {{ offering_title }}, {{ when }}",
        "{{ client_name }} के साथ {{ when }} का {{ offering_title }} रद्द हो गया है।"
        "{% if reason %}\nकारण: {{ reason }}{% endif %}\n{{ refund }}\n"),
    ("consultation.hold_expired.client", E, "en"): t(
        "Your hold on {{ when }} has expired",
        "Hello {{ client_name }},\n\nThe payment for {{ offering_title }} on {{ when }} did not arrive in time, "
        "so the time was released. You are welcome to book again.\n"),
    ("consultation.hold_expired.client", E, "hi"): t(
        "{{ when }} के लिए रोका गया समय समाप्त हो गया",
        "नमस्ते {{ client_name }},\n\n{{ when }} के {{ offering_title }} का भुगतान समय पर नहीं आया, इसलिए "
        "वह समय छोड़ दिया गया। आप फिर से बुक कर सकते हैं।\n"),
    ("consultation.outcome_needed.consultant", E, "en"): t(
        "How did {{ offering_title }} with {{ client_name }} go?",
        "{{ offering_title }} with {{ client_name }} ended at {{ when }}. Mark it completed (with a summary) or "
        "as a no-show: {{ dashboard_url }}\n"),
    ("consultation.outcome_needed.consultant", E, "hi"): t(
        "{{ client_name }} के साथ {{ offering_title }} कैसा रहा?",
        "{{ client_name }} के साथ {{ offering_title }} {{ when }} पर था। इसे पूरा (सारांश के साथ) या "
        "अनुपस्थित दर्ज करें: {{ dashboard_url }}\n"),
    ("consultation.no_show.client", E, "en"): t(
        "We missed you at {{ offering_title }}",
        "Hello {{ client_name }},\n\n{{ consultant_name }} waited for you at {{ when }}. If you would like "
        "another time, book again whenever suits you.\n"),
    ("consultation.no_show.client", E, "hi"): t(
        "{{ offering_title }} में आप नहीं आ सके",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} ने {{ when }} पर आपकी प्रतीक्षा की। कोई और समय "
        "चाहिए तो जब सुविधा हो, फिर से बुक करें।\n"),
    ("consultation.feedback.client", E, "en"): t(
        "How was your {{ offering_title }}?",
        "Hello {{ client_name }},\n\nThank you for your session with {{ consultant_name }}. "
        "Tell us how it went (it takes a minute): {{ feedback_url }}\n"),
    ("consultation.feedback.client", E, "hi"): t(
        "आपका {{ offering_title }} कैसा रहा?",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ सत्र के लिए धन्यवाद। "
        "हमें बताएँ कि यह कैसा रहा (एक मिनट लगेगा): {{ feedback_url }}\n"),
    ("consultation.follow_up.client", E, "en"): t(
        "Time for a follow-up with {{ consultant_name }}?",
        "Hello {{ client_name }},\n\nIt has been a while since your {{ offering_title }} with "
        "{{ consultant_name }}. If you would like to talk again, book a time here: {{ booking_page_url }}\n"),
    ("consultation.follow_up.client", E, "hi"): t(
        "{{ consultant_name }} से फिर बात करने का समय?",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ आपके {{ offering_title }} को कुछ समय हो गया है। "
        "फिर से बात करनी हो तो यहाँ समय बुक करें: {{ booking_page_url }}\n"),
}
