"""The Remedy workflow's messages."""

from __future__ import annotations

from domain.notification_texts.base import E, OverrideKey, S, TemplateText, t

TEXTS: dict[OverrideKey, TemplateText] = {
    ("remedy.assigned", E, "en"): t(
        "Your remedy: {{ remedy_title }}",
        "Hello {{ client_name }},\n\nYour consultant has prescribed \"{{ remedy_title }}\": {{ schedule }}.\n\n"
        "{{ instructions }}\n\nWe will remind you each time. Your programme: {{ programme_url }}\n"),
    ("remedy.assigned", E, "hi"): t(
        "आपका उपाय: {{ remedy_title }}",
        "नमस्ते {{ client_name }},\n\nआपके परामर्शदाता ने \"{{ remedy_title }}\" बताया है: {{ schedule }}।\n\n"
        "{{ instructions }}\n\nहम हर बार याद दिलाएँगे। आपका कार्यक्रम: {{ programme_url }}\n"),
    ("remedy.reminder", E, "en"): t(
        "Now: {{ remedy_title }}",
        "Hello {{ client_name }},\n\nIt is time for \"{{ remedy_title }}\" ({{ occurrence_at }}).\n\n"
        "{{ instructions }}\n\nDone? Check in: {{ check_in_url }}\n"),
    ("remedy.reminder", E, "hi"): t(
        "अभी: {{ remedy_title }}",
        "नमस्ते {{ client_name }},\n\n\"{{ remedy_title }}\" का समय हो गया है ({{ occurrence_at }})।\n\n"
        "{{ instructions }}\n\nपूरा हुआ? यहाँ बताएँ: {{ check_in_url }}\n"),
    ("remedy.reminder", S, "en"): t(
        None, "{{ tenant_name }}: time for {{ remedy_title }} ({{ occurrence_at }}). Check in: {{ check_in_url }}"),
    ("remedy.reminder", S, "hi"): t(
        None, "{{ tenant_name }}: {{ remedy_title }} का समय ({{ occurrence_at }})। बताएँ: {{ check_in_url }}"),
    ("remedy.nudge", E, "en"): t(
        "Keep going with {{ remedy_title }}",
        "Hello {{ client_name }},\n\nThe last {{ missed }} times of \"{{ remedy_title }}\" went by without a "
        "check-in. A remedy works by being kept up: the next one is a good moment to start again.\n\n"
        "Your programme: {{ programme_url }}\n"),
    ("remedy.nudge", E, "hi"): t(
        "{{ remedy_title }} जारी रखें",
        "नमस्ते {{ client_name }},\n\n\"{{ remedy_title }}\" के पिछले {{ missed }} अवसर बिना पुष्टि के निकल गए। "
        "उपाय नियमित करने से ही फल देता है: अगला अवसर फिर से शुरू करने का अच्छा समय है।\n\n"
        "आपका कार्यक्रम: {{ programme_url }}\n"),
    ("remedy.missed", E, "en"): t(
        "{{ client_name }} missed {{ remedy_title }} {{ missed }} times",
        "{{ client_name }} has missed the last {{ missed }} occurrences of \"{{ remedy_title }}\" "
        "({{ done }} done of {{ counted }} so far). They were sent a nudge.\n\nProgramme: {{ programme_url }}\n"),
    ("remedy.missed", E, "hi"): t(
        "{{ client_name }} ने {{ remedy_title }} {{ missed }} बार छोड़ा",
        "{{ client_name }} ने \"{{ remedy_title }}\" के पिछले {{ missed }} अवसर छोड़े हैं (अब तक {{ counted }} में से "
        "{{ done }} पूरे)। उन्हें याद दिलाया गया है।\n\nकार्यक्रम: {{ programme_url }}\n"),
    ("remedy.completed", E, "en"): t(
        "You completed {{ remedy_title }}",
        "Hello {{ client_name }},\n\nYour programme \"{{ remedy_title }}\" is complete: {{ done }} of "
        "{{ counted }} done, best streak {{ best_streak }}.\n\nYour programme: {{ programme_url }}\n"),
    ("remedy.completed", E, "hi"): t(
        "आपने {{ remedy_title }} पूरा किया",
        "नमस्ते {{ client_name }},\n\nआपका कार्यक्रम \"{{ remedy_title }}\" पूरा हुआ: {{ counted }} में से "
        "{{ done }} पूरे, लगातार सबसे अधिक {{ best_streak }}।\n\nआपका कार्यक्रम: {{ programme_url }}\n"),
    ("remedy.completed_consultant", E, "en"): t(
        "{{ client_name }} finished {{ remedy_title }}",
        "{{ client_name }}'s programme \"{{ remedy_title }}\" has ended: {{ done }} of {{ counted }} done, "
        "{{ missed }} missed, best streak {{ best_streak }}.\n\nProgramme: {{ programme_url }}\n"),
    ("remedy.completed_consultant", E, "hi"): t(
        "{{ client_name }} ने {{ remedy_title }} समाप्त किया",
        "{{ client_name }} का कार्यक्रम \"{{ remedy_title }}\" समाप्त हुआ: {{ counted }} में से {{ done }} पूरे, "
        "{{ missed }} छूटे, लगातार सबसे अधिक {{ best_streak }}।\n\nकार्यक्रम: {{ programme_url }}\n"),
    ("remedy.feedback", E, "en"): t(
        "How did {{ remedy_title }} go?",
        "Hello {{ client_name }},\n\nYou have finished \"{{ remedy_title }}\". How did it go? Reply to this "
        "message or tell your consultant at your next session.\n\nYour programme: {{ programme_url }}\n"),
    ("remedy.feedback", E, "hi"): t(
        "{{ remedy_title }} कैसा रहा?",
        "नमस्ते {{ client_name }},\n\nआपने \"{{ remedy_title }}\" पूरा कर लिया। कैसा रहा? इस संदेश का उत्तर दें "
        "या अगले सत्र में अपने परामर्शदाता को बताएँ।\n\nआपका कार्यक्रम: {{ programme_url }}\n"),
    ("remedy.stopped", E, "en"): t(
        "Stopped: {{ remedy_title }} for {{ client_name }}",
        "The programme \"{{ remedy_title }}\" of {{ client_name }} was stopped: {{ reason }} ({{ done }} done of "
        "{{ counted }}).\n\nProgramme: {{ programme_url }}\n"),
    ("remedy.stopped", E, "hi"): t(
        "रोका गया: {{ client_name }} का {{ remedy_title }}",
        "{{ client_name }} का कार्यक्रम \"{{ remedy_title }}\" रोका गया: {{ reason }} ({{ counted }} में से "
        "{{ done }} पूरे)।\n\nकार्यक्रम: {{ programme_url }}\n"),
}
