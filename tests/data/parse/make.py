#!/usr/bin/env python3
"""Regenerate the small hostile inputs in this directory (test-parse.c reads them).

Each file is named for the fault it carries; the good records around a bad
one have 001 = r1, r2, r3 ... so tests can check which ones arrive."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
MARC = "http://www.loc.gov/MARC21/slim"


def w(name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def rec(id_, title="Tiêu đề", prefix="", extra=""):
    p = prefix + ":" if prefix else ""
    return (f"  <{p}record>\n"
            f"    <{p}leader>00000nam a2200000 a 4500</{p}leader>\n"
            f"    <{p}controlfield tag=\"001\">{id_}</{p}controlfield>\n"
            f"    <{p}datafield tag=\"245\" ind1=\"1\" ind2=\"0\">\n"
            f"      <{p}subfield code=\"a\">{title}</{p}subfield>{extra}\n"
            f"    </{p}datafield>\n"
            f"  </{p}record>\n")


def coll(body, prefix=""):
    if prefix:
        return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                f"<{prefix}:collection xmlns:{prefix}=\"{MARC}\">\n{body}</{prefix}:collection>\n")
    return f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"{MARC}\">\n{body}</collection>\n"


# --- MARCXML ---------------------------------------------------------------
bad = coll(rec("r1") + rec("r2", "caf\x00") + rec("r3")).encode()
w("bad-utf8.xml", bad.replace(b"caf\x00", b"caf\xc3(x \xff\xfe end"))
w("ctrl-char.xml", coll(rec("r1") + rec("r2", "bell\x07 and form feed\x0c") + rec("r3")))
w("wf-error.xml", coll(rec("r1") + rec("r2").replace("</subfield>", "</datafeld>") + rec("r3")))
w("wf-error-prefixed.xml",
  coll(rec("r1", prefix="marc") + rec("r2", prefix="marc").replace("</marc:subfield>", "</marc:subfeld>")
       + rec("r3", prefix="marc"), prefix="marc"))
w("undeclared-entity.xml", coll(rec("r1") + rec("r2", "caf&eacute; &nbsp;") + rec("r3")))
t = coll(rec("r1") + rec("r2"))
w("truncated.xml", t[:t.index("r2") + 40])
deep = "".join("<x>" for _ in range(80)) + "deep" + "".join("</x>" for _ in range(80))
w("deep.xml", coll(rec("r1") + rec("r2", extra="\n      " + deep) + rec("r3")))
w("html.xml", "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
              "<body><h1>Service Unavailable</h1><p>Try again later.<br></p></body></html>\n")
w("billion-laughs.xml",
  "<?xml version=\"1.0\"?>\n<!DOCTYPE collection [\n <!ENTITY lol \"lol\">\n"
  + "".join(f" <!ENTITY lol{i} \"" + ("&lol%s;" % ("" if i == 1 else i - 1)) * 10 + "\">\n" for i in range(1, 10))
  + "]>\n<collection xmlns=\"" + MARC + "\"><record><leader>00000nam a2200000 a 4500</leader>"
  "<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">&lol9;</subfield></datafield>"
  "</record></collection>\n")
w("xxe.xml",
  "<?xml version=\"1.0\"?>\n<!DOCTYPE collection [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
  "<collection xmlns=\"" + MARC + "\"><record><leader>00000nam a2200000 a 4500</leader>"
  "<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">&xxe;</subfield></datafield>"
  "</record></collection>\n")
w("doctype-plain.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE collection>\n" + coll(rec("r1")).split("\n", 1)[1])
w("latin1.xml", ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<collection xmlns=\"" + MARC + "\">\n"
                 + rec("r1", "caf\u00e9") + rec("r2", "na\u00efve\x01") + "</collection>\n").encode("latin-1"))
w("leading-blank.xml", "\n\n" + coll(rec("r1")))
# windows-1258 declared: good records in real cp1258, one with a byte cp1258 leaves undefined
w("cp1258-undefined.xml",
  ("<?xml version=\"1.0\" encoding=\"windows-1258\"?>\n<collection xmlns=\"" + MARC + "\">\n"
   + rec("r1", "Ti\u00eau \u0111i\u00ea\u0300n") + rec("r2", "bad \x01x") + rec("r3", "Ti\u00eau")
   + "</collection>\n").encode("cp1258").replace(b"bad \x01x", b"bad \x81x"))
# Shift_JIS declared, bytes that are not Shift_JIS: libxml2 cannot decode them
w("sjis-undecodable.xml", ("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n" + coll(rec("r1")).split("\n", 1)[1])
  .encode("utf-8"))
w("comment-cdata.xml",
  coll("  <!-- <record><leader>not a record</leader></record> -->\n  <?pi <record> ?>\n" + rec("r1")
       + rec("r2", "<![CDATA[a <record> b </record> c]]> &amp; &lt;dc>")))
w("concatenated.xml", coll(rec("r1")) + coll(rec("r2", prefix="marc"), prefix="marc"))

# --- OAI-PMH ---------------------------------------------------------------
OAI = "http://www.openarchives.org/OAI/2.0/"


def oai(body, verb="ListRecords"):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            f"<OAI-PMH xmlns=\"{OAI}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
            "<responseDate>2025-07-01T10:00:00Z</responseDate>\n"
            f"<request verb=\"{verb}\" metadataPrefix=\"marc21\">http://opac.example.vn/oai</request>\n"
            f"{body}</OAI-PMH>\n")


def oai_rec(id_, ds="2025-06-30T08:00:00Z", deleted=False, marc_id=None, broken=False):
    st = " status=\"deleted\"" if deleted else ""
    h = (f"<record><header{st}><identifier>{id_}</identifier><datestamp>{ds}</datestamp>"
         "<setSpec>sach</setSpec></header>")
    if deleted:
        return h + "</record>\n"
    m = rec(marc_id or id_, prefix="marc")
    if broken:
        m = m.replace("</marc:subfield>", "</marc:subfeld>")
    return (h + f"<metadata><marc:record xmlns:marc=\"{MARC}\">"
            + m.split(">", 1)[1].rsplit("</marc:record>", 1)[0] + "</marc:record></metadata></record>\n")


w("oai-marc.xml", oai("<ListRecords>\n" + oai_rec("oai:lib.vn:1", marc_id="r1")
                      + oai_rec("oai:lib.vn:2", deleted=True)
                      + oai_rec("oai:lib.vn:3", ds="2025-06-30", marc_id="r3")
                      + "<resumptionToken completeListSize=\"1234\" cursor=\"0\" "
                        "expirationDate=\"2025-07-02T10:00:00Z\">tok|100|marc21</resumptionToken>\n"
                      + "</ListRecords>\n"))
w("oai-wf-error.xml", oai("<ListRecords>\n" + oai_rec("oai:lib.vn:1", marc_id="r1")
                          + oai_rec("oai:lib.vn:2", marc_id="r2", broken=True)
                          + oai_rec("oai:lib.vn:3", marc_id="r3")
                          + "<resumptionToken>tok2</resumptionToken>\n</ListRecords>\n"))
w("oai-error.xml", oai("<error code=\"noRecordsMatch\">No records match the request</error>\n"))
w("oai-mods.xml", oai("<ListRecords>\n<record><header><identifier>oai:x:1</identifier>"
                      "<datestamp>2025-01-01</datestamp></header><metadata>"
                      "<mods xmlns=\"http://www.loc.gov/mods/v3\"><titleInfo><title>T</title></titleInfo></mods>"
                      "</metadata></record>\n" + oai_rec("oai:x:2", marc_id="r2") + "</ListRecords>\n"))

# --- ISO 2709 --------------------------------------------------------------
FS, RS, US = b"\x1e", b"\x1d", b"\x1f"


def iso(fields, leader_tail=b"nam a22", count=lambda b: len(b), junk_dir=False, bad_ptr=False):
    """fields: list of (tag, bytes) where bytes already hold indicators and
    subfield delimiters. count() measures lengths (bytes, or characters)."""
    data, dir_ = b"", b""
    for i, (tag, val) in enumerate(fields):
        val += FS
        start = count(data)
        ln = count(val)
        if bad_ptr and i == len(fields) - 1:
            start += 5000
        dir_ += tag.encode() + b"%04d%05d" % (ln, start)
        data += val
    if junk_dir:
        dir_ = dir_[:15] + b"XY" + dir_[17:]
    dir_ += FS
    base = 24 + len(dir_)
    total = base + count(data) + 1
    leader = b"%05d" % total + leader_tail + b"%05d" % base + b" a 4500"
    assert len(leader) == 24, leader
    return leader + dir_ + data + RS


def sub(code, v):
    return US + code.encode() + v.encode("utf-8")


def f245(title):
    return ("245", b"10" + sub("a", title) + sub("c", "Nguyễn Du"))


good1 = iso([("001", b"r1"), ("008", b"250101s2025    vm            000 0 vie d"), f245("Truyện Kiều")])
good3 = iso([("001", b"r3"), f245("Đoạn trường tân thanh")])
chars = lambda b: len(b.decode("utf-8"))
charcount = iso([("001", b"r2"), f245("Lục Vân Tiên — Nguyễn Đình Chiểu")], count=chars)
w("charcount.mrc", good1 + charcount + good3)
w("badptr.mrc", good1 + iso([("001", b"r2"), f245("Chinh phụ ngâm"), ("650", b" 0" + sub("a", "Thơ"))],
                            bad_ptr=True) + good3)
w("garbage.mrc", b"\r\n" + good1 + b"\r\n\x1a  " + iso([("001", b"r2"), f245("Cung oán ngâm khúc")])
  + b"\nJUNK LINE that is not a record\n" + good3 + b"\r\n\x1a")
w("truncated.mrc", good1 + iso([("001", b"r2"), f245("Hoa tiên")])[:60])
w("corrupt.mrc", good1 + iso([("001", b"r2"), f245("Nhị độ mai")], junk_dir=True)[:-1].replace(FS, b"", 1)
  + RS + good3)
w("noterm.mrc", good1[:-1] + iso([("001", b"r2"), f245("Quan Âm Thị Kính")]) + good3)
