"""XEP-0420 Stanza Content Encryption for the OMEMO 2 test peers, written
here with ElementTree (prefixed namespaces, unlike confab's minidom
output): neither python-twomemo nor slixmpp-omemo 2.2 implements it.

wrap() builds the envelope XEP-0384 §6.1 asks for (<content> with the
body, <rpad>, <time>, <to>, <from>); unwrap() reads one and checks its
affixes against the stanza's sender and recipient (bare JIDs).
"""

import datetime
import secrets
import xml.etree.ElementTree as ET

SCE = "urn:xmpp:sce:1"


def wrap(text, sender, recipient):
    """The envelope's bytes; sender and recipient as the affixes say them."""
    env = ET.Element("{%s}envelope" % SCE)
    content = ET.SubElement(env, "{%s}content" % SCE)
    ET.SubElement(content, "{jabber:client}body").text = text
    ET.SubElement(env, "{%s}rpad" % SCE).text = secrets.token_urlsafe(secrets.randbelow(150))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    ET.SubElement(env, "{%s}time" % SCE, stamp=stamp)
    ET.SubElement(env, "{%s}to" % SCE, jid=recipient)
    ET.SubElement(env, "{%s}from" % SCE, jid=sender)
    return ET.tostring(env)


def unwrap(data, sender, recipient):
    """The body of a decrypted envelope; ValueError when an affix is wrong."""
    env = ET.fromstring(data.decode("utf-8"))
    if env.tag != "{%s}envelope" % SCE:
        raise ValueError("not an SCE envelope")
    frm = env.find("{%s}from" % SCE)
    if frm is None or frm.get("jid", "").split("/")[0] != sender:
        raise ValueError("SCE <from/> is not the sender")
    to = env.find("{%s}to" % SCE)
    if to is not None and to.get("jid", "").split("/")[0] != recipient:
        raise ValueError("SCE <to/> is not this device's account")
    if env.find("{%s}rpad" % SCE) is None:
        raise ValueError("SCE envelope without <rpad/>")
    body = env.find("{%s}content/{jabber:client}body" % SCE)
    if body is None:
        raise ValueError("SCE content without a body")
    return body.text or ""
