"""The Enrollment workflow's messages, and the course discussion's notices."""

from __future__ import annotations

from domain.notification_texts.base import E, OverrideKey, TemplateText, t

TEXTS: dict[OverrideKey, TemplateText] = {
    ("course.enrolled", E, "en"): t(
        "Welcome to {{ course_title }}",
        "Hello {{ client_name }},\n\nYou are enrolled in {{ course_title }}.{% if lessons %} Open now:\n{{ lessons }}"
        "{% endif %}\n{% if next_unlock %}\nThe next lesson opens {{ next_unlock }}.\n{% endif %}"
        "\nStart here: {{ course_url }}\n"),
    ("course.enrolled", E, "hi"): t(
        "{{ course_title }} में आपका स्वागत है",
        "नमस्ते {{ client_name }},\n\nआपका नामांकन {{ course_title }} में हो गया है।{% if lessons %} अभी खुले पाठ:\n"
        "{{ lessons }}{% endif %}\n{% if next_unlock %}\nअगला पाठ {{ next_unlock }} को खुलेगा।\n{% endif %}"
        "\nयहाँ से शुरू करें: {{ course_url }}\n"),
    ("course.unlocked", E, "en"): t(
        "New lesson: {{ lesson_title }}",
        "Hello {{ client_name }},\n\n\"{{ lesson_title }}\" of {{ course_title }} is open now.\n"
        "{% if next_unlock %}The next one opens {{ next_unlock }}.\n{% endif %}\nContinue: {{ course_url }}\n"),
    ("course.unlocked", E, "hi"): t(
        "नया पाठ: {{ lesson_title }}",
        "नमस्ते {{ client_name }},\n\n{{ course_title }} का \"{{ lesson_title }}\" अब खुल गया है।\n"
        "{% if next_unlock %}अगला पाठ {{ next_unlock }} को खुलेगा।\n{% endif %}\nआगे बढ़ें: {{ course_url }}\n"),
    ("course.unlocked_digest", E, "en"): t(
        "{{ count }} new lessons in {{ course_title }}",
        "Hello {{ client_name }},\n\nThese lessons of {{ course_title }} are open now:\n{{ lessons }}\n"
        "{% if next_unlock %}\nThe next one opens {{ next_unlock }}.\n{% endif %}\nContinue: {{ course_url }}\n"),
    ("course.unlocked_digest", E, "hi"): t(
        "{{ course_title }} में {{ count }} नए पाठ",
        "नमस्ते {{ client_name }},\n\n{{ course_title }} के ये पाठ अब खुल गए हैं:\n{{ lessons }}\n"
        "{% if next_unlock %}\nअगला पाठ {{ next_unlock }} को खुलेगा।\n{% endif %}\nआगे बढ़ें: {{ course_url }}\n"),
    ("course.nudge", E, "en"): t(
        "Pick up {{ course_title }} where you left off",
        "Hello {{ client_name }},\n\nIt has been {{ days }} days since you last opened {{ course_title }}."
        "{% if lesson_title %} Next up: \"{{ lesson_title }}\".{% endif %}\n\nContinue: {{ course_url }}\n"),
    ("course.nudge", E, "hi"): t(
        "{{ course_title }} वहीं से जारी रखें",
        "नमस्ते {{ client_name }},\n\nआपने {{ days }} दिनों से {{ course_title }} नहीं खोला है।"
        "{% if lesson_title %} अगला पाठ: \"{{ lesson_title }}\"।{% endif %}\n\nआगे बढ़ें: {{ course_url }}\n"),
    ("course.completed", E, "en"): t(
        "You completed {{ course_title }}",
        "Hello {{ client_name }},\n\nCongratulations: you completed {{ course_title }}. Your certificate code is "
        "{{ certificate_code }}.\n{% if certificate_url %}Download your certificate: {{ certificate_url }}\n{% endif %}"
        "Anyone can check it at {{ verify_url }}\n"),
    ("course.completed", E, "hi"): t(
        "आपने {{ course_title }} पूरा किया",
        "नमस्ते {{ client_name }},\n\nबधाई हो: आपने {{ course_title }} पूरा कर लिया। आपका प्रमाणपत्र कोड "
        "{{ certificate_code }} है।\n{% if certificate_url %}प्रमाणपत्र डाउनलोड करें: {{ certificate_url }}\n{% endif %}"
        "कोई भी इसे यहाँ जाँच सकता है: {{ verify_url }}\n"),
    ("course.question", E, "en"): t(
        "Question on \"{{ lesson_title }}\"",
        "{{ author_name }} asked in {{ course_title }}, \"{{ lesson_title }}\":\n\n{{ text }}\n\n"
        "Answer here: {{ thread_url }}\n"),
    ("course.question", E, "hi"): t(
        "\"{{ lesson_title }}\" पर प्रश्न",
        "{{ author_name }} ने {{ course_title }}, \"{{ lesson_title }}\" में पूछा:\n\n{{ text }}\n\n"
        "यहाँ उत्तर दें: {{ thread_url }}\n"),
    ("course.reply", E, "en"): t(
        "Reply on \"{{ lesson_title }}\"",
        "{{ author_name }} replied in {{ course_title }}, \"{{ lesson_title }}\":\n\n{{ text }}\n\n"
        "See the discussion: {{ thread_url }}\n"),
    ("course.reply", E, "hi"): t(
        "\"{{ lesson_title }}\" पर उत्तर",
        "{{ author_name }} ने {{ course_title }}, \"{{ lesson_title }}\" में उत्तर दिया:\n\n{{ text }}\n\n"
        "चर्चा देखें: {{ thread_url }}\n"),
    # -- the team -----------------------------------------------------------------------------------------
    ("team_invitation", E, "en"): t(
        "{{ inviter_name }} invites you to {{ tenant_name }}",
        "Hello {{ recipient_name }},\n\n{{ inviter_name }} invites you to join {{ tenant_name }} as {{ role }}.\n"
        "Accept here (you choose a password, or sign in with the account you have there):\n{{ link }}\n\n"
        "The link works once and expires on {{ expires }}. If you did not expect this, ignore it.\n"),
    ("team_invitation", E, "hi"): t(
        "{{ inviter_name }} ने आपको {{ tenant_name }} में आमंत्रित किया है",
        "नमस्ते {{ recipient_name }},\n\n{{ inviter_name }} ने आपको {{ tenant_name }} में {{ role }} के रूप में "
        "जुड़ने के लिए आमंत्रित किया है।\nयहाँ स्वीकार करें (नया पासवर्ड चुनें, या वहाँ के अपने खाते से साइन इन करें):\n"
        "{{ link }}\n\nयह लिंक एक ही बार काम करता है और {{ expires }} को समाप्त हो जाएगा। अगर आपको इसकी "
        "अपेक्षा नहीं थी, तो इसे अनदेखा करें।\n"),
    # -- platform administration ----------------------------------------------------------------------------
    ("tenant_suspended", E, "en"): t(
        "{{ tenant_name }} is suspended",
        "Hello {{ recipient_name }},\n\n{{ tenant_name }} has been suspended on Muhurta: {{ reason }}\n\n"
        "Until it is reactivated, its public pages, sign-ins and new bookings are refused and it sends no "
        "messages; bookings, orders and everything else keep their state. Reply to this email to talk to us.\n"),
    ("tenant_suspended", E, "hi"): t(
        "{{ tenant_name }} निलंबित है",
        "नमस्ते {{ recipient_name }},\n\nMuhurta पर {{ tenant_name }} को निलंबित कर दिया गया है: {{ reason }}\n\n"
        "फिर से सक्रिय होने तक इसके सार्वजनिक पेज, साइन-इन और नई बुकिंग अस्वीकार की जाती हैं और यह कोई संदेश नहीं "
        "भेजता; बुकिंग, ऑर्डर और बाकी सब अपनी स्थिति में रहते हैं। हमसे बात करने के लिए इस ईमेल का उत्तर दें।\n"),
    ("tenant_reactivated", E, "en"): t(
        "{{ tenant_name }} is active again",
        "Hello {{ recipient_name }},\n\n{{ tenant_name }} is active again on Muhurta ({{ reason }}). Sign in "
        "again; your pages are open, bookings are taken and messages are sent as before.\n"),
    ("tenant_reactivated", E, "hi"): t(
        "{{ tenant_name }} फिर से सक्रिय है",
        "नमस्ते {{ recipient_name }},\n\nMuhurta पर {{ tenant_name }} फिर से सक्रिय है ({{ reason }})। फिर से साइन इन "
        "करें; आपके पेज खुले हैं, बुकिंग ली जाती हैं और संदेश पहले की तरह भेजे जाते हैं।\n"),
}
