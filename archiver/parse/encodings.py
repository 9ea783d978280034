"""The character encodings a page or a user may name: the WHATWG Encoding Standard's labels.

Python's codec registry also holds codecs that are not text encodings at all (``base64``,
``hex``, ``zlib``, ``rot13``, ``uu``, ``quopri``, ``bz2``, ``idna``, ``punycode``,
``undefined``) and a few that browsers refuse for safety (``utf-7``). A page's ``<meta
charset>`` or ``Content-Type`` is data, so only the labels browsers accept are looked up,
each mapped to the Python codec that decodes as the standard's decoder does (``gb2312`` and
``gbk`` read as GB18030, ``iso-8859-1`` and ``ascii`` as windows-1252, ``shift_jis`` as
cp932: pages that declare the smaller set often use the larger).

Left out: the "replacement" labels (``iso-2022-kr``, ``hz-gb-2312``...: the standard decodes
them to one U+FFFD, as a defence) and ``x-user-defined`` (no Python codec).
"""

from __future__ import annotations

import codecs

#: Python codec -> the labels that name it (https://encoding.spec.whatwg.org/#names-and-labels).
_LABELS: dict[str, tuple[str, ...]] = {
    "utf-8": ("utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"),
    "cp866": ("ibm866", "866", "cp866", "csibm866"),
    "iso8859-2": ("iso-8859-2", "csisolatin2", "iso-ir-101", "iso8859-2", "iso88592", "iso_8859-2",
                  "iso_8859-2:1987", "l2", "latin2"),
    "iso8859-3": ("iso-8859-3", "csisolatin3", "iso-ir-109", "iso8859-3", "iso88593", "iso_8859-3",
                  "iso_8859-3:1988", "l3", "latin3"),
    "iso8859-4": ("iso-8859-4", "csisolatin4", "iso-ir-110", "iso8859-4", "iso88594", "iso_8859-4",
                  "iso_8859-4:1988", "l4", "latin4"),
    "iso8859-5": ("iso-8859-5", "csisolatincyrillic", "cyrillic", "iso-ir-144", "iso8859-5", "iso88595",
                  "iso_8859-5", "iso_8859-5:1988"),
    "iso8859-6": ("iso-8859-6", "arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic",
                  "ecma-114", "iso-8859-6-e", "iso-8859-6-i", "iso-ir-127", "iso8859-6", "iso88596",
                  "iso_8859-6", "iso_8859-6:1987"),
    "iso8859-7": ("iso-8859-7", "csisolatingreek", "ecma-118", "elot_928", "greek", "greek8", "iso-ir-126",
                  "iso8859-7", "iso88597", "iso_8859-7", "iso_8859-7:1987", "sun_eu_greek"),
    "iso8859-8": ("iso-8859-8", "csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8-e", "iso-ir-138",
                  "iso8859-8", "iso88598", "iso_8859-8", "iso_8859-8:1988", "visual", "iso-8859-8-i",
                  "csiso88598i", "logical"),
    "iso8859-10": ("iso-8859-10", "csisolatin6", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6"),
    "iso8859-13": ("iso-8859-13", "iso8859-13", "iso885913"),
    "iso8859-14": ("iso-8859-14", "iso8859-14", "iso885914"),
    "iso8859-15": ("iso-8859-15", "csisolatin9", "iso8859-15", "iso885915", "iso_8859-15", "l9"),
    "iso8859-16": ("iso-8859-16",),
    "koi8-r": ("koi8-r", "cskoi8r", "koi", "koi8", "koi8_r"),
    "koi8-u": ("koi8-u", "koi8-ru"),
    "mac-roman": ("macintosh", "csmacintosh", "mac", "x-mac-roman"),
    "cp874": ("windows-874", "dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620"),
    "cp1250": ("windows-1250", "cp1250", "x-cp1250"),
    "cp1251": ("windows-1251", "cp1251", "x-cp1251"),
    "cp1252": ("windows-1252", "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819",
               "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1",
               "latin1", "us-ascii", "x-cp1252"),
    "cp1253": ("windows-1253", "cp1253", "x-cp1253"),
    "cp1254": ("windows-1254", "cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9", "iso88599",
               "iso_8859-9", "iso_8859-9:1989", "l5", "latin5", "x-cp1254"),
    "cp1255": ("windows-1255", "cp1255", "x-cp1255"),
    "cp1256": ("windows-1256", "cp1256", "x-cp1256"),
    "cp1257": ("windows-1257", "cp1257", "x-cp1257"),
    "cp1258": ("windows-1258", "cp1258", "x-cp1258"),
    "mac-cyrillic": ("x-mac-cyrillic", "x-mac-ukrainian"),
    "gb18030": ("gb18030", "gbk", "chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80",
                "iso-ir-58", "x-gbk"),
    "big5hkscs": ("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"),
    "euc_jp": ("euc-jp", "cseucpkdfmtjapanese", "x-euc-jp"),
    "iso2022_jp": ("iso-2022-jp", "csiso2022jp"),
    "cp932": ("shift_jis", "csshiftjis", "ms932", "ms_kanji", "shift-jis", "sjis", "windows-31j", "x-sjis"),
    "cp949": ("euc-kr", "cseuckr", "csksc56011987", "iso-ir-149", "korean", "ks_c_5601-1987",
              "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949"),
    "utf-16-be": ("utf-16be", "unicodefffe"),
    "utf-16-le": ("utf-16le", "utf-16", "csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff"),
}  # fmt: skip
_BY_LABEL = {label: codec for codec, labels in _LABELS.items() for label in labels}
#: Python's own names of those codecs (``utf_8``, ``big5hkscs``), so a user who spells an
#: encoding the Python way is understood too.
_BY_CODEC = {codecs.lookup(codec).name: codec for codec in _LABELS}
#: The codec the labels map Python names of smaller sets to (``gbk`` -> gb18030, BOM or not).
_WIDER = {
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "ascii": "cp1252",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "utf-8-sig": "utf-8",
}


def text_codec(name: str) -> str | None:
    """The Python codec that decodes text labelled ``name``; None for anything else (an unknown
    label, or a codec that is no text encoding)."""
    label = name.strip().lower()
    if label in _BY_LABEL:
        return _BY_LABEL[label]
    try:
        canonical = codecs.lookup(label).name
    except LookupError:
        return None
    return _BY_CODEC.get(_WIDER.get(canonical, canonical))


def label_of(codec: str) -> str | None:
    """The standard label of a Python codec, for advice such as "pass --encoding euc-jp"."""
    found = text_codec(codec)
    return _LABELS[found][0] if found else None
