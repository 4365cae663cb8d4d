#!/usr/bin/env python3
"""An independent OMEMO implementation for confab's tests, at the crypto
and element layer: python-oldmemo / python-twomemo (with
python-doubleratchet, python-x3dh, python-xeddsa), the libraries
slixmpp-omemo uses, driven without an XMPP stream.

    omemo_crypto_peer.py oldmemo|twomemo [0|1]

The optional last argument asks for an identity key whose Ed25519 form has
that sign bit (0.3 carries it beside the Curve25519 key: both must work).

One JSON request per line on stdin, one JSON answer per line on stdout.
Bundles and messages travel as the XML the libraries serialize and parse
(oldmemo.etree / twomemo.etree, which validate against their schemas):

  {"op": "bundle"}                          -> {"xml"}: this device's bundle
  {"op": "peer", "jid", "device", "xml"}    -> remember a peer's bundle
  {"op": "encrypt", "jid", "device", "text"} or
  {"op": "encrypt", "jid", "device", "empty": true}
        -> {"xml", "kex"}: an <encrypted/> for that one device (empty: a
           key transport / heartbeat, no payload)
  {"op": "decrypt", "jid", "device", "xml"} -> {"text"}, or {"empty": true}

OMEMO 2's plaintext is a XEP-0420 envelope (<content> with the body,
<rpad>, <from>, <to>), which neither python-twomemo nor slixmpp-omemo
implements: sce_envelope.py (beside this script) wraps and checks it with
ElementTree (prefixed namespaces, unlike confab's minidom output).

Every answer has "ok": true, or "ok": false and "error" (a failure to
decrypt is an answer, not a crash).
"""

import asyncio
import json
import sys
import xml.etree.ElementTree as ET

from omemo.message import Message
from omemo.session import Initiation
from omemo.storage import Just, Nothing, Storage

from sce_envelope import unwrap as sce_unwrap, wrap as sce_wrap_full

FLAVOUR = sys.argv[1]
WANT_SIGN = int(sys.argv[2]) if len(sys.argv) > 2 else None
if FLAVOUR == "oldmemo":
    from oldmemo import etree as lib_etree
    from oldmemo.oldmemo import NAMESPACE, Oldmemo as Backend
elif FLAVOUR == "twomemo":
    from twomemo import etree as lib_etree
    from twomemo.twomemo import NAMESPACE, Twomemo as Backend
else:
    sys.exit("usage: omemo_crypto_peer.py oldmemo|twomemo [0|1]")

OWN_JID = "python@peer.test"
OWN_DEVICE = 31337
ET.register_namespace("", NAMESPACE)


def sce_wrap(text, sender, recipient):
    return sce_wrap_full(text, sender + "/peer", recipient)


class MemoryStorage(Storage):
    def __init__(self):
        super().__init__()
        self.data = {}

    async def _load(self, key):
        return Just(self.data[key]) if key in self.data else Nothing()

    async def _store(self, key, value):
        self.data[key] = value

    async def _delete(self, key):
        self.data.pop(key, None)


class KnownDevice:
    """What oldmemo's parse_message asks the session manager about the
    sender: its device id and identity key (for the sign bit)."""

    def __init__(self, device_id, identity_key):
        self.device_id = device_id
        self.identity_key = identity_key


class Directory:
    """The part of a session manager oldmemo.etree.parse_message uses."""

    def __init__(self, peer):
        self.peer = peer

    async def get_device_information(self, bare_jid):
        return frozenset(KnownDevice(device, bundle.identity_key)
                         for (jid, device), bundle in self.peer.bundles.items() if jid == bare_jid)

    async def refresh_device_list(self, namespace, bare_jid):
        raise RuntimeError("no device list for %s" % bare_jid)


class Peer:
    def __init__(self):
        self.backend = Backend(MemoryStorage())
        self.bundles = {}
        self.sessions = {}

    async def setup(self):
        while True:
            await self.backend.generate_pre_keys(25)
            bundle = await self.backend.get_bundle(OWN_JID, OWN_DEVICE)
            if WANT_SIGN is None or bundle.identity_key[31] >> 7 == WANT_SIGN:
                return
            self.backend = Backend(MemoryStorage())

    async def op_bundle(self, _req):
        bundle = await self.backend.get_bundle(OWN_JID, OWN_DEVICE)
        return {"xml": ET.tostring(lib_etree.serialize_bundle(bundle)).decode()}

    async def op_peer(self, req):
        key = (req["jid"], req["device"])
        self.bundles[key] = lib_etree.parse_bundle(ET.fromstring(req["xml"]), req["jid"], req["device"])
        return {}

    async def op_encrypt(self, req):
        key = (req["jid"], req["device"])
        if req.get("empty"):
            content, plain = await self.backend.encrypt_empty()
        else:
            text = req["text"]
            plaintext = (sce_wrap(text, OWN_JID, req["jid"]) if FLAVOUR == "twomemo"
                         else text.encode("utf-8"))
            content, plain = await self.backend.encrypt_plaintext(plaintext)
        session = self.sessions.get(key)
        if session is None:
            session, encrypted = await self.backend.build_session_active(
                key[0], key[1], self.bundles[key], plain)
            self.sessions[key] = session
        else:
            encrypted = await self.backend.encrypt_key_material(session, plain)
        kex = session.initiation is Initiation.ACTIVE and not session.confirmed
        message = Message(NAMESPACE, OWN_JID, OWN_DEVICE, content,
                          frozenset({(encrypted, session.key_exchange if kex else None)}))
        return {"xml": ET.tostring(lib_etree.serialize_message(message)).decode(), "kex": kex}

    async def op_decrypt(self, req):
        key = (req["jid"], req["device"])
        element = ET.fromstring(req["xml"])
        if FLAVOUR == "oldmemo":
            message = await lib_etree.parse_message(element, key[0], OWN_JID, Directory(self))
        else:
            message = lib_etree.parse_message(element, key[0])
        if message.device_id != key[1]:
            raise RuntimeError("sent by device %d, not %d" % (message.device_id, key[1]))
        mine = [(e, k) for e, k in message.keys
                if e.device_id == OWN_DEVICE and e.bare_jid == OWN_JID]
        if len(mine) != 1:
            raise RuntimeError("no key for this device")
        encrypted, kex = mine[0]
        session = self.sessions.get(key)
        if kex is not None and (session is None or not session.key_exchange.builds_same_session(kex)):
            session, plain = await self.backend.build_session_passive(key[0], key[1], kex, encrypted)
            await self.backend.delete_pre_key(session)
            self.sessions[key] = session
        else:
            if session is None:
                raise RuntimeError("no session with this device")
            plain = await self.backend.decrypt_key_material(session, encrypted)
        if message.content.empty:
            return {"empty": True}
        plaintext = await self.backend.decrypt_plaintext(message.content, plain)
        if FLAVOUR == "twomemo":
            return {"text": sce_unwrap(plaintext, key[0], OWN_JID)}
        return {"text": plaintext.decode("utf-8")}


async def main():
    peer = Peer()
    await peer.setup()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            answer = await getattr(peer, "op_" + req["op"])(req)
            answer["ok"] = True
        except Exception as e:  # an answer for the test, not a crash
            answer = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


asyncio.run(main())
