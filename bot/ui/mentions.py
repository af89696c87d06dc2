"""A person named so that Telegram links them: a `tg://user?id=` link on their first name. It works
for people without a @username, notifies them, and makes a selective ForceReply show to them."""

from __future__ import annotations

import html

from bot.domain.people import SMS_ONLY_IDS
from bot.ui.i18n import Markup


def mention(telegram_id: int, first_name: str) -> Markup:
    if telegram_id <= SMS_ONLY_IDS:  # a member without Telegram: nobody to link
        return Markup(html.escape(first_name, quote=False))
    return Markup(f'<a href="tg://user?id={telegram_id}">{html.escape(first_name, quote=False)}</a>')
