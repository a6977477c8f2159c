from tests.chat_server import chat_server  # noqa: F401
