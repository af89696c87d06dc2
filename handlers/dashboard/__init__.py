"""The web dashboard (aiohttp, server-side templates): a second entry point beside the chat,
over the same domain rules. routes.py lists its URLs; security.py what every request goes
through; login.py the one-time links; pages.py the views; command.py the /tableau command."""
