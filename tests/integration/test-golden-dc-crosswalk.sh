#!/usr/bin/env bash
# golden-dc-crosswalk.sh — an independent check of field extraction: for every
# Library of Congress MARCXML sample in idzebra-2.0-examples, the Library of
# Congress's own crosswalk (yaz's MARC21slim2DC.xsl, run by xsltproc) and
# mucluc (import, then export --format jsonl) must agree, record by record, on
#   - the number of titles (dc:title per 245; ours: title present),
#   - the creators (dc:creator per 100/110/111/700/710/711/720; ours: names):
#     every dc:creator is one of our names and every name a dc:creator; the
#     counts are equal unless name/title entries repeat a name, which mucluc
#     keeps once,
#   - the title text, folded (lower case, no diacritics or punctuation).
# The crosswalk's title takes 245 $a $b $f $g $h $k, ours $a $b $n $p: the
# words of $f $g $h $k (the medium "[sound recording]") are removed from the
# crosswalk's title and those of $n $p from ours before comparing.
# A record whose 001 comes again later in the file is replaced in the store
# by the later one; only the last is compared.
# Authority and classification records (leader/06 z, w) are not bibliographic:
# the crosswalk calls their heading a creator, mucluc does not; they are only
# checked for having no names.
. "$(dirname "$0")/lib.sh"

EX=/usr/share/doc/idzebra-2.0/examples/marcxml
XSL=/usr/share/yaz/etc/MARC21slim2DC.xsl
FILES="collection-2.xml.gz collection-clasmrc.xml.gz collection-namemrc.xml.gz
collection-opera-43.xml.gz collection-sandburg-1.xml collection-subjmrc.xml.gz"

if [ ! -x "$MUCLUC" ]; then
	for f in $FILES; do skip "$f: crosswalk comparison" "no mucluc binary at $MUCLUC"; done
	done_testing
fi
if [ ! -r "$XSL" ] || [ ! -d "$EX" ] || ! command -v xsltproc >/dev/null || ! command -v python3 >/dev/null; then
	for f in $FILES; do skip "$f: crosswalk comparison" "needs yaz, idzebra-2.0-examples, xsltproc, python3"; done
	done_testing
fi

# Per record, one line: 001, leader/06, titles, creators, the crosswalk's
# title, the words to drop from it ($f $g $h $k), the words to drop from
# ours ($n $p). TAB separated; the crosswalk's output is taken from the
# imported stylesheet itself (apply-imports), not re-implemented.
cat >"$T/wrap.xsl" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:marc="http://www.loc.gov/MARC21/slim" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl">
  <xsl:import href="$XSL"/>
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:template match="/"><xsl:apply-templates select="//marc:record"/></xsl:template>
  <xsl:template match="marc:record">
    <xsl:variable name="dcrtf"><xsl:apply-imports/></xsl:variable>
    <xsl:variable name="dc" select="exsl:node-set(\$dcrtf)"/>
    <xsl:value-of select="translate(marc:controlfield[@tag='001'], '&#9;&#10;', '  ')"/>
    <xsl:text>&#9;</xsl:text><xsl:value-of select="substring(marc:leader, 7, 1)"/>
    <xsl:text>&#9;</xsl:text><xsl:value-of select="count(\$dc//dc:title)"/>
    <xsl:text>&#9;</xsl:text><xsl:value-of select="count(\$dc//dc:creator)"/>
    <xsl:text>&#9;</xsl:text><xsl:value-of select="translate(\$dc//dc:title[1], '&#9;&#10;', '  ')"/>
    <xsl:text>&#9;</xsl:text>
    <xsl:for-each select="marc:datafield[@tag='245'][1]/marc:subfield[@code='f' or @code='g' or @code='h' or @code='k']">
      <xsl:value-of select="translate(., '&#9;&#10;|', '   ')"/><xsl:text>|</xsl:text>
    </xsl:for-each>
    <xsl:text>&#9;</xsl:text>
    <xsl:for-each select="marc:datafield[@tag='245'][1]/marc:subfield[@code='n' or @code='p']">
      <xsl:value-of select="translate(., '&#9;&#10;|', '   ')"/><xsl:text>|</xsl:text>
    </xsl:for-each>
    <xsl:text>&#9;</xsl:text>
    <xsl:for-each select="\$dc//dc:creator">
      <xsl:value-of select="translate(., '&#9;&#10;|', '   ')"/><xsl:text>|</xsl:text>
    </xsl:for-each>
    <xsl:text>&#10;</xsl:text>
  </xsl:template>
</xsl:stylesheet>
EOF

cat >"$T/compare.py" <<'EOF'
import json, sys, unicodedata

def fold(s):
    s = unicodedata.normalize("NFKD", s or "")
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("đ", "d").replace("Đ", "D").lower()
    return [w for w in "".join(c if c.isalnum() else " " for c in s).split()]

def drop(words, extra):
    """Remove each "|"-separated part of extra (one subfield) from words,
    as a run of consecutive words where it is one, else word by word."""
    out = list(words)
    for part in extra.split("|"):
        run = fold(part)
        if not run:
            continue
        for i in range(len(out) - len(run), -1, -1):
            if out[i:i + len(run)] == run:
                del out[i:i + len(run)]
                break
        else:
            for w in run:
                if w in out:
                    out.remove(w)
    return out

def subseq(words, of):
    """words appear in order (not necessarily adjacent) in of."""
    it = iter(of)
    return bool(words) and all(w in it for w in words)

def key(s):
    return "".join((s or "").split())

theirs_path, ours_path = sys.argv[1], sys.argv[2]
ours = {}
last = {}
theirs = [l for l in open(theirs_path, encoding="utf-8") if l.strip()]
for i, line in enumerate(theirs):
    last[key(line.split("\t")[0])] = i
for line in open(ours_path, encoding="utf-8"):
    if line.strip():
        o = json.loads(line)
        ours[key(o.get("local_id"))] = o
bad = 0
n = 0
for i, line in enumerate(theirs):
    rid, l6, nt, nc, title, their_extra, our_extra, creators = \
        (line.rstrip("\n").split("\t") + [""] * 8)[:8]
    if last[key(rid)] != i:
        continue  # the same 001 again later in the file: the store keeps the last one
    n += 1
    o = ours.get(key(rid))
    if o is None:
        print("#   %s: not in mucluc's export" % rid); bad += 1; continue
    names = o.get("names") or []
    if l6 in ("z", "w", "q"):
        if names:
            print("#   %s: authority/classification record has names %r" % (rid, names)); bad += 1
        continue
    our_nt = 1 if o.get("title") else 0
    if int(nt) != our_nt:
        print("#   %s: titles: crosswalk %s, mucluc %d" % (rid, nt, our_nt)); bad += 1
    # Each dc:creator is one of our names (its words in order, then $d, $t
    # ...), and each of our names is a dc:creator. mucluc keeps a name once
    # when name/title entries repeat it, so it may have fewer.
    cre = [fold(c) for c in creators.split("|") if fold(c)]
    ours_f = [fold(x.get("name")) for x in names]
    lost = [c for c in cre if not any(subseq(w, c) for w in ours_f)]
    extra = [w for w in ours_f if not any(subseq(w, c) for c in cre)]
    if len(cre) != int(nc) or lost or extra or len(names) > int(nc) or (len(names) == 0) != (int(nc) == 0):
        print("#   %s: creators: crosswalk %s %r, mucluc %d %r" % (rid, nc, lost, len(names), extra)); bad += 1
    a = drop(fold(title), their_extra)
    b = drop(fold(o.get("title")), our_extra)
    if a != b:
        print("#   %s: title: crosswalk %r, mucluc %r" % (rid, " ".join(a), " ".join(b))); bad += 1
print("#   %d records compared" % n)
sys.exit(1 if bad or n == 0 else 0)
EOF

for f in $FILES; do
	name=${f%.gz}
	in=$T/$name
	if [ "$f" != "$name" ]; then gzip -dc "$EX/$f" >"$in"; else cp "$EX/$f" "$in"; fi
	cfg=$(printf '[source "lc"]\nname = Library of Congress (sample)\ntype = specialised\n' | mk_config)
	if ! "$MUCLUC" -c "$cfg" init >"$T/out" 2>&1 ||
	   ! "$MUCLUC" -c "$cfg" import --source lc "$in" >"$T/out" 2>&1 ||
	   ! "$MUCLUC" -c "$cfg" export --source lc --format jsonl >"$T/ours.jsonl" 2>"$T/out"; then
		fail "$name: mucluc init/import/export"
		sed 's/^/#   /' "$T/out" | head -20
		continue
	fi
	if ! xsltproc "$T/wrap.xsl" "$in" >"$T/theirs.tsv" 2>"$T/out"; then
		fail "$name: xsltproc $XSL"
		sed 's/^/#   /' "$T/out" | head -20
		continue
	fi
	if python3 "$T/compare.py" "$T/theirs.tsv" "$T/ours.jsonl" >"$T/cmp" 2>&1; then
		ok "$name: titles, creators and title text agree with MARC21slim2DC.xsl ($(grep -o '[0-9]* records' "$T/cmp"))"
	else
		fail "$name: titles, creators and title text agree with MARC21slim2DC.xsl"
		head -30 "$T/cmp"
	fi
done
mc_check_stores
done_testing
