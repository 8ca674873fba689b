"""Rendering choices within WhatsApp's limits: buttons, then a list, then a numbered menu."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.channels import whatsapp
from bot.config import WhatsAppTemplate
from bot.messages import Choice, Reply


def assert_within_limits(msg: dict[str, Any]) -> None:
    """What the Graph API accepts (error 100/131009 otherwise)."""
    if msg["type"] == "text":
        assert msg["text"]["body"].strip() and len(msg["text"]["body"]) <= 4096
        return
    inter = msg["interactive"]
    assert inter["body"]["text"].strip() and len(inter["body"]["text"]) <= 1024
    if inter["type"] == "button":
        buttons = inter["action"]["buttons"]
        assert 1 <= len(buttons) <= 3
        assert all(
            0 < len(b["reply"]["title"]) <= 20 and 0 < len(b["reply"]["id"]) <= 256 for b in buttons
        )
        assert len({b["reply"]["id"] for b in buttons}) == len(buttons)
        assert len({b["reply"]["title"] for b in buttons}) == len(buttons)
        return
    assert inter["type"] == "list" and 0 < len(inter["action"]["button"]) <= 20
    rows = [r for s in inter["action"]["sections"] for r in s["rows"]]
    assert 1 <= len(rows) <= 10
    assert all(0 < len(r["title"]) <= 24 and len(r.get("description", "")) <= 72 for r in rows)
    assert all(0 < len(r["id"]) <= 200 for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)


def test_three_short_labels_are_reply_buttons() -> None:
    reply = Reply(
        "Apakah Anda setuju?",
        (
            Choice("agree", "SETUJU"),
            Choice("decline", "Tidak setuju"),
            Choice("language", "English / Bahasa"),
        ),
    )
    msg = whatsapp.render(reply)
    assert_within_limits(msg)
    assert msg["interactive"]["type"] == "button"
    assert [b["reply"]["id"] for b in msg["interactive"]["action"]["buttons"]] == [
        "agree",
        "decline",
        "language",
    ]


def test_a_long_indonesian_label_turns_buttons_into_a_list_with_the_whole_label_below() -> None:
    reply = Reply(
        "Mari sambungkan chat ini dengan data keluarga Anda. Pilih salah satu cara:",
        (Choice("code", "Saya punya kode dari pendamping"), Choice("nik", "Pakai NIK dan No. KK")),
    )
    msg = whatsapp.render(reply)
    assert_within_limits(msg)
    rows = msg["interactive"]["action"]["sections"][0]["rows"]
    assert msg["interactive"]["type"] == "list"
    assert rows[0]["title"] == "Saya punya kode dari…"
    assert rows[0]["description"] == "Saya punya kode dari pendamping"
    assert rows[1] == {"id": "nik", "title": "Pakai NIK dan No. KK"}
    assert msg["interactive"]["action"]["button"] == "Pilih"


def test_more_than_ten_choices_become_a_numbered_text_menu() -> None:
    reply = Reply(
        "Pilih kecamatan:",
        tuple(Choice(f"k{i}", f"Kecamatan Samarinda Ulu {i}") for i in range(1, 12)),
    )
    msg = whatsapp.render(reply)
    assert_within_limits(msg)
    assert msg["type"] == "text"
    assert msg["text"]["body"].endswith("11. Kecamatan Samarinda Ulu 11")


def test_a_label_too_long_even_for_a_row_description_becomes_text() -> None:
    label = "Bantuan modal usaha untuk perempuan kepala keluarga di desa tertinggal, tahap kedua tahun ini"
    msg = whatsapp.render(Reply("Pilih program:", (Choice("a", label), Choice("b", "PKH"))))
    assert_within_limits(msg)
    assert msg["type"] == "text" and label in msg["text"]["body"]


def test_a_long_body_with_choices_is_sent_as_text_not_refused() -> None:
    body = "Riwayat permintaan Anda: " + "pengajuan bantuan usaha sedang diperiksa. " * 40
    msg = whatsapp.render(Reply(body, (Choice("ok", "Oke"),)))
    assert_within_limits(msg)
    assert msg["type"] == "text"


def test_duplicate_labels_or_keys_never_reach_the_api_as_buttons() -> None:
    msg = whatsapp.render(Reply("Pilih:", (Choice("a", "Ya"), Choice("b", "Ya"))))
    assert_within_limits(msg)
    assert msg["interactive"]["type"] == "list"
    msg = whatsapp.render(Reply("Pilih:", (Choice("a", "Ya"), Choice("a", "Tidak"))))
    assert msg["type"] == "text"


def test_templates_are_never_sent_with_an_empty_parameter() -> None:
    spec = WhatsAppTemplate(name="sinergi_tanya_kabar", params=["name"])
    assert whatsapp.template_message(spec, ("",)) is None
    assert whatsapp.template_message(spec, ("   ",)) is None
    assert whatsapp.template_message(spec, ()) is None
    msg = whatsapp.template_message(spec, ("Ibu\nSiti\t Aminah",))
    assert msg is not None
    assert msg["template"]["language"] == {"code": "id"}
    assert msg["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Ibu Siti Aminah"}
    ]
    bare = whatsapp.template_message(WhatsAppTemplate(name="sinergi_pesan_baru"), ())
    assert bare == {
        "type": "template",
        "template": {"name": "sinergi_pesan_baru", "language": {"code": "id"}},
    }


labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=120
)


@given(
    text=st.text(max_size=5000),
    choices=st.lists(st.tuples(st.text(min_size=0, max_size=300), labels), max_size=14),
)
def test_no_reply_renders_into_a_request_the_api_would_refuse(
    text: str, choices: list[tuple[str, str]]
) -> None:
    reply = Reply(text, tuple(Choice(k, label) for k, label in choices))
    assert_within_limits(whatsapp.render(reply))
