#!/usr/bin/env python3
"""Give a freshly generated cover letter the subject and text of the
previous one, and a date that does not change from one export to the next
(the date of the newest patch)."""
import email.utils
import glob
import os
import re
import sys

outdir, old = sys.argv[1], sys.argv[2]
new = os.path.join(outdir, "0000-cover-letter.patch")
text = open(new).read()
patches = sorted(p for p in glob.glob(os.path.join(outdir, "[0-9]*.patch"))
                 if not p.endswith("/0000-cover-letter.patch"))


def header(msg, name):
    m = re.search(r"^%s: (.*(?:\n[ \t].*)*)" % name, msg, re.M)
    return m and re.sub(r"\n[ \t]+", " ", m.group(1))


dates = [email.utils.parsedate_to_datetime(header(open(p).read(), "Date"))
         for p in patches]
if dates:
    newest = max(dates)
    text = re.sub(r"^Date: .*$", "Date: " + email.utils.format_datetime(newest),
                  text, count=1, flags=re.M)

subject, blurb = None, None
if os.path.exists(old):
    o = open(old).read()
    s = header(o, "Subject")
    if s:
        subject = re.sub(r"^\[[^]]*\]\s*", "", s)
    body = o.split("\n\n", 1)[1] if "\n\n" in o else ""
    # The blurb ends where git's shortlog ("Name (N):") starts.
    m = re.search(r"^\S.* \(\d+\):$", body, re.M)
    blurb = (body[:m.start()] if m else body).rstrip("\n") + "\n"
if subject:
    text = text.replace("*** SUBJECT HERE ***", subject, 1)
if blurb:
    text = text.replace("*** BLURB HERE ***\n", blurb, 1)
else:
    print("export: no cover letter text yet; edit series/0000-cover-letter.patch",
          file=sys.stderr)
open(new, "w").write(text)
