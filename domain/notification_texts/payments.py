"""The Order workflow's messages: receipts, refunds, expiry, fulfilment notices."""

from __future__ import annotations

from domain.notification_texts.base import E, OverrideKey, TemplateText, t

TEXTS: dict[OverrideKey, TemplateText] = {
    ("payment_receipt", E, "en"): t(
        "Receipt {{ invoice_number }} from {{ tenant_name }}",
        "Hello {{ full_name }},\n\nThank you: we received {{ amount }} for your order "
        "{{ order_ref }}.\n\n{{ items }}\n\nYour invoice {{ invoice_number }}: {{ link }}\n"),
    ("payment_receipt", E, "hi"): t(
        "{{ tenant_name }} की रसीद {{ invoice_number }}",
        "नमस्ते {{ full_name }},\n\nधन्यवाद: आपके ऑर्डर {{ order_ref }} के लिए हमें {{ amount }} मिल गए हैं।"
        "\n\n{{ items }}\n\nआपका इनवॉइस {{ invoice_number }}: {{ link }}\n"),
    ("payment_failed", E, "en"): t(
        "Your payment to {{ tenant_name }} did not go through",
        "Hello {{ full_name }},\n\nThe payment for order {{ order_ref }} failed ({{ reason }}). "
        "Nothing was charged; you can try again until {{ expires }}.\n"),
    ("payment_failed", E, "hi"): t(
        "{{ tenant_name }} को आपका भुगतान नहीं हो सका",
        "नमस्ते {{ full_name }},\n\nऑर्डर {{ order_ref }} का भुगतान नहीं हो सका ({{ reason }})। "
        "कोई राशि नहीं कटी; आप {{ expires }} तक फिर से कोशिश कर सकते हैं।\n"),
    ("order_expired", E, "en"): t(
        "Your order with {{ tenant_name }} has expired",
        "Hello {{ full_name }},\n\nOrder {{ order_ref }} was not paid in time, so what it held "
        "has been released. Book again whenever you like.\n"),
    ("order_expired", E, "hi"): t(
        "{{ tenant_name }} के साथ आपका ऑर्डर समाप्त हो गया",
        "नमस्ते {{ full_name }},\n\nऑर्डर {{ order_ref }} का भुगतान समय पर नहीं हुआ, इसलिए उसके लिए रोका गया "
        "समय छोड़ दिया गया है। जब चाहें फिर से बुक करें।\n"),
    ("payment_needs_review", E, "en"): t(
        "Payment needs review: order {{ order_ref }}",
        "A payment for order {{ order_ref }} cannot be accepted as it is: {{ reason }}. The order "
        "is not fulfilled; refund or resolve it from the dashboard.\n"),
    ("payment_needs_review", E, "hi"): t(
        "भुगतान की जाँच ज़रूरी: ऑर्डर {{ order_ref }}",
        "ऑर्डर {{ order_ref }} का एक भुगतान जैसा है वैसा स्वीकार नहीं किया जा सकता: {{ reason }}। ऑर्डर पूरा "
        "नहीं किया गया है; डैशबोर्ड से पैसे लौटाएँ या मामला सुलझाएँ।\n"),
    ("fulfilment_failed", E, "en"): t(
        "We could not complete your order with {{ tenant_name }}",
        "Hello {{ full_name }},\n\nWe are sorry: order {{ order_ref }} could not be completed "
        "({{ reason }}). {{ amount }} is being refunded to you.\n"),
    ("fulfilment_failed", E, "hi"): t(
        "{{ tenant_name }} के साथ आपका ऑर्डर पूरा नहीं हो सका",
        "नमस्ते {{ full_name }},\n\nक्षमा करें: ऑर्डर {{ order_ref }} पूरा नहीं हो सका ({{ reason }})। "
        "{{ amount }} आपको लौटाए जा रहे हैं।\n"),
    ("fulfilment_failed_staff", E, "en"): t(
        "Order {{ order_ref }} could not be fulfilled",
        "Order {{ order_ref }} was paid but could not be fulfilled: {{ reason }}. Holds were "
        "released and {{ amount }} is being refunded.\n"),
    ("fulfilment_failed_staff", E, "hi"): t(
        "ऑर्डर {{ order_ref }} पूरा नहीं हो सका",
        "ऑर्डर {{ order_ref }} का भुगतान हुआ पर वह पूरा नहीं हो सका: {{ reason }}। रोके गए समय छोड़ दिए गए "
        "और {{ amount }} लौटाए जा रहे हैं।\n"),
    ("fulfilment_awaiting_handler", E, "en"): t(
        "Order {{ order_ref }} needs manual fulfilment",
        "Order {{ order_ref }} is paid. These items have no automatic fulfilment yet: {{ kinds }}. "
        "Please deliver them and mark them done.\n"),
    ("fulfilment_awaiting_handler", E, "hi"): t(
        "ऑर्डर {{ order_ref }} को हाथ से पूरा करना है",
        "ऑर्डर {{ order_ref }} का भुगतान हो गया है। इन चीज़ों के लिए अभी कोई अपने-आप होने वाली व्यवस्था नहीं "
        "है: {{ kinds }}। कृपया इन्हें पहुँचाएँ और पूरा हुआ दर्ज करें।\n"),
    ("late_payment_refunded", E, "en"): t(
        "Your late payment to {{ tenant_name }} is being refunded",
        "Hello {{ full_name }},\n\nYour payment for order {{ order_ref }} arrived after the order "
        "had {{ status }}. {{ amount }} is being refunded to you in full.\n"),
    ("late_payment_refunded", E, "hi"): t(
        "{{ tenant_name }} को देर से हुआ आपका भुगतान लौटाया जा रहा है",
        "नमस्ते {{ full_name }},\n\nऑर्डर {{ order_ref }} का आपका भुगतान ऑर्डर के {{ status }} होने के बाद "
        "पहुँचा। {{ amount }} आपको पूरे लौटाए जा रहे हैं।\n"),
    ("refund_processed", E, "en"): t(
        "Refund of {{ amount }} from {{ tenant_name }}",
        "Hello {{ full_name }},\n\nA refund of {{ amount }} for order {{ order_ref }} has been "
        "processed{{ destination }}.\n"),
    ("refund_processed", E, "hi"): t(
        "{{ tenant_name }} से {{ amount }} की वापसी",
        "नमस्ते {{ full_name }},\n\nऑर्डर {{ order_ref }} के लिए {{ amount }} की वापसी कर दी गई है"
        "{% if destination %} (आपके वॉलेट में){% endif %}।\n"),
    ("refund_failed_staff", E, "en"): t(
        "Refund failed: order {{ order_ref }}",
        "The refund of {{ amount }} for order {{ order_ref }} failed: {{ reason }}. Refund it another "
        "way or try again.\n"),
    ("refund_failed_staff", E, "hi"): t(
        "वापसी नहीं हो सकी: ऑर्डर {{ order_ref }}",
        "ऑर्डर {{ order_ref }} के लिए {{ amount }} की वापसी नहीं हो सकी: {{ reason }}। किसी और तरीके से लौटाएँ "
        "या फिर से कोशिश करें।\n"),
}
