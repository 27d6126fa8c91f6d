"""A plain python3-xapian index with folding: the peer of bench/relevance.

What anyone would write in an afternoon: one document per MARCXML record
(not per work), the text of title (245 $a$b$n$p, weight 2), names
(100/110/111/700/710/711/720), subjects (6XX), series (490/8XX) and
publisher (260/264 $b) folded (lower case, NFD, marks removed, đ -> d,
NFC) and given to Xapian's TermGenerator (no stemming, positions on);
ISBN 020 $a with the hyphens taken out, as a word. Queries are folded the
same way and parsed by QueryParser, words ORed, BM25. Document data:
"<003>\\t<001>" (source id, local id).

  python3 bench/peers/xapian_peer.py index DB FILE.xml...
  python3 bench/peers/xapian_peer.py search DB QUERY
"""
import re
import sys
import time
import unicodedata
import xml.etree.ElementTree as ET

import xapian

NS = "{http://www.loc.gov/MARC21/slim}"
FIELDS = {
    "245": ("abnp", 2), "100": ("a", 1), "110": ("a", 1), "111": ("a", 1), "700": ("a", 1),
    "710": ("a", 1), "711": ("a", 1), "720": ("a", 1), "490": ("a", 1), "830": ("a", 1),
    "260": ("b", 1), "264": ("b", 1),
}


def fold(s):
    s = unicodedata.normalize("NFD", s.lower()).replace("đ", "d").replace("\u0111", "d")
    s = "".join(c for c in s if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", s.replace("\u0110", "d"))


def isbn_word(s):
    return re.sub(r"(?<=[0-9])[- ](?=[0-9Xx])", "", s)


def index(db_path, files):
    """(seconds, documents)."""
    db = xapian.WritableDatabase(db_path, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    t = time.monotonic()
    n = 0
    for path in files:
        for _, el in ET.iterparse(path, events=("end",)):
            if el.tag != NS + "record":
                continue
            f001 = f003 = ""
            doc = xapian.Document()
            tg.set_document(doc)
            for cf in el.findall(NS + "controlfield"):
                if cf.get("tag") == "001":
                    f001 = cf.text or ""
                elif cf.get("tag") == "003":
                    f003 = cf.text or ""
            for df in el.findall(NS + "datafield"):
                tag = df.get("tag")
                codes, weight = FIELDS.get(tag, ("a" if tag.startswith("6") else "", 1))
                if tag == "020":
                    for sf in df.findall(NS + "subfield"):
                        if sf.get("code") == "a" and sf.text:
                            tg.index_text(isbn_word(sf.text))
                    continue
                text = " ".join(sf.text or "" for sf in df.findall(NS + "subfield")
                                if sf.get("code") in codes)
                if text:
                    tg.index_text(fold(text), weight)
                    tg.increase_termpos(100)
            doc.set_data("%s\t%s" % (f003, f001))
            db.add_document(doc)
            n += 1
            el.clear()
    db.commit()
    dt = time.monotonic() - t
    db.close()
    return dt, n


class Searcher:
    def __init__(self, db_path):
        self.db = xapian.Database(db_path)
        self.qp = xapian.QueryParser()
        self.qp.set_database(self.db)
        self.qp.set_default_op(xapian.Query.OP_OR)
        self.enq = xapian.Enquire(self.db)

    def search(self, text, n=10):
        """[(source, local id)] of the first n records."""
        q = self.qp.parse_query(fold(isbn_word(text)), 0)
        self.enq.set_query(q)
        out = []
        for m in self.enq.get_mset(0, n):
            src, _, lid = m.document.get_data().decode("utf-8").partition("\t")
            out.append((src, lid))
        return out


def main(argv):
    if len(argv) >= 3 and argv[1] == "index":
        dt, n = index(argv[2], argv[3:])
        print("%d documents in %.1f s" % (n, dt))
        return 0
    if len(argv) == 4 and argv[1] == "search":
        for src, lid in Searcher(argv[2]).search(argv[3]):
            print("%s\t%s" % (src, lid))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
