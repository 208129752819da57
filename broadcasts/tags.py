"""Tags of team groups: the 34 provinces, communes and free labels, in canonical form.

A canonical tag is ``tinh:<province key>``, ``xa:<folded commune>`` or ``nhan:<folded label>``:
folded means lower case, without accents, punctuation collapsed, so "Phường Ba Đình" and
"phuong ba dinh" are one tag.
"""

from __future__ import annotations

import re
import unicodedata

# The 34 provinces and centrally-run cities from 1 July 2025 (two-tier local government).
PROVINCES: dict[str, str] = {
    "ha_noi": "Hà Nội",
    "ho_chi_minh": "TP. Hồ Chí Minh",
    "hai_phong": "Hải Phòng",
    "da_nang": "Đà Nẵng",
    "hue": "Huế",
    "can_tho": "Cần Thơ",
    "tuyen_quang": "Tuyên Quang",
    "cao_bang": "Cao Bằng",
    "lai_chau": "Lai Châu",
    "lao_cai": "Lào Cai",
    "thai_nguyen": "Thái Nguyên",
    "dien_bien": "Điện Biên",
    "lang_son": "Lạng Sơn",
    "son_la": "Sơn La",
    "phu_tho": "Phú Thọ",
    "bac_ninh": "Bắc Ninh",
    "quang_ninh": "Quảng Ninh",
    "hung_yen": "Hưng Yên",
    "ninh_binh": "Ninh Bình",
    "thanh_hoa": "Thanh Hóa",
    "nghe_an": "Nghệ An",
    "ha_tinh": "Hà Tĩnh",
    "quang_tri": "Quảng Trị",
    "quang_ngai": "Quảng Ngãi",
    "gia_lai": "Gia Lai",
    "khanh_hoa": "Khánh Hòa",
    "lam_dong": "Lâm Đồng",
    "dak_lak": "Đắk Lắk",
    "dong_nai": "Đồng Nai",
    "tay_ninh": "Tây Ninh",
    "vinh_long": "Vĩnh Long",
    "dong_thap": "Đồng Tháp",
    "ca_mau": "Cà Mau",
    "an_giang": "An Giang",
}
PROVINCE_TAG = "tinh"
COMMUNE_TAG = "xa"
LABEL_TAG = "nhan"
MAX_TAG_TEXT = 64


def fold(text: str) -> str:
    """Case- and accent-insensitive key for matching communes and labels."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(re.findall(r"\w+", plain))


def clean_tag_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())[:MAX_TAG_TEXT]


def canonical_tag(tag: str) -> str | None:
    """``tinh:ha_noi`` / ``xa:Phường Ba Đình`` / ``nhan:…`` in matching form, or None if invalid."""
    kind, _, value = tag.partition(":")
    if kind == PROVINCE_TAG:
        return tag if value in PROVINCES else None
    if kind in (COMMUNE_TAG, LABEL_TAG) and fold(value):
        return f"{kind}:{fold(value)}"
    return None


def describe_tag(tag: str) -> str:
    kind, _, value = tag.partition(":")
    if kind == PROVINCE_TAG:
        return PROVINCES.get(value, value)
    prefix = {COMMUNE_TAG: "Xã/phường", LABEL_TAG: "Nhãn"}.get(kind, kind)
    return f"{prefix}: {value}"
