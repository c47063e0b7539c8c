#!/usr/bin/env python3
"""How much of each OCR text above 15% errors still resembles its passage.

For every `ocr:cer>15` query of `corpus/queries/ocr.jsonl` in the half given
(`tune` or `held_out`), prints the passage's and the OCR text's normalized
lengths (lowercase ASCII letters and digits, an approximation of the
matcher's normalization), how many 16-grams of the passage occur exactly in
the OCR text and how many within one substitution, deletion or insertion,
and difflib's similarity ratio of the two. A ceiling for any matcher: a text
whose ratio is under the alignment similarity it accepts cannot be found.

    python3 scripts/ocr_ceiling.py tune
"""
import json
import re
import sys
def norm(t): return re.sub(r'[^a-z0-9]','',t.lower())
K=16
AL='abcdefghijklmnopqrstuvwxyz0123456789'
def neigh(s):
    out=set()
    for i in range(len(s)):
        for a in AL:
            out.add(s[:i]+a+s[i+1:])
    return out
rows=[json.loads(l) for l in open('corpus/queries/ocr.jsonl')]
for r in rows:
    if r['case']!='ocr:cer>15' or r['split']!=sys.argv[1]: continue
    e=r['expect'][0]
    src=open('corpus/dump/'+e['source'],'rb').read()[e['span'][0]:e['span'][1]].decode('utf8','replace')
    s=norm(src); q=norm(r['text'])
    qk=set(q[i:i+K] for i in range(len(q)-K+1))
    # 1-edit: substitution, deletion (query has extra char), insertion
    q1=set()
    for i in range(len(q)-K+1):
        g=q[i:i+K]; q1|=neigh(g)
        if i+K+1<=len(q):
            g2=q[i:i+K+1]
            for j in range(1,K): q1.add(g2[:j]+g2[j+1:])
        g3=q[i:i+K-1]
        for j in range(1,K-1):
            for a in AL: q1.add(g3[:j]+a+g3[j:])
    sk=[s[i:i+K] for i in range(len(s)-K+1)]
    ex=sum(1 for g in sk if g in qk); one=sum(1 for g in sk if g in q1)
    # longest exact run
    import difflib
    sm=difflib.SequenceMatcher(None,s,q,autojunk=False)
    ratio=sm.ratio()
    print(r['id'], r['cer'], len(s), len(q), 'exact',ex,'1edit',one,'of',len(sk), 'ratio %.2f'%ratio)
