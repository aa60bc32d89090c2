"""Small rules for putting user text into messages, so no title is quoted or prefixed twice."""

from __future__ import annotations

OPEN_QUOTE, CLOSE_QUOTE = "“", "”"


def quoted(text: str) -> str:
    """``text`` in Chinese double quotes, once: a title already wholly quoted stays as it is,
    and quotes inside a title become single quotes (“‘安全我先行’主题党日”)."""
    text = (text or "").strip()
    if text.startswith(OPEN_QUOTE) and text.endswith(CLOSE_QUOTE) and text.count(OPEN_QUOTE) == 1:
        return text
    inner = text.replace(OPEN_QUOTE, "‘").replace(CLOSE_QUOTE, "’")
    return f"{OPEN_QUOTE}{inner}{CLOSE_QUOTE}"


def prefixed(prefix: str, text: str, *, separator: str = "：") -> str:
    """``prefix：text``, unless ``text`` already begins with that prefix (“学习资料：学习资料：…”)."""
    text = (text or "").strip()
    if text.startswith(f"{prefix}{separator}") or text.startswith(f"{prefix}:"):
        return text
    return f"{prefix}{separator}{text}"
