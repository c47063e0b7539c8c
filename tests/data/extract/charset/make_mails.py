#!/usr/bin/env python3
"""Build the legacy-charset mail fixtures of this folder.

Each source text (UTF-8, `<name>.txt`, cut from the documents named in
SOURCES.md) is sent as a mail in its legacy charset by Python's own `email`
package: RFC 2047 encoded subject and sender name, the body in the charset
(base64, quoted-printable or 7/8 bit as the charset needs), and a text
attachment whose file name is an RFC 2231 parameter in the same charset.

Deterministic: fixed dates and message ids, no randomness.
Run from this folder: python3 make_mails.py
"""
from email.message import EmailMessage
from email.headerregistry import Address
import base64
from email import policy
import email.utils

# (source text, charset, body transfer encoding, file name of the attachment)
CASES = [
    ("zh_cn", "gb2312", "base64", "压缩说明.txt"),
    ("zh_tw", "big5", "base64", "說明.txt"),
    ("ja", "shift_jis", "base64", "説明書.txt"),
    ("ja", "iso-2022-jp", "7bit", "説明書.txt"),
    ("ko", "euc-kr", "base64", "안내.txt"),
    ("ru", "koi8-r", "8bit", "справка.txt"),
    ("pl", "iso-8859-2", "quoted-printable", "pomoc-łódź.txt"),
]


def encoded_word(text, charset):
    """RFC 2047 words in `charset` under its standard name (Python's own
    `Header` writes GB2312 as `eucgb2312_cn`, a label no mail client uses),
    split so that no word passes 75 characters and no character is cut."""
    words, cur = [], ""
    for ch in text:
        if len(base64.b64encode((cur + ch).encode(charset))) > 75 - len(charset) - 7:
            words.append(cur)
            cur = ""
        cur += ch
    words.append(cur)
    return "\n ".join(
        f"=?{charset}?b?{base64.b64encode(w.encode(charset)).decode()}?=" for w in words
    )


def main():
    for src, charset, cte, fname in CASES:
        text = open(f"{src}.txt", encoding="utf-8").read()
        lines = text.splitlines()
        subject = lines[0]
        body = "\n".join(lines[1:]) + "\n"
        msg = EmailMessage(policy=policy.compat32)
        msg["From"] = encoded_word(subject[:6], charset) + " <sender@example.com>"
        msg["To"] = "dump@example.com"
        msg["Subject"] = encoded_word(subject, charset)
        msg["Date"] = "Mon, 24 Nov 2014 09:30:00 -0800"
        msg["Message-ID"] = f"<{src}.{charset}@example.com>"
        msg["MIME-Version"] = "1.0"
        msg.set_type("multipart/mixed")
        body_part = EmailMessage(policy=policy.compat32)
        body_part.set_payload(body.encode(charset))
        body_part.set_type("text/plain")
        body_part.set_param("charset", charset)
        enc = {"base64": email.encoders.encode_base64,
               "quoted-printable": email.encoders.encode_quopri,
               "7bit": email.encoders.encode_7or8bit,
               "8bit": email.encoders.encode_7or8bit}[cte]
        enc(body_part)
        att = EmailMessage(policy=policy.compat32)
        att.set_payload(body.encode(charset))
        att.set_type("text/plain")
        att.set_param("charset", charset)
        email.encoders.encode_base64(att)
        att.add_header("Content-Disposition", "attachment", filename=(charset, "", fname))
        msg.set_payload([body_part, att])
        msg.set_boundary(f"leakprint-{src}-{charset}")
        out = f"{src}-{charset}.eml"
        with open(out, "wb") as f:
            f.write(msg.as_bytes())
        print(out, len(body), "chars")


if __name__ == "__main__":
    import email.encoders
    main()
