"""Assembly: the python-telegram-bot Application with every feature registered."""

from __future__ import annotations

import warnings

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.warnings import PTBUserWarning

from bot.application import RelaisApplication
from bot.services import SERVICES, Services
from handlers import (
    actions, carpool, errors, facilitators, follow_up, groups, help, meeting_changes, meetings, members, polls, priorities, privacy,
    proposals, rsvp, setup, start,
)

# What Relais asks Telegram to deliver. chat_member needs the bot to be an administrator too.
ALLOWED_UPDATES = [
    Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER, Update.CHAT_MEMBER, Update.POLL, Update.POLL_ANSWER,
]  # fmt: skip
FEATURES = (members, groups, setup, facilitators, start, help, privacy, meetings, meeting_changes, rsvp, proposals, follow_up,
            polls, priorities, actions, carpool)


def rate_limiter(per_second: float, max_retries: int) -> AIORateLimiter:
    """Evenly paced overall (one message every 1/per_second s): PTB's default bucket lets 30 go
    at once, then 30 more within the same second, and Telegram answers that with 429s, each of
    which pauses every send. Groups keep PTB's 20 per minute."""
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / per_second, group_max_rate=20,
                          group_time_period=60, max_retries=max_retries)


def build_application(services: Services, with_updater: bool = True) -> Application:
    settings = services.settings
    builder = (
        ApplicationBuilder()
        .application_class(RelaisApplication)
        .token(settings.require_token())
        .base_url(settings.telegram.api_base_url)
        .base_file_url(settings.telegram.api_file_url)
        .rate_limiter(rate_limiter(settings.telegram.messages_per_second, settings.telegram.max_retries))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
    )
    if not with_updater:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[SERVICES] = services
    # Dialogues use per_message=False on purpose: each belongs to one person in one chat and its
    # buttons are checked by state; PTB warns about that choice for every ConversationHandler.
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    for feature in FEATURES:
        feature.register(application)
    errors.register(application)  # last: its button fallback only sees what no feature claimed
    return application
