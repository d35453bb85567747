"""Words of campaign messages (part of :mod:`tierwise.i18n`): the export summary of a target list
with merged message text (:mod:`tierwise.campaigns.messages`)."""

from __future__ import annotations

CAMPAIGN_MESSAGES: dict[str, dict[str, str]] = {
    "campaign_message.written": {
        "zh": "已写出 {rows:,} 位目标客户到 {path}",
        "en": "wrote {rows:,} targets to {path}"},
    "campaign_message.masked": {
        "zh": "（手机号已脱敏；加 --with-contacts 写出完整号码）",
        "en": " (phones masked; --with-contacts for full numbers)"},
    "campaign_message.count": {
        "zh": "短信文案：{messages:,} 条（message 列），最长 {longest} 字",
        "en": "message text: {messages:,} (column message), the longest {longest} characters"},
    "campaign_message.over": {
        "zh": "{over:,} 条超过 {limit} 字（一条中文短信），将按多条计费",
        "en": "{over:,} longer than {limit} characters (one Chinese SMS): sent as several"},
    "campaign_message.empty": {
        "zh": "{count:,} 位客户缺少 {{{field}}} 且模板未给默认值，该处留空（可写 {{{field}|默认值}}）",
        "en": "{count:,} customers have no {{{field}}} and the template gives no default: left "
              "empty (write {{{field}|default}})"},
    "campaign_message.no_text": {
        "zh": "{count:,} 位客户所在细分没有话术（playbook message），无短信文案",
        "en": "{count:,} customers are in a segment without a playbook message: no text"},
    "campaign_message.control": {
        "zh": "对照组 {control:,} 位客户不在名单中，不发短信",
        "en": "control group: {control:,} customers, not in the list, no message"},
    "campaign_message.none": {
        "zh": "该活动没有短信文案（创建时加 --message，或在 [campaigns] 设置 message）",
        "en": "this campaign has no message text (give --message at create, or message in "
              "[campaigns])"},
}
