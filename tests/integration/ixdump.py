#!/usr/bin/python3
# ixdump.py DB [SAMPLE]: a search index as text, for comparing two indexes
# (tests/integration/test-index*.sh): the document count, then every
# document (or every SAMPLE-th by union id) in union id order with its
# terms (wdf and positions), values and data, then the spelling table.
# Xapian document ids are left out: they are not part of the index's
# meaning.
import sys

import xapian

db = xapian.Database(sys.argv[1])
every = int(sys.argv[2]) if len(sys.argv) > 2 else 1
print("docs", db.get_doccount())
ids = sorted(int(t.term[1:]) for t in db.allterms(b"Q") if t.term[1:].isdigit())
for k, uid in enumerate(ids):
    if k % every:
        continue
    did = next(iter(db.postlist(b"Q%d" % uid))).docid
    doc = db.get_document(did)
    print("doc", uid)
    for t in doc.termlist():
        pos = ",".join(str(p) for p in t.positer)
        print(" t", t.term.decode(), t.wdf, pos)
    for v in doc.values():
        print(" v", v.num, v.value.hex())
    print(" d", doc.get_data().decode())
for s in db.spellings():
    print("s", s.term.decode(), s.termfreq)
