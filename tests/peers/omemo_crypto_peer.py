#!/usr/bin/env python3
"""An independent OMEMO implementation for confab's tests, at the crypto
layer: python-oldmemo / python-twomemo (with python-doubleratchet,
python-x3dh, python-xeddsa), the libraries slixmpp-omemo uses, driven
without XMPP.

    omemo_crypto_peer.py oldmemo|twomemo [0|1]

The optional last argument asks for an identity key whose Ed25519 form has
that sign bit (0.3 carries it beside the Curve25519 key: both must work).

One JSON request per line on stdin, one JSON answer per line on stdout.
Binary values are base64 of exactly what the XML elements carry (bundles go
through the libraries' own XML serializer and parser). Requests:

  {"op": "bundle"}                  -> this device's bundle
  {"op": "peer", "jid", "device", "bundle"}
                                    -> remember a peer device's bundle
  {"op": "encrypt", "jid", "device", "text"}
                                    -> {"key", "kex", "iv", "payload"}
  {"op": "encrypt", "jid", "device", "empty": true}
                                    -> {"key", "kex"}: an empty OMEMO message
                                       (key transport / heartbeat)
  {"op": "decrypt", "jid", "device", "key", "kex", "iv", "payload"}
                                    -> {"text"}, or {"empty": true} without
                                       "payload"

Every answer has "ok": true, or "ok": false and "error" (a failure to
decrypt is an answer, not a crash).
"""

import asyncio
import base64
import json
import sys
import xml.etree.ElementTree as ET

import omemo
from omemo.session import Initiation
from omemo.storage import Just, Nothing, Storage

FLAVOUR = sys.argv[1]
WANT_SIGN = int(sys.argv[2]) if len(sys.argv) > 2 else None
if FLAVOUR == "oldmemo":
    import oldmemo as lib
    from oldmemo import etree as lib_etree
    from oldmemo.oldmemo import (
        ContentImpl, EncryptedKeyMaterialImpl, KeyExchangeImpl, Oldmemo as Backend)
elif FLAVOUR == "twomemo":
    import twomemo as lib
    from twomemo import etree as lib_etree
    from twomemo.twomemo import (
        ContentImpl, EncryptedKeyMaterialImpl, KeyExchangeImpl, Twomemo as Backend)
else:
    sys.exit("usage: omemo_crypto_peer.py oldmemo|twomemo")

NS = "{%s}" % lib.oldmemo.NAMESPACE if FLAVOUR == "oldmemo" else "{%s}" % lib.twomemo.NAMESPACE
OWN_JID = "python@peer.test"
OWN_DEVICE = 31337


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


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text)


# Bundles as JSON: the texts and ids of the XML elements of each version.
if FLAVOUR == "oldmemo":
    def bundle_to_json(elt):
        spk = elt.find(NS + "signedPreKeyPublic")
        return {
            "ik": elt.find(NS + "identityKey").text,
            "spk": spk.text,
            "spk_id": int(spk.get("signedPreKeyId")),
            "spk_sig": elt.find(NS + "signedPreKeySignature").text,
            "prekeys": [[int(p.get("preKeyId")), p.text]
                        for p in elt.iter(NS + "preKeyPublic")],
        }

    def json_to_bundle(j):
        elt = ET.Element(NS + "bundle")
        ET.SubElement(elt, NS + "signedPreKeyPublic",
                      signedPreKeyId=str(j["spk_id"])).text = j["spk"]
        ET.SubElement(elt, NS + "signedPreKeySignature").text = j["spk_sig"]
        ET.SubElement(elt, NS + "identityKey").text = j["ik"]
        pks = ET.SubElement(elt, NS + "prekeys")
        for pk_id, pk in j["prekeys"]:
            ET.SubElement(pks, NS + "preKeyPublic", preKeyId=str(pk_id)).text = pk
        return elt
else:
    def bundle_to_json(elt):
        spk = elt.find(NS + "spk")
        return {
            "ik": elt.find(NS + "ik").text,
            "spk": spk.text,
            "spk_id": int(spk.get("id")),
            "spk_sig": elt.find(NS + "spks").text,
            "prekeys": [[int(p.get("id")), p.text] for p in elt.iter(NS + "pk")],
        }

    def json_to_bundle(j):
        elt = ET.Element(NS + "bundle")
        ET.SubElement(elt, NS + "spk", id=str(j["spk_id"])).text = j["spk"]
        ET.SubElement(elt, NS + "spks").text = j["spk_sig"]
        ET.SubElement(elt, NS + "ik").text = j["ik"]
        pks = ET.SubElement(elt, NS + "prekeys")
        for pk_id, pk in j["prekeys"]:
            ET.SubElement(pks, NS + "pk", id=str(pk_id)).text = pk
        return elt


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
        return {"bundle": bundle_to_json(lib_etree.serialize_bundle(bundle))}

    async def op_peer(self, req):
        key = (req["jid"], req["device"])
        self.bundles[key] = lib_etree.parse_bundle(
            json_to_bundle(req["bundle"]), req["jid"], req["device"])
        return {}

    async def op_encrypt(self, req):
        key = (req["jid"], req["device"])
        if req.get("empty"):
            content, plain = await self.backend.encrypt_empty()
        else:
            content, plain = await self.backend.encrypt_plaintext(req["text"].encode("utf-8"))
        session = self.sessions.get(key)
        if session is None:
            session, encrypted = await self.backend.build_session_active(
                key[0], key[1], self.bundles[key], plain)
            self.sessions[key] = session
        else:
            encrypted = await self.backend.encrypt_key_material(session, plain)
        kex = session.initiation is Initiation.ACTIVE and not session.confirmed
        data = encrypted.serialize()
        if kex:
            data = session.key_exchange.serialize(data)
            if FLAVOUR == "oldmemo":
                data = data[0]
        answer = {"key": b64(data), "kex": kex}
        if content.empty:
            return answer
        answer["payload"] = b64(content.ciphertext)
        if FLAVOUR == "oldmemo":
            answer["iv"] = b64(content.initialization_vector)
        return answer

    async def op_decrypt(self, req):
        key = (req["jid"], req["device"])
        data = unb64(req["key"])
        session = self.sessions.get(key)
        if req["kex"]:
            if FLAVOUR == "oldmemo":
                # The sign bit of the sender's Ed25519 key comes from its
                # bundle, as in oldmemo.etree.parse_message.
                sign = bool(self.bundles[key].identity_key[31] >> 7 & 1)
                kex, authenticated = KeyExchangeImpl.parse(data, sign)
            else:
                kex, authenticated = KeyExchangeImpl.parse(data)
            encrypted = EncryptedKeyMaterialImpl.parse(authenticated, key[0], key[1])
            if session is not None and session.key_exchange.builds_same_session(kex):
                plain = await self.backend.decrypt_key_material(session, encrypted)
            else:
                session, plain = await self.backend.build_session_passive(
                    key[0], key[1], kex, encrypted)
                await self.backend.delete_pre_key(session)
                self.sessions[key] = session
        else:
            if session is None:
                raise RuntimeError("no session with this device")
            encrypted = EncryptedKeyMaterialImpl.parse(data, key[0], key[1])
            plain = await self.backend.decrypt_key_material(session, encrypted)
        if "payload" not in req:
            return {"empty": True}
        if FLAVOUR == "oldmemo":
            content = ContentImpl(unb64(req["payload"]), unb64(req["iv"]))
        else:
            content = ContentImpl(unb64(req["payload"]))
        text = await self.backend.decrypt_plaintext(content, plain)
        return {"text": text.decode("utf-8")}


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
